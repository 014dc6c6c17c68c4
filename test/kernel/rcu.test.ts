// RCU (src/kernel/rcu/): grace periods against readers, callbacks in RCU_SOFTIRQ, and the
// reports, with the expected values worked out from Linux's rules. HZ 250: a tick every 4 ms,
// at multiples of 4 ms on every busy CPU; taking an interrupt costs 500 ns, entering the
// softirqs 200 ns, a wake-up 300 ns, a context switch 1500 ns, an interleaving point 50 ns.
// Pids on 2 CPUs: ksoftirqd/0 1, ksoftirqd/1 2; with memory, kswapd0 3, so scenario tasks
// start at 4 (3 without memory).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inline, run } from "../helpers.ts";
import {
  DEFINE_MUTEX,
  DEFINE_SPINLOCK,
  GFP_KERNEL,
  call_rcu,
  in_softirq,
  kfree_rcu,
  kmalloc,
  kthread_run,
  ktime_get_ns,
  msleep,
  mutex_lock,
  mutex_unlock,
  rcu_barrier,
  rcu_dereference,
  rcu_head,
  rcu_read_lock,
  rcu_read_unlock,
  shared,
  smp_processor_id,
  spin_lock,
  spin_unlock,
  synchronize_rcu,
  udelay,
} from "../../src/kernel/index.ts";
import type { MachineSpec } from "../../src/harness/scenario.ts";
import type { RunResult } from "../../src/harness/run.ts";
import { rcuUseAfterFree, rcuUseAfterFreeFixed } from "../../scenarios/mm/rcu-use-after-free.ts";
import { rcuSleepInReader, rcuSleepInReaderFixed } from "../../scenarios/teach/rcu-sleep.ts";

/** No random delays (the preemption-bounded walk with none): virtual times are the costs alone; ties are still drawn. */
const EXACT = { traceAll: true, strategy: { name: "pb", preemptions: 0 } } as const;

const K6: MachineSpec = { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 } };
const K26: MachineSpec = { cpus: 2, memory: { arch: "x86_64", kernel: "2.6", mb: 64 } };

/** The rcu_grace_period events ("rcu_preempt 1 start" ...) with their time and CPU. */
const gp_events = (r: RunResult): string[] => r.traceAll!.filter((e) => e.name === "rcu_grace_period").map((e) => `${e.ts} CPU${e.cpu} ${e.detail}`);

/**
 * A reader on CPU1 inside rcu_read_lock() for 10 ms of udelay, then 10 ms more outside it; an
 * updater on CPU0 calls synchronize_rcu() 1 ms in.
 */
function reader_and_updater(machine: MachineSpec) {
  const log: string[] = [];
  const scn = inline(() => {
    kthread_run(
      function* reader(_: null) {
        rcu_read_lock();
        yield* udelay(10_000);
        log.push(`unlock ${ktime_get_ns()}`);
        yield* rcu_read_unlock();
        yield* udelay(10_000);
        log.push(`done ${ktime_get_ns()}`);
      },
      null,
      "reader",
      { cpus: [1] },
    );
    kthread_run(
      function* updater(_: null) {
        yield* udelay(1000);
        log.push(`sync ${ktime_get_ns()}`);
        yield* synchronize_rcu();
        log.push(`back ${ktime_get_ns()}`);
      },
      null,
      "updater",
      { cpus: [0] },
    );
  }, machine);
  const r = run(scn, EXACT);
  return { r, log };
}

