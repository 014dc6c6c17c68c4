// Sleeping inside an RCU read-side critical section (2 CPUs, kernel 6 with CONFIG_PREEMPT, so
// preemptible RCU). A lookup walks the device table under rcu_read_lock() and, for the entry it
// finds, takes the entry's mutex to update it.
// - rcu-sleep-in-reader: mutex_lock() inside the read-side section. With PREEMPT_RCU the
//   reader runs with preemption on, so in_atomic() is 0, but __might_resched() counts the RCU
//   nesting: "BUG: sleeping function called from invalid context at kernel/mutex.c:94" with
//   "preempt_count: 0, expected: 0" and "RCU nest depth: 1, expected: 0", rcu_read_lock among
//   the held locks (expected). (On 2.6.34's TREE_RCU, rcu_read_lock() disables preemption: the
//   same code is "in_atomic(): 1".)
// - rcu-sleep-in-reader-fixed: the lookup only finds the entry under rcu_read_lock(); the mutex
//   is taken after rcu_read_unlock() (the entry is pinned otherwise in real code, a reference
//   count): no report.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { DEFINE_MUTEX, kthread_run, msleep, mutex_lock, mutex_unlock, rcu_dereference, rcu_read_lock, rcu_read_unlock, shared } from "../../src/kernel/index.ts";

export interface State {
  updated: number;
}

function rcu_sleep(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the mutex is taken after rcu_read_unlock(): no report"
      : "mutex_lock() inside rcu_read_lock() on a PREEMPT_RCU kernel: the might_sleep report with 'RCU nest depth: 1' (expected)",
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 32 } },
    ...(fixed ? {} : { expected_reports: ["might_sleep" as const] }),
    setup() {
      const st: State = { updated: 0 };
      const entry = { lock: DEFINE_MUTEX("dev_entry_mutex"), stats: 0 };
      const dev_table = shared<typeof entry | null>(entry);
      kthread_run(
        function* dev_update(_: null) {
          for (let i = 0; i < 3; i++) {
            rcu_read_lock();
            const e = yield* rcu_dereference(dev_table);
            if (!fixed && e !== null) {
              yield* mutex_lock(e.lock); // wrong: may sleep inside a read-side section
              e.stats++;
              yield* mutex_unlock(e.lock);
            }
            yield* rcu_read_unlock();
            if (fixed && e !== null) {
              yield* mutex_lock(e.lock);
              e.stats++;
              yield* mutex_unlock(e.lock);
            }
            yield* msleep(1);
          }
          st.updated = entry.stats;
        },
        null,
        "dev_update",
      );
      return st;
    },
    check(st, expect) {
      expect.equal(st.updated, 3, "entry updates");
    },
  });
}

export const rcuSleepInReader = rcu_sleep("rcu-sleep-in-reader", false);
export const rcuSleepInReaderFixed = rcu_sleep("rcu-sleep-in-reader-fixed", true);
