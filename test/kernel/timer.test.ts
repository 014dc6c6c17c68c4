// Timers (kernel/time/timer.c): mod_timer/del_timer's return values, the jiffy and the context a
// callback runs in, each era's order for timers of one jiffy, del_timer_sync's wait and its lockdep
// and WARN reports, and schedule_timeout's return value; every expected value derived by hand from
// Linux's rules (HZ 250 unless said: a jiffy is 4 ms, msecs_to_jiffies rounds up).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../helpers.ts";
import {
  DEFINE_SPINLOCK,
  GFP_KERNEL,
  IRQ_HANDLED,
  TIMER_IRQSAFE,
  add_timer,
  add_timer_on,
  current,
  del_timer,
  del_timer_sync,
  disk,
  in_interrupt,
  in_irq,
  in_softirq,
  irqs_disabled,
  jiffies,
  kmalloc,
  kthread_run,
  ktime_get_ns,
  machine_costs,
  mod_timer,
  msecs_to_jiffies,
  msleep,
  preempt_count,
  request_irq,
  schedule_timeout,
  schedule_timeout_interruptible,
  schedule_timeout_uninterruptible,
  set_current_state,
  setup_timer,
  smp_processor_id,
  spin_lock,
  spin_lock_bh,
  spin_unlock,
  spin_unlock_bh,
  timer_list,
  timer_pending,
  timer_setup,
  udelay,
  wake_up_process,
  TASK_INTERRUPTIBLE,
  type Task,
} from "../../src/kernel/index.ts";

const TICK = 4_000_000; // ns, HZ 250
const M = (era: "2.6" | "6" = "2.6", extra: object = {}) => ({ cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 }, ...extra }) as const;
const text = (r: ReturnType<typeof run>, kind: string) => r.reports.filter((x) => x.kind === kind).map((x) => x.text.split("\n"));
const nop = function* nop_fn(_t: timer_list) {};

test("mod_timer returns whether the timer was pending; del_timer likewise; add_timer of a pending timer is a BUG", () => {
  const got: number[] = [];
  const r = inTask(() => Effect.gen(function* () {
    const t = new timer_list();
    timer_setup(t, nop, 0);
    got.push(mod_timer(t, jiffies() + 10)); // 0: was not pending
    got.push(mod_timer(t, jiffies() + 20)); // 1: was pending (re-armed)
    got.push(mod_timer(t, jiffies() + 20)); // 1: same expiry, the shortcut
    got.push(timer_pending(t) ? 1 : 0); // 1
    got.push(del_timer(t)); // 1: was pending
    got.push(del_timer(t)); // 0
    got.push(timer_pending(t) ? 1 : 0); // 0
    t.expires = jiffies() + 1;
    add_timer(t);
    got.push(timer_pending(t) ? 1 : 0); // 1
    yield* msleep(10); // it runs at the next jiffy
    got.push(timer_pending(t) ? 1 : 0, del_timer(t)); // 0, 0: it ran
    t.expires = jiffies() + 5;
    add_timer(t);
    add_timer(t); // BUG_ON(timer_pending(timer))
  }));
  assert.equal(got, [0, 1, 1, 1, 1, 0, 0, 1, 0, 0]);
  assert.equal(
    text(r, "bug").map((l) => l.slice(0, 3)),
    [["kernel BUG at kernel/timer.c: add_timer() of a pending timer!", "Pid: 3, comm: t Not tainted 2.6.34-mmsim #1", "Call Trace:"]],
  );
});