test("PREEMPT_RCU: synchronize_rcu waits for the reader that was inside its section, then for the reader's CPU's next tick", () => {
  const { r, log } = reader_and_updater(K6);
  assert.equal(r.reports, []);
  // The updater calls synchronize_rcu at 1.0049 ms: GP 1 starts; CPU0 reports at once (the
  // updater's switch to idle), CPU1 owes it. The reader leaves its section at 10.00435 ms.
  // CPU1's ticks at 4 and 8 ms (+500 ns to take the interrupt) found it inside rcu_read_lock(),
  // its 12 ms tick outside: the QS that ends the GP, at 12_000_500. CPU0 is idle but keeps its
  // tick for the callback; its 12 ms tick ran just before CPU1's (a tie), so the callback is
  // ready at its 16 ms tick: RCU_SOFTIRQ entered at 16_000_500 + 200 + 50 (interrupts on),
  // wakeme_after_rcu's wake-up 300 ns later, the updater back after the 1500 ns switch.
  assert.equal(log, ["sync 1004900", "unlock 10004350", "back 16002550", "done 20005900"]);
  assert.equal(gp_events(r), ["1004900 CPU0 rcu_preempt 1 start", "12000500 CPU1 rcu_preempt 1 end"]);
  const ticks12 = r.traceAll!.filter((e) => e.ts === 12_000_500).map((e) => `CPU${e.cpu} ${e.name}`);
  assert.equal(ticks12.slice(0, 3), ["CPU0 local_timer_entry", "CPU0 local_timer_exit", "CPU1 rcu_grace_period"]);
  const softirq = r.traceAll!.find((e) => e.name === "softirq_entry" && e.detail.includes("RCU"))!;
  assert.equal([softirq.ts, softirq.cpu], [16_000_750, 0]);
  const wake = r.traceAll!.find((e) => e.name === "sched_wakeup" && e.detail.startsWith("comm=updater"))!;
  assert.equal([wake.ts, wake.who], [16_001_050, "swapper/0-0"]);
});

test("2.6.34 TREE_RCU: the reader has preemption off; the GP ends when the forced reschedule passes it through schedule()", () => {
  const { r, log } = reader_and_updater(K26);
  assert.equal(r.reports, []);
  // rcu_read_lock() is preempt_disable(): ticks on a busy CPU are never quiescent (no user
  // mode here). CPU1's 12 ms tick comes 10.9956 ms into the GP, its 16 ms tick 14.9956 ms in:
  // past 3 jiffies (12 ms), force_quiescent_state sets need_resched on CPU1 (its own tick), and
  // on the way out of that interrupt the task is preempted (CONFIG_PREEMPT; preemption is back
  // on since 10.00435 ms): schedule() is the QS, still at 16_000_500. CPU0's 16 ms tick came
  // after CPU1's this time and ran the callback.
  assert.equal(gp_events(r), ["1004900 CPU0 rcu_sched 1 start", "16000500 CPU1 rcu_sched 1 end"]);
  assert.equal(log, ["sync 1004900", "unlock 10004350", "back 16002550", "done 20005900"]);
});

test("without CONFIG_PREEMPT a reader's CPU passes a QS only when its task schedules: here at its exit", () => {
  const { r, log } = reader_and_updater({ ...K6, preempt: false });
  assert.equal(r.reports, []);
  // The forced reschedule at 16 ms only sets need_resched; the reader never reaches a
  // preemption point, and its exit at 20.0059 ms is its CPU's QS. CPU0's next tick, 24 ms.
  assert.equal(log, ["sync 1004900", "unlock 10004350", "done 20005900", "back 24002550"]);
  assert.equal(gp_events(r), ["1004900 CPU0 rcu_sched 1 start", "20005900 CPU1 rcu_sched 1 end"]);
});

