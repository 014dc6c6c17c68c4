// del_timer_sync() under a lock the timer's callback takes (2 CPUs, kernel 2.6, lockdep on). A
// NIC driver's watchdog timer (setup_timer, mod_timer) runs every jiffy on CPU0: it looks at the
// TX ring under &priv->lock and re-arms itself while the interface is up. ifdown, on CPU1,
// marks the interface down under the lock, stops the DMA engine, and stops the timer.
// - del-timer-sync-lock: ifdown calls del_timer_sync() still holding &priv->lock. If the callback
//   is running on CPU0 at that moment, it spins on the lock ifdown holds while ifdown waits for
//   it to return: a deadlock. lockdep sees the two orders (the callback takes &priv->lock inside
//   the timer's lockdep map, del_timer_sync() takes the map inside &priv->lock) and reports
//   "possible circular locking dependency detected" on every seed, before anything deadlocks
//   (expected); on the seeds where CPU0's tick lands inside ifdown's critical section the machine
//   then locks up, and the watchdog reports it (expected too).
// - del-timer-sync-lock-fixed: the lock covers the flag only; del_timer_sync() comes after
//   spin_unlock_bh(), so it may wait for a running callback, which can take the lock. Clean.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SPINLOCK, del_timer_sync, jiffies, kthread_run, mod_timer, msleep, setup_timer, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, timer_list, timer_pending, udelay,
} from "../../src/kernel/index.ts";

interface State {
  up: boolean;
  /** Watchdog runs, and runs after del_timer_sync() returned. */
  checks: number;
  after_sync: number;
  /** del_timer_sync()'s return value (1: it was pending), -1 until it returns (a deadlock). */
  deleted: number;
  pending_after: boolean;
}

function timer_lock(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "del_timer_sync() after dropping the lock the timer callback takes: clean"
      : "del_timer_sync() while holding a lock the timer callback takes: lockdep's circular dependency, a lockup on some seeds",
    machine: { cpus: 2, lockdep: true },
    expected_reports: fixed ? [] : ["lockdep", "soft_lockup"],
    setup() {
      const st: State = { up: true, checks: 0, after_sync: 0, deleted: -1, pending_after: false };
      const lock = DEFINE_SPINLOCK("&priv->lock");
      const watchdog = new timer_list("&priv->watchdog");

      /** The timer callback: softirq context, on the CPU that armed it. */
      function* nic_watchdog(_data: null) {
        yield* spin_lock(lock);
        st.checks++;
        if (st.deleted >= 0) st.after_sync++;
        yield* udelay(20); // look at the TX ring
        const up = st.up;
        yield* spin_unlock(lock);
        if (up) mod_timer(watchdog, jiffies() + 1);
      }
      setup_timer(watchdog, nic_watchdog, null);

      kthread_run(
        function* ifup(_: null) {
          mod_timer(watchdog, jiffies() + 1);
          while (st.up) yield* msleep(4);
        },
        null,
        "ifup",
        { cpus: [0] },
      );
      kthread_run(
        function* ifdown(_: null) {
          yield* msleep(20);
          yield* spin_lock_bh(lock);
          st.up = false;
          yield* udelay(200); // stop the DMA engine
          if (!fixed) st.deleted = yield* del_timer_sync(watchdog); // wrong: the callback takes the lock
          yield* spin_unlock_bh(lock);
          if (fixed) st.deleted = yield* del_timer_sync(watchdog);
          st.pending_after = timer_pending(watchdog);
        },
        null,
        "ifdown",
        { cpus: [1] },
      );
      return st;
    },
    check(st, expect) {
      expect.that(st.checks > 1, `the watchdog ran ${st.checks} times`);
      if (st.deleted < 0) return; // deadlocked (the lockup report says where)
      expect.that(!st.pending_after, "the watchdog timer is still pending after del_timer_sync()");
      expect.equal(st.after_sync, 0, "watchdog runs after del_timer_sync() returned");
    },
  });
}

export const delTimerSyncLock = timer_lock("del-timer-sync-lock", false);
export const delTimerSyncLockFixed = timer_lock("del-timer-sync-lock-fixed", true);