test("the callback runs at jiffy j0 + msecs_to_jiffies(ms), in softirq context on the CPU that armed it", () => {
  for (const [hz, ms, dj] of [
    [250, 10, 3], // 10 * 250 / 1000 = 2.5: 3 jiffies
    [100, 10, 1],
    [1000, 10, 10],
    [300, 10, 3],
    [250, 4, 1],
  ] as const) {
    const seen: { j: number; t: number; cpu: number; comm: string; pc: number; softirq: boolean; irq: boolean; intr: boolean; irqs_off: boolean }[] = [];
    let j0 = -1;
    let c: Record<string, number> = {};
    const r = run(
      inline(
        () =>
          void kthread_run(
            function* armer(_: null) {
              c = { ...machine_costs() };
              yield* msleep(7); // leave jiffy 0: j0 = 3 at HZ 250
              const t = new timer_list();
              timer_setup(
                t,
                function* my_timer_fn(_t: timer_list) {
                  seen.push({ j: jiffies(), t: ktime_get_ns(), cpu: smp_processor_id(), comm: current().comm, pc: preempt_count(), softirq: in_softirq(), irq: in_irq(), intr: in_interrupt(), irqs_off: irqs_disabled() });
                },
                0,
              );
              j0 = jiffies();
              assert.is(msecs_to_jiffies(ms), dj);
              mod_timer(t, j0 + msecs_to_jiffies(ms));
              yield* msleep(ms + 20); // the CPU idles meanwhile: NO_HZ arms its tick for the timer
            },
            null,
            "armer",
            { cpus: [1] },
          ),
        { cpus: 2, hz },
      ),
    );
    assert.is(r.failed, false);
    const tick = Math.round(1e9 / hz);
    // msleep(7) sleeps msecs_to_jiffies(7) + 1 jiffies from jiffy 0.
    assert.is(j0, Math.ceil((7 * hz) / 1000) + 1, `HZ ${hz}`);
    assert.equal(seen.length, 1);
    const s = seen[0]!;
    assert.equal({ ...s, t: 0 }, { j: j0 + dj, t: 0, cpu: 1, comm: "swapper/1", pc: 0x100, softirq: true, irq: false, intr: true, irqs_off: false }, `HZ ${hz}`);
    // At that jiffy's tick: the interrupt entry, the softirq entry and two interleaving points later.
    assert.is(s.t, (j0 + dj) * tick + c.irq_entry! + c.softirq_entry! + 2 * c.step!, `HZ ${hz}`);
  }
});

test("timers of one jiffy run in the order their bucket keeps: 2.6.34 first armed first, 6.1 last armed first", () => {
  for (const era of ["2.6", "6"] as const) {
    const order: string[] = [];
    inTask(() => Effect.gen(function* () {
      const mk = (name: string) => {
        const t = new timer_list();
        timer_setup(t, { [name]: function* (_t: timer_list) { order.push(name); } }[name]!, 0);
        return t;
      };
      const [a, b, c, early] = [mk("a"), mk("b"), mk("c"), mk("early")];
      const j = jiffies();
      mod_timer(a, j + 3);
      mod_timer(b, j + 3);
      mod_timer(early, j + 2);
      mod_timer(c, j + 3);
      yield* msleep(20);
    }), M(era));
    assert.equal(order, era === "2.6" ? ["early", "a", "b", "c"] : ["early", "c", "b", "a"], era);
  }
});

test("a periodic timer re-armed from its callback; add_timer_on runs on the CPU named; TIMER_IRQSAFE runs with interrupts off (6.1)", () => {
  const runs: number[] = [];
  const on: number[] = [];
  const irqsafe: boolean[] = [];
  let me = -1;
  inTask(() => Effect.gen(function* () {
    me = smp_processor_id();
    const tick = new timer_list();
    timer_setup(tick, function* poll(t: timer_list) {
      runs.push(jiffies());
      if (runs.length < 5) mod_timer(t, jiffies() + 2);
    }, 0);
    mod_timer(tick, jiffies() + 2);
    const remote = new timer_list();
    timer_setup(remote, function* remote_fn(_t: timer_list) {
      on.push(smp_processor_id());
    }, 0);
    remote.expires = jiffies() + 1;
    add_timer_on(remote, 1 - smp_processor_id());
    const safe = new timer_list();
    timer_setup(safe, function* safe_fn(_t: timer_list) {
      irqsafe.push(irqs_disabled());
    }, TIMER_IRQSAFE);
    mod_timer(safe, jiffies() + 1);
    yield* msleep(60);
  }), M("6"));
  assert.equal(runs, [2, 4, 6, 8, 10]);
  assert.equal(on, [1 - me]);
  assert.equal(irqsafe, [true]);
});