test("PREEMPT_RCU: a reader preempted inside its section holds up the GP until its rcu_read_unlock (one CPU)", () => {
  const log: string[] = [];
  const scn = inline(
    () => {
      kthread_run(
        function* reader(_: null) {
          rcu_read_lock();
          yield* udelay(150_000);
          log.push(`unlock ${ktime_get_ns()}`);
          yield* rcu_read_unlock();
          yield* udelay(10_000);
        },
        null,
        "reader",
      );
      kthread_run(
        function* updater(_: null) {
          log.push(`sync ${ktime_get_ns()}`);
          yield* synchronize_rcu();
          log.push(`back ${ktime_get_ns()}`);
        },
        null,
        "updater",
      );
    },
    { ...K6, cpus: 1 },
  );
  const r = run(scn, EXACT);
  assert.equal(r.reports, []);
  // The reader's 100 ms slice (25 ticks) ends at the 100 ms tick: it is preempted inside its
  // section (100_000_500 + the 1500 ns switch) and goes on the blocked-readers list. The
  // updater's synchronize_rcu starts GP 1, which the blocked reader holds up; the CPU's own QS
  // comes with the updater's switch away. The reader's rcu_read_unlock ends the GP on the spot;
  // the callback runs at the next tick, 152 ms, and wakes the updater, which gets the CPU when
  // the reader exits (FIFO run queue, no wake-up preemption).
  assert.equal(log, ["sync 100002000", "unlock 150028000", "back 160031600"]);
  assert.equal(gp_events(r), ["100002000 CPU0 rcu_preempt 1 start", "150028000 CPU0 rcu_preempt 1 end"]);
  const wake = r.traceAll!.find((e) => e.name === "sched_wakeup" && e.detail.startsWith("comm=updater"))!;
  assert.equal([wake.ts, wake.who], [152_001_050, "reader-3"]);
});

test("call_rcu: the callback runs in RCU_SOFTIRQ on the CPU that queued it, after the GP; rcu_barrier waits for it", () => {
  const seen: string[] = [];
  class obj extends rcu_head {
    constructor(readonly id: number) {
      super();
    }
  }
  const scn = inline(() => {
    kthread_run(
      function* queuer(_: null) {
        yield* call_rcu(new obj(7), function* free_obj(h: obj) {
          seen.push(`cb ${h.id} cpu${smp_processor_id()} softirq=${in_softirq()} at ${ktime_get_ns()}`);
        });
        yield* rcu_barrier();
        seen.push(`barrier ${ktime_get_ns()}`);
      },
      null,
      "queuer",
      { cpus: [1] },
    );
  }, K6);
  const r = run(scn, EXACT);
  assert.equal(r.reports, []);
  // The queuer runs on CPU1 (kswapd0 was queued on CPU0). GP 1 starts at the call (3350: CPU1
  // owes it a QS; CPU0 runs kswapd0 until 3400, then idles: it reports then). call_rcu's
  // interleaving point (50 ns), then rcu_barrier (6.1: a barrier callback on CPU1 only, the CPU
  // with callbacks) sleeps: its __schedule is CPU1's QS, GP 1 ends, GP 2 starts for the
  // barrier's callback, and CPU1 entering the idle loop 50 ns later ends it. CPU1's 4 ms tick
  // finds both callbacks ready and invokes them in order in its RCU_SOFTIRQ (4_000_500 + 250).
  assert.equal(gp_events(r), ["3350 CPU1 rcu_preempt 1 start", "3400 CPU1 rcu_preempt 1 end", "3400 CPU1 rcu_preempt 2 start", "3450 CPU1 rcu_preempt 2 end"]);
  assert.equal(seen, ["cb 7 cpu1 softirq=true at 4000750", "barrier 4002550"]);
});

test("kfree_rcu: the kfree comes from the RCU softirq after the GP", () => {
  const scn = inline(() => {
    kthread_run(
      function* freer(_: null) {
        const p = yield* kmalloc(64, GFP_KERNEL);
        yield* kfree_rcu(p);
        yield* msleep(10);
      },
      null,
      "freer",
    );
  }, K6);
  const r = run(scn, EXACT);
  assert.equal(r.reports, []);
  const frees = r.traceAll!.filter((e) => e.name === "kfree");
  // The freer runs on CPU1 (kswapd0 was queued on CPU0). GP 1 starts at kfree_rcu and ends
  // when the freer sleeps (CPU0 idle by then); CPU1's next tick, 4 ms, runs the callback in its
  // RCU_SOFTIRQ: the kfree, from rcu_do_batch, at 4_000_500 + 250.
  assert.equal(frees.map((e) => [e.ts, e.cpu, e.who, e.detail]), [[4_000_750, 1, "swapper/1-0", "call_site=rcu_do_batch ptr=88003c003c0"]]);
  assert.ok(gp_events(r)[1]!.endsWith("rcu_preempt 1 end"));
});