test("del_timer_sync waits for the callback running on the other CPU: returns 0 as it returns, a cache line later", () => {
  const st = { started: false, cb_end: 0, after: 0, ret: -1, pending: true };
  let costs: Record<string, number> = {};
  run(
    inline(() => {
      const t = new timer_list();
      timer_setup(t, function* slow_fn(_t: timer_list) {
        st.started = true;
        yield* udelay(100);
        st.cb_end = ktime_get_ns();
      }, 0);
      kthread_run(function* armer(_: null) {
        mod_timer(t, jiffies() + 1);
        yield* msleep(20);
      }, null, "armer", { cpus: [0] });
      kthread_run(function* stopper(_: null) {
        costs = { ...machine_costs() };
        while (!st.started) yield* udelay(1);
        st.ret = yield* del_timer_sync(t);
        st.after = ktime_get_ns();
        st.pending = timer_pending(t);
      }, null, "stopper", { cpus: [1] });
    }),
  );
  assert.is(st.ret, 0);
  assert.is(st.pending, false);
  assert.is(st.after, st.cb_end + costs.line_transfer!);
});

test("del_timer_sync under a lock the callback takes: lockdep's circular dependency through the timer's map (2.6.34)", () => {
  const r = run(
    inline(() => {
      const lock = DEFINE_SPINLOCK("&dev->lock");
      const t = new timer_list("&dev->timer");
      setup_timer(t, function* dev_timeout(_d: null) {
        yield* spin_lock(lock);
        yield* spin_unlock(lock);
      }, null);
      kthread_run(function* dev_close(_: null) {
        mod_timer(t, jiffies() + 1);
        yield* msleep(10); // the callback runs once: (&dev->timer) -> &dev->lock
        mod_timer(t, jiffies() + 1);
        yield* spin_lock_bh(lock);
        yield* del_timer_sync(t); // &dev->lock -> (&dev->timer)
        yield* spin_unlock_bh(lock);
      }, null, "t");
    }, M("2.6", { lockdep: true })),
  );
  // pids: ksoftirqd/0 1, ksoftirqd/1 2, kswapd0 3, t 4. The callback takes the lock in softirq
  // context (IN-SOFTIRQ-W) with hardirqs on (HARDIRQ-ON-W): "+.-"; the map likewise.
  assert.equal(text(r, "lockdep"), [
    [
      "=======================================================",
      "[ INFO: possible circular locking dependency detected ]",
      "2.6.34-mmsim #1",
      "-------------------------------------------------------",
      "t/4 is trying to acquire lock:",
      " (&dev->timer){+.-...}, at: dev_close",
      "",
      "but task is already holding lock:",
      " (&dev->lock){+.-...}, at: dev_close",
      "",
      "which lock already depends on the new lock.",
      "",
      "",
      "the existing dependency chain (in reverse order) is:",
      "",
      "-> #1 (&dev->lock){+.-...}:",
      "       lock_acquire",
      "       _raw_spin_lock",
      "       dev_timeout",
      "       run_timer_softirq",
      "       __do_softirq",
      "       irq_exit",
      "       smp_apic_timer_interrupt",
      "       apic_timer_interrupt",
      "",
      "-> #0 (&dev->timer){+.-...}:",
      "       __lock_acquire",
      "       lock_acquire",
      "       del_timer_sync",
      "       dev_close",
      "       kthread",
      "",
      "other info that might help us debug this:",
      "",
      "1 lock held by t/4:",
      " #0:  (&dev->lock){+.-...}, at: dev_close",
      "",
      "stack backtrace:",
      "Pid: 4, comm: t Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " __lock_acquire",
      " lock_acquire",
      " del_timer_sync",
      " dev_close",
      " kthread",
    ],
  ]);
});