test("might_sleep inside rcu_read_lock (6.1, PREEMPT_RCU): in_atomic() 0, the RCU nest depth, rcu_read_lock among the held locks", () => {
  const scn = (machine: MachineSpec) =>
    inline(() => {
      const m = DEFINE_MUTEX("cfg_mutex");
      kthread_run(
        function* lookup(_: null) {
          rcu_read_lock();
          rcu_read_lock();
          yield* mutex_lock(m); // wrong: may sleep inside a read-side section
          yield* mutex_unlock(m);
          yield* rcu_read_unlock();
          yield* rcu_read_unlock();
        },
        null,
        "t",
      );
    }, machine);
  const r = run(scn(K6));
  assert.equal(r.reports.map((x) => x.kind), ["might_sleep"]);
  assert.is(
    r.reports[0]!.text,
    [
      "BUG: sleeping function called from invalid context at kernel/mutex.c:94",
      "in_atomic(): 0, irqs_disabled(): 0, non_block: 0, pid: 4, name: t",
      "preempt_count: 0, expected: 0",
      "RCU nest depth: 2, expected: 0",
      "2 locks held by t/4:",
      " #0:  (rcu_read_lock){....}, at: rcu_read_lock",
      " #1:  (rcu_read_lock){....}, at: rcu_read_lock",
      "CPU: 1 PID: 4 Comm: t Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " __might_resched",
      " __might_sleep",
      " mutex_lock",
      " lookup",
      " kthread",
      " </TASK>",
    ].join("\n"),
  );
  // With lockdep: rcu_lock_map's entry as 6.1 prints it, at the function that took it.
  const l = run(scn({ ...K6, lockdep: true }));
  const text = l.reports[0]!.text.split("\n");
  assert.equal(text.slice(4, 7), ["2 locks held by t/4:", " #0: ffffffff827fffc0 (rcu_read_lock){....}-{1:2}, at: lookup", " #1: ffffffff827fffc0 (rcu_read_lock){....}-{1:2}, at: lookup"]);
  // 2.6.34 (TREE_RCU): rcu_read_lock() is preempt_disable(): in_atomic() 1, no RCU line.
  const old = run(scn(K26));
  assert.equal(old.reports[0]!.text.split("\n").slice(0, 4), ["BUG: sleeping function called from invalid context at kernel/mutex.c:94", "in_atomic(): 1, irqs_disabled(): 0, pid: 4, name: t", "2 locks held by t/4:", " #0:  (rcu_read_lock){....}, at: rcu_read_lock"]);
});

test("rcu_read_lock among spinlocks in a held-lock listing: in the order they were taken", () => {
  const scn = inline(() => {
    const a = DEFINE_SPINLOCK("a_lock");
    const b = DEFINE_SPINLOCK("b_lock");
    const m = DEFINE_MUTEX("m");
    kthread_run(
      function* nested(_: null) {
        yield* spin_lock(a);
        rcu_read_lock();
        yield* spin_lock(b);
        yield* mutex_lock(m);
      },
      null,
      "t",
    );
  }, K6);
  const r = run(scn);
  assert.equal(r.reports[0]!.text.split("\n").slice(4, 8), ["3 locks held by t/4:", " #0:  (a_lock){....}, at: spin_lock", " #1:  (rcu_read_lock){....}, at: rcu_read_lock", " #2:  (b_lock){....}, at: spin_lock"]);
});

/** rcu_dereference() outside rcu_read_lock(), twice from one site and once from another. */
const deref_outside = (machine: MachineSpec) =>
  inline(() => {
    const gp = shared(0);
    kthread_run(
      function* lookup(_: null) {
        yield* rcu_dereference(gp, "drivers/net/cfg.c:42");
        yield* rcu_dereference(gp, "drivers/net/cfg.c:42");
        yield* rcu_dereference(gp, "drivers/net/cfg.c:57");
        rcu_read_lock();
        yield* rcu_dereference(gp, "drivers/net/cfg.c:60"); // fine
        yield* rcu_read_unlock();
      },
      null,
      "t",
    );
  }, machine);

test("lockdep-RCU, 6.1: rcu_dereference outside a reader is 'suspicious RCU usage', once per call site", () => {
  assert.equal(run(deref_outside(K6)).reports, []); // no lockdep, no check
  const r = run(deref_outside({ ...K6, lockdep: true }));
  assert.equal(r.reports.map((x) => [x.kind, x.title]), [
    ["lockdep", "WARNING: suspicious RCU usage"],
    ["lockdep", "WARNING: suspicious RCU usage"],
  ]);
  assert.is(
    r.reports[0]!.text,
    [
      "=============================",
      "WARNING: suspicious RCU usage",
      "6.1.0-mmsim #1 Not tainted",
      "-----------------------------",
      "drivers/net/cfg.c:42 suspicious rcu_dereference_check() usage!",
      "",
      "other info that might help us debug this:",
      "",
      "",
      "rcu_scheduler_active = 2, debug_locks = 1",
      "no locks held by t/4.",
      "",
      "stack backtrace:",
      "CPU: 1 PID: 4 Comm: t Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " lockdep_rcu_suspicious",
      " lookup",
      " kthread",
      " </TASK>",
    ].join("\n"),
  );
  assert.ok(r.reports[1]!.text.includes("\ndrivers/net/cfg.c:57 suspicious rcu_dereference_check() usage!\n"));
});

test("lockdep-RCU, 2.6.34: lockdep_rcu_dereference turns lockdep off first, so once", () => {
  const r = run(deref_outside({ ...K26, lockdep: true }));
  assert.equal(r.reports.length, 1);
  assert.is(
    r.reports[0]!.text,
    [
      "===================================================",
      "[ INFO: suspicious rcu_dereference_check() usage. ]",
      "---------------------------------------------------",
      "drivers/net/cfg.c:42 invoked rcu_dereference_check() without protection!",
      "",
      "other info that might help us debug this:",
      "",
      "",
      "rcu_scheduler_active = 1, debug_locks = 0",
      "no locks held by t/4.",
      "",
      "stack backtrace:",
      "Pid: 4, comm: t Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " lockdep_rcu_dereference",
      " lookup",
      " kthread",
    ].join("\n"),
  );
});

test("6.1 PREEMPT_RCU: msleep inside a reader warns once (voluntary context switch) and the GP still waits for it", () => {
  const log: string[] = [];
  const scn = inline(() => {
    kthread_run(
      function* sleeper(_: null) {
        rcu_read_lock();
        yield* msleep(20); // wrong: blocks inside a read-side section
        log.push(`unlock ${ktime_get_ns()}`);
        yield* rcu_read_unlock();
      },
      null,
      "sleeper",
      { cpus: [1] },
    );
    kthread_run(
      function* updater(_: null) {
        yield* udelay(1000);
        yield* synchronize_rcu();
        log.push(`back ${ktime_get_ns()}`);
      },
      null,
      "updater",
      { cpus: [0] },
    );
  }, K6);
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["Voluntary context switch within RCU read-side critical section!"]);
  assert.equal(r.reports[0]!.text.split("\n").slice(0, 3), [
    "------------[ cut here ]------------",
    "Voluntary context switch within RCU read-side critical section!",
    "WARNING: CPU: 1 PID: 4 at kernel/rcu/tree_plugin.h rcu_note_context_switch",
  ]);
  // The sleeper is a blocked reader: synchronize_rcu returns only after its rcu_read_unlock.
  assert.is(log.length, 2);
  assert.ok(log[0]!.startsWith("unlock ") && log[1]!.startsWith("back "), log.join());
});