test("6.1: timer_setup's map is named ((&dev->timer)) and the chain goes through call_timer_fn", () => {
  const r = run(
    inline(() => {
      const lock = DEFINE_SPINLOCK("&dev->lock");
      const t = new timer_list("&dev->timer");
      timer_setup(t, function* dev_timeout(_t: timer_list) {
        yield* spin_lock(lock);
        yield* spin_unlock(lock);
      }, 0);
      kthread_run(function* dev_close(_: null) {
        mod_timer(t, jiffies() + 1);
        yield* msleep(10);
        yield* spin_lock_bh(lock);
        yield* del_timer_sync(t);
        yield* spin_unlock_bh(lock);
      }, null, "t");
    }, M("6", { lockdep: true })),
  );
  const lines = text(r, "lockdep")[0]!;
  assert.equal(lines.slice(0, 6), [
    "======================================================",
    "WARNING: possible circular locking dependency detected",
    "6.1.0-mmsim #1 Not tainted",
    "------------------------------------------------------",
    "t/4 is trying to acquire lock:",
    // a bare lockdep_map's wait type is LD_WAIT_INV: {0:0}.
    "c1800000 ((&dev->timer)){+.-.}-{0:0}, at: dev_close", // the map is the first instance lockdep met
  ]);
  const chain = lines.slice(lines.indexOf("-> #1 (&dev->lock){+.-.}-{2:2}:"), lines.indexOf("-> #0 ((&dev->timer)){+.-.}-{0:0}:"));
  assert.equal(chain, [
    "-> #1 (&dev->lock){+.-.}-{2:2}:",
    "       _raw_spin_lock",
    "       dev_timeout",
    "       call_timer_fn",
    "       __run_timers",
    "       run_timer_softirq",
    "       __do_softirq",
    "       irq_exit",
    "       smp_apic_timer_interrupt",
    "       apic_timer_interrupt",
    "",
  ]);
  assert.ok(lines.includes("  lock(&dev->lock);"));
});

test("del_timer_sync from the timer's own callback: recursive locking on its map, then the CPU spins on itself (a soft lockup)", () => {
  const r = run(
    inline(() => {
      const t = new timer_list("&dev->timer");
      setup_timer(t, function* dev_timeout(_d: null) {
        yield* del_timer_sync(t);
      }, null);
      kthread_run(function* starter(_: null) {
        mod_timer(t, jiffies() + 1);
        yield* msleep(10);
      }, null, "t", { cpus: [0] });
    }, M("2.6", { lockdep: true })),
  );
  assert.equal(r.reports.map((x) => x.kind), ["lockdep", "soft_lockup"]);
  assert.equal(text(r, "lockdep")[0]!.slice(0, 13), [
    "=============================================",
    "[ INFO: possible recursive locking detected ]",
    "2.6.34-mmsim #1",
    "---------------------------------------------",
    "swapper/0/0 is trying to acquire lock:",
    " (&dev->timer){+.-...}, at: dev_timeout",
    "",
    "but task is already holding lock:",
    " (&dev->timer){+.-...}, at: __do_softirq",
    "",
    "other info that might help us debug this:",
    "1 lock held by swapper/0/0:",
    " #0:  (&dev->timer){+.-...}, at: __do_softirq",
  ]);
  assert.equal(text(r, "soft_lockup")[0]!.slice(0, 2), [
    "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [swapper/0:0]",
    "deadlock: local-timer waits for &dev->timer",
  ]);
});

test("6.1 warns when del_timer_sync is called in hardirq context for a timer without TIMER_IRQSAFE", () => {
  const DISK = { name: "sdb", irq: 15, minNs: 10_000, maxNs: 10_000 };
  for (const flags of [0, TIMER_IRQSAFE]) {
    const r = run(
      inline(() => {
        const t = new timer_list();
        timer_setup(t, nop, flags);
        request_irq(15, function* sdb_interrupt(_irq: number, _dev: unknown) {
          disk("sdb").reap();
          yield* del_timer_sync(t);
          return IRQ_HANDLED;
        }, 0, "sdb", null);
        kthread_run(function* submitter(_: null) {
          mod_timer(t, jiffies() + 100);
          disk("sdb").submit(1);
          yield* msleep(1);
        }, null, "t", { cpus: [0] });
      }, { cpus: 1, disks: [DISK], memory: { arch: "x86_64", kernel: "6", mb: 64 } }),
    );
    if (flags === TIMER_IRQSAFE) {
      assert.equal(r.reports, []);
      continue;
    }
    // pids: ksoftirqd/0 1, kswapd0 2, t 3 (asleep in msleep: the idle task is current).
    assert.equal(text(r, "bug"), [
      [
        "WARNING: CPU: 0 PID: 0 at kernel/time/timer.c del_timer_sync",
        "CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-mmsim #1",
        "Call Trace:",
        " <IRQ>",
        " warn_slowpath_null",
        " del_timer_sync",
        " sdb_interrupt",
        " handle_IRQ_event",
        " handle_edge_irq",
        " do_IRQ",
        " common_interrupt",
        " </IRQ>",
      ],
    ]);
  }
});

test("a timer callback that allocates with GFP_KERNEL: might_sleep's report from softirq context", () => {
  const r = run(
    inline(() => {
      const t = new timer_list();
      timer_setup(t, function* refill_fn(_t: timer_list) {
        yield* kmalloc(64, GFP_KERNEL);
      }, 0);
      kthread_run(function* starter(_: null) {
        mod_timer(t, jiffies() + 1);
        yield* msleep(10); // CPU0 idles: the callback interrupts swapper/0
      }, null, "t", { cpus: [0] });
    }, M("2.6")),
  );
  assert.equal(text(r, "might_sleep"), [
    [
      "BUG: sleeping function called from invalid context at mm/slab.c:3101",
      "in_atomic(): 1, irqs_disabled(): 0, pid: 0, name: swapper/0",
      "no locks held by swapper/0/0.",
      "Pid: 0, comm: swapper/0 Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " __might_sleep",
      " __kmalloc",
      " refill_fn",
      " run_timer_softirq",
      " __do_softirq",
      " irq_exit",
      " smp_apic_timer_interrupt",
      " apic_timer_interrupt",
    ],
  ]);
});

test("schedule_timeout returns the jiffies left: 0 when the timeout passed, the rest when woken early", () => {
  const got: Record<string, number> = {};
  let sleeper: Task | null = null;
  run(
    inline(() => {
      sleeper = kthread_run(function* sleeper_fn(_: null) {
        got.j0 = jiffies();
        got.left_full = yield* schedule_timeout_uninterruptible(3); // sleeps jiffies 0 -> 3
        got.j1 = jiffies();
        got.left_early = yield* schedule_timeout_interruptible(100); // woken at jiffy 9: 103 - 9
        got.j2 = jiffies();
        set_current_state(TASK_INTERRUPTIBLE);
        got.left_zero = yield* schedule_timeout(0);
      }, null, "sleeper", { cpus: [0] });
      kthread_run(function* waker(_: null) {
        yield* msleep(30); // msecs_to_jiffies(30) + 1 = 8 + 1 jiffies: wakes at jiffy 9
        wake_up_process(sleeper!);
      }, null, "waker", { cpus: [1] });
    }),
  );
  assert.equal(got, { j0: 0, left_full: 0, j1: 3, left_early: 94, j2: 9, left_zero: 0 });
});

test("a timer made once serves several runs: each run starts with it idle", () => {
  const t = new timer_list();
  const runs: number[] = [];
  timer_setup(t, function* once_fn(_t: timer_list) {
    runs.push(jiffies());
  }, 0);
  for (const wait of [false, true]) {
    const got: number[] = [];
    inTask(() =>
      Effect.gen(function* () {
        got.push(timer_pending(t) ? 1 : 0, mod_timer(t, jiffies() + 2));
        if (wait) yield* msleep(20);
      }),
    );
    assert.equal(got, [0, 0]); // the first run ended with it pending; the second starts afresh
  }
  assert.equal(runs, [2]);
});

test.run();