test("2.6.34: msleep inside a reader is scheduling while atomic, and the GP does not wait for it", () => {
  const log: string[] = [];
  const scn = inline(() => {
    kthread_run(
      function* sleeper(_: null) {
        rcu_read_lock();
        yield* msleep(20);
        log.push("unlock");
        yield* rcu_read_unlock();
      },
      null,
      "sleeper",
      { cpus: [1] },
    );
    kthread_run(
      function* updater(_: null) {
        yield* udelay(1000);
        yield* synchronize_rcu();
        log.push("back");
      },
      null,
      "updater",
      { cpus: [0] },
    );
  }, K26);
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["BUG: scheduling while atomic: sleeper/4/0x00000002"]);
  // TREE_RCU counts the sleeper's context switch as its CPU's QS: the old data could be freed
  // under it, the bug the report points at.
  assert.equal(log, ["back", "unlock"]);
});

test("synchronize_rcu from atomic context: might_sleep from wait_for_completion (2.6.34 one CPU: rcu_blocking_is_gp returns first)", () => {
  const scn = (machine: MachineSpec) =>
    inline(() => {
      const l = DEFINE_SPINLOCK("l");
      kthread_run(
        function* upd(_: null) {
          yield* spin_lock(l);
          yield* synchronize_rcu();
          yield* spin_unlock(l);
        },
        null,
        "t",
        { cpus: [machine.cpus! - 1] }, // (woken on another CPU it would also unlock there: "wrong CPU")
      );
    }, machine);
  const r6 = run(scn(K6));
  assert.equal(r6.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at kernel/sched/completion.c:0", "BUG: scheduling while atomic: t/4/0x00000002"]);
  assert.ok(r6.reports[0]!.text.includes("\n __might_resched\n __might_sleep\n wait_for_common\n wait_for_completion\n __wait_rcu_gp\n synchronize_rcu\n upd\n"));
  const r26 = run(scn(K26));
  assert.equal(r26.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at kernel/sched.c:0", "BUG: scheduling while atomic: t/4/0x00000002"]);
  assert.equal(run(scn({ ...K26, cpus: 1 })).reports, []);
});

test("rcu-use-after-free: seed 1's KASAN report is the reader's read of the block the updater freed", () => {
  const r = run(rcuUseAfterFree, { seed: 1 });
  assert.equal(r.reports.map((x) => x.kind), ["kasan"]);
  assert.not.ok(r.failed); // expected
  const text = r.reports[0]!.text.split("\n");
  assert.equal(text.slice(0, 3), ["==================================================================", "BUG: KASAN: use-after-free in cfg_reader", "Read of size 4 at addr ffff888003c00788 by task cfg_reader/5"]);
  const freed = text.indexOf("Freed by task 4:");
  assert.equal(text.slice(freed + 6, freed + 10), [" __kmem_cache_free", " kfree", " cfg_update", " kthread"]);
  assert.ok(text.includes("The buggy address is located 8 bytes inside of"));
});

test("rcu-use-after-free-fixed: synchronize_rcu before kfree, no report on seeds 1..8", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const r = run(rcuUseAfterFreeFixed, { seed });
    assert.equal(r.reports, [], `seed ${seed}`);
    assert.not.ok(r.failed, `seed ${seed}: ${r.expectations.join("; ")}`);
  }
});

test("rcu-sleep-in-reader: the RCU nest depth line and rcu_read_lock held (expected); the fixed twin is clean", () => {
  const r = run(rcuSleepInReader);
  assert.equal(r.reports.map((x) => x.kind), ["might_sleep"]);
  assert.not.ok(r.failed);
  // dev_update is pid 4 (kswapd0 3), on CPU1; the report comes once (rate limit: 1 s).
  assert.equal(r.reports[0]!.text.split("\n").slice(0, 6), [
    "BUG: sleeping function called from invalid context at kernel/mutex.c:94",
    "in_atomic(): 0, irqs_disabled(): 0, non_block: 0, pid: 4, name: dev_update",
    "preempt_count: 0, expected: 0",
    "RCU nest depth: 1, expected: 0",
    "1 lock held by dev_update/4:",
    " #0:  (rcu_read_lock){....}, at: rcu_read_lock",
  ]);
  const f = run(rcuSleepInReaderFixed);
  assert.equal(f.reports, []);
  assert.not.ok(f.failed);
});

test.run();
