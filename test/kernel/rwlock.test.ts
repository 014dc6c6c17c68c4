// rwlock_t: readers share and a writer excludes them; who waits for whom in each era (2.6.34's
// readers-first biased counter, 6.1's queued rwlock); what Linux reports for the classic
// mistakes (a writer waiting while its own CPU holds a read lock), from lockdep, the lockup
// watchdog and CONFIG_DEBUG_SPINLOCK. Timings are spaced by udelay so the order does not depend
// on the seed's jitter (checked over several seeds). With a memory machine of 2 CPUs,
// ksoftirqd/0, ksoftirqd/1 and kswapd0 are pids 1-3, the first scenario task pid 4.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inline, run } from "../helpers.ts";
import { gen_fn } from "../../src/kernel/gen_fn.ts";
import {
  DEFINE_RWLOCK,
  kthread_run,
  ktime_get_ns,
  machine_costs,
  read_lock,
  read_unlock,
  smp_call_function_single,
  udelay,
  write_lock,
  write_lock_irq,
  write_unlock,
  write_unlock_irq,
  type rwlock_t,
} from "../../src/kernel/index.ts";
import type { RunOptions, RunResult } from "../../src/harness/run.ts";
import type { Script } from "../../src/sim/script.ts";

const M = (era: "2.6" | "6", cpus = 2, lockdep = false) => ({ cpus, lockdep, memory: { arch: "i386", kernel: era, mb: 64 } }) as const;
/** A report's lines up to "stack backtrace:" (lockdep) or all of them. */
const lines = (r: RunResult, kind: string) => r.reports.filter((x) => x.kind === kind).map((x) => x.text.split("\n")).map((l) => (l.includes("stack backtrace:") ? l.slice(0, l.indexOf("stack backtrace:")) : l));

/** The script that decides nothing: the lowest CPU wins a tie, no step is delayed (src/sim/script.ts), for exact times. */
const NO_JITTER: Script = { picks: [], delays: [], arrivals: {} };

test("two readers hold it together; the writer gets it a line transfer after the last reader lets go (acquisitions 3, contentions 1)", () => {
  const readers_then_writer = (opts: Partial<RunOptions>): string[] => {
    const log: string[] = [];
    const released = [0, 0];
    let line = 0;
    const scn = inline(
      () => {
        const l = DEFINE_RWLOCK("tbl_lock");
        line = machine_costs().line_transfer!;
        kthread_run(function* r1() {
          yield* read_lock(l);
          log.push(`r1 readers=${l.readers.length}`);
          yield* udelay(100);
          released[0] = ktime_get_ns();
          yield* read_unlock(l);
        }, null, "r1", { cpus: [0] });
        kthread_run(function* r2() {
          yield* udelay(10);
          yield* read_lock(l);
          log.push(`r2 readers=${l.readers.length}`);
          yield* udelay(100);
          released[1] = ktime_get_ns();
          yield* read_unlock(l);
        }, null, "r2", { cpus: [1] });
        kthread_run(function* w() {
          yield* udelay(20);
          yield* write_lock(l);
          const after = ktime_get_ns() - Math.max(...released);
          log.push(`w readers=${l.readers.length} writer=${l.writer?.name}${opts.script ? ` line transfers after the last release: ${after / line}` : ""}`);
          yield* write_unlock(l);
        }, null, "w", { cpus: [2] });
        return l;
      },
      { cpus: 3 },
      { check: (l: rwlock_t) => void log.push(`acquisitions ${l.acquisitions} contentions ${l.contentions}`) },
    );
    assert.equal(run(scn, opts).reports, []);
    return log;
  };
  // With no step delayed, the hand-over's time is exact: the release, then the line's transfer.
  assert.equal(readers_then_writer({ script: NO_JITTER }), ["r1 readers=1", "r2 readers=2", "w readers=0 writer=w line transfers after the last release: 1", "acquisitions 3 contentions 1"]);
  for (const seed of [1, 2, 3, 4, 5]) assert.equal(readers_then_writer({ seed }), ["r1 readers=1", "r2 readers=2", "w readers=0 writer=w", "acquisitions 3 contentions 1"], `seed ${seed}`);
});

test("a reader arriving while a writer waits: 2.6.34 lets it in beside the holder (readers first), 6.1 queues it behind the writer", () => {
  const order = (era: "2.6" | "6", seed: number): string[] => {
    const log: string[] = [];
    run(
      inline(() => {
        const l = DEFINE_RWLOCK("tbl_lock");
        kthread_run(function* r1() {
          yield* read_lock(l);
          log.push("r1");
          yield* udelay(100);
          yield* read_unlock(l);
        }, null, "r1", { cpus: [0] });
        kthread_run(function* w() {
          yield* udelay(20);
          yield* write_lock(l);
          log.push(`w readers=${l.readers.length}`);
          yield* udelay(10);
          yield* write_unlock(l);
        }, null, "w", { cpus: [1] });
        kthread_run(function* r2() {
          yield* udelay(40);
          yield* read_lock(l);
          log.push(`r2 readers=${l.readers.length}`);
          yield* read_unlock(l);
        }, null, "r2", { cpus: [2] });
      }, M(era, 3)),
      { seed },
    );
    return log;
  };
  for (const seed of [1, 2, 3]) {
    assert.equal(order("2.6", seed), ["r1", "r2 readers=2", "w readers=0"]);
    assert.equal(order("6", seed), ["r1", "w readers=0", "r2 readers=1"]);
  }
});

test("a reader in an interrupt while the interrupted task reads and a writer waits gets in at once (in_interrupt), in both eras; lockdep finds nothing", () => {
  for (const era of ["2.6", "6"] as const) {
    const log: string[] = [];
    const r = run(
      inline(() => {
        const l = DEFINE_RWLOCK("tbl_lock");
        const irq_reader = gen_fn(function* irq_reader(_: unknown) {
          yield* read_lock(l);
          log.push(`irq reader: readers=${l.readers.length} waiting writers=${l.waiting_writers}`);
          yield* read_unlock(l);
        });
        kthread_run(function* reader() {
          yield* read_lock(l);
          yield* udelay(50);
          yield* read_unlock(l);
          log.push("task unlocked");
        }, null, "reader", { cpus: [0] });
        kthread_run(function* writer() {
          yield* udelay(10);
          yield* smp_call_function_single(0, irq_reader, null, false);
          yield* write_lock_irq(l); // the writer keeps interrupts off: no reader can interrupt it
          log.push("writer");
          yield* write_unlock_irq(l);
        }, null, "writer", { cpus: [1] });
      }, M(era, 2, true)),
    );
    assert.equal(r.reports, [], era);
    assert.equal(log, ["irq reader: readers=2 waiting writers=1", "task unlocked", "writer"], era);
  }
});

test("read_lock then write_lock in one task: lockdep's recursive locking report, then the soft lockup (the writer waits for its own read)", () => {
  const upgrade = (era: "2.6" | "6", lockdep: boolean) =>
    run(
      inline(() => {
        const l = DEFINE_RWLOCK("tbl_lock");
        kthread_run(function* upgrade() {
          yield* read_lock(l);
          yield* write_lock(l);
          yield* write_unlock(l);
          yield* read_unlock(l);
        }, null, "t", { cpus: [0] });
      }, M(era, 2, lockdep)),
    );
  // The write acquisition marked HARDIRQ-ON-W and SOFTIRQ-ON-W before check_deadlock found the
  // read: every usage character of both states is '+'.
  assert.equal(lines(upgrade("2.6", true), "lockdep"), [
    [
      "=============================================",
      "[ INFO: possible recursive locking detected ]",
      "2.6.34-mmsim #1",
      "---------------------------------------------",
      "t/4 is trying to acquire lock:",
      " (tbl_lock){++++..}, at: upgrade",
      "",
      "but task is already holding lock:",
      " (tbl_lock){++++..}, at: upgrade",
      "",
      "other info that might help us debug this:",
      "1 lock held by t/4:",
      " #0:  (tbl_lock){++++..}, at: upgrade",
      "",
    ],
  ]);
  const r6 = upgrade("6", true);
  assert.equal(lines(r6, "lockdep")[0]!.slice(4, 9), ["t/4 is trying to acquire lock:", "c1800000 (tbl_lock){++++}-{2:2}, at: upgrade", "", "but task is already holding lock:", "c1800000 (tbl_lock){++++}-{2:2}, at: upgrade"]);
  for (const era of ["2.6", "6"] as const) {
    const r = upgrade(era, false);
    // Spinning with interrupts on since the task last scheduled (just after 0): the watchdog
    // samples every 4 s and reports past 20 s, at 24 s, 23 whole seconds in.
    assert.equal(lines(r, "soft_lockup"), [
      [
        "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [t:4]",
        "deadlock: t waits for tbl_lock",
        "CPU#0 (task context, preempt_count 00000002, irqs on):",
        "  #0 task t/4: holding tbl_lock (read_lock), spinning in write_lock on tbl_lock",
        "     at _raw_write_lock <- upgrade <- kthread",
        "Call Trace:",
        " _raw_write_lock",
        " upgrade",
        " kthread",
      ],
    ]);
    assert.is(r.virtualTimeNs, 24e9);
  }
});

test("write_lock in an interrupt handler over its CPU's read_lock: lockdep's {HARDIRQ-ON-R} -> {IN-HARDIRQ-W}, and the hard lockup", () => {
  const irq_writer = (era: "2.6" | "6", lockdep: boolean) =>
    run(
      inline(() => {
        const l = DEFINE_RWLOCK("tbl_lock");
        const irq_writer = gen_fn(function* irq_writer(_: unknown) {
          yield* write_lock(l);
          yield* write_unlock(l);
        });
        kthread_run(function* reader() {
          yield* read_lock(l);
          yield* udelay(50);
          yield* read_unlock(l);
        }, null, "reader", { cpus: [0] });
        kthread_run(function* kicker() {
          yield* udelay(10);
          yield* smp_call_function_single(0, irq_writer, null, false);
        }, null, "kicker", { cpus: [1] });
      }, M(era, 2, lockdep)),
    );
  const text = lines(irq_writer("6", true), "lockdep")[0]!;
  // The handler (hardirq, interrupts off) takes for writing a class read with interrupts on:
  // IN-HARDIRQ-W ('-') with HARDIRQ-ON-R ('+'), softirqs only read with them on ('.', '+').
  assert.equal(text.slice(0, 19), [
    "================================",
    "WARNING: inconsistent lock state",
    "6.1.0-mmsim #1 Not tainted",
    "--------------------------------",
    "inconsistent {HARDIRQ-ON-R} -> {IN-HARDIRQ-W} usage.",
    "reader/4 [HC1[1]:SC0[0]:HE0:SE1] takes:",
    "c1800000 (tbl_lock){-+.+}-{2:2}, at: smp_call_function_single_interrupt",
    "{HARDIRQ-ON-R} state was registered at:",
    "  lock_acquire",
    "  _raw_read_lock",
    "  reader",
    "  kthread",
    "",
    "other info that might help us debug this:",
    " Possible unsafe locking scenario:",
    "",
    "       CPU0",
    "       ----",
    "  lock(tbl_lock);",
  ]);
  assert.is(lines(irq_writer("2.6", true), "lockdep")[0]![4], "inconsistent {HARDIRQ-ON-R} -> {IN-HARDIRQ-W} usage.");
  for (const era of ["2.6", "6"] as const) {
    const r = irq_writer(era, false);
    // Interrupts off in the handler: the NMI watchdog's 10 s, at its next 4 s sample (12 s).
    assert.equal(lines(r, "hard_lockup")[0]!.slice(0, 7), [
      "NMI watchdog: Watchdog detected hard LOCKUP on cpu 0",
      "deadlock: call-function-ipi waits for tbl_lock, reader cannot run",
      "CPU#0 (hardirq context, preempt_count 00010002, irqs off):",
      "  #0 interrupt call-function-ipi (interrupting reader/4): holding no spinlock, spinning in write_lock on tbl_lock",
      "     at _raw_write_lock <- smp_call_function_single_interrupt <- call_function_single_interrupt",
      "  #1 task reader/4: holding tbl_lock (read_lock)",
      "     at reader <- kthread",
    ]);
    assert.is(r.virtualTimeNs, 12e9);
  }
});

test("a task taking its read lock again while a writer waits: fine on 2.6.34, a deadlock on 6.1 (qrwlock), which lockdep calls recursive locking", () => {
  const again = (era: "2.6" | "6", lockdep: boolean) =>
    run(
      inline(() => {
        const l = DEFINE_RWLOCK("tbl_lock");
        kthread_run(function* reader() {
          yield* read_lock(l);
          yield* udelay(50);
          yield* read_lock(l);
          yield* read_unlock(l);
          yield* read_unlock(l);
        }, null, "reader", { cpus: [0] });
        kthread_run(function* writer() {
          yield* udelay(10);
          yield* write_lock(l);
          yield* write_unlock(l);
        }, null, "writer", { cpus: [1] });
      }, M(era, 2, lockdep)),
    );
  for (const lockdep of [false, true]) assert.equal(again("2.6", lockdep).reports, []);
  const r = again("6", true);
  // In process context 6.1's read_lock is a non-recursive read (read 1): read after read of
  // the class is not allowed.
  assert.equal(lines(r, "lockdep")[0]!.slice(1, 9), [
    "WARNING: possible recursive locking detected",
    "6.1.0-mmsim #1 Not tainted",
    "--------------------------------------------",
    "reader/4 is trying to acquire lock:",
    "c1800000 (tbl_lock){++++}-{2:2}, at: reader",
    "",
    "but task is already holding lock:",
    "c1800000 (tbl_lock){++++}-{2:2}, at: reader",
  ]);
  assert.equal(lines(again("6", false), "soft_lockup")[0]!.slice(0, 4), [
    "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [reader:4]",
    "deadlock: reader waits for tbl_lock",
    "CPU#0 (task context, preempt_count 00000002, irqs on):",
    "  #0 task reader/4: holding tbl_lock (read_lock), spinning in read_lock on tbl_lock",
  ]);
});

test("CONFIG_DEBUG_SPINLOCK: write_lock twice is 'BUG: rwlock recursion'; write_unlock by another task 'wrong owner'", () => {
  // No memory: no other lock is registered, so the lock is the first (the assumed .data
  // address's base); kernel addresses print at x86_64's width. Pids 1-2 are ksoftirqd.
  const twice = run(
    inline(() => {
      const l = DEFINE_RWLOCK("tbl_lock");
      kthread_run(function* twice() {
        yield* write_lock(l);
        yield* write_lock(l);
      }, null, "t", { cpus: [0] });
    }),
  );
  assert.equal(twice.reports[0]!.text.split("\n"), [
    "BUG: rwlock recursion on CPU#0, t/3, ffffffff82800000",
    "Pid: 3, comm: t Not tainted 2.6.34-mmsim #1",
    "Call Trace:",
    " rwlock_bug",
    " twice",
    " kthread",
  ]);
  const other = run(
    inline(() => {
      const l = DEFINE_RWLOCK("tbl_lock");
      kthread_run(function* owner() {
        yield* write_lock(l);
        yield* udelay(50);
      }, null, "owner", { cpus: [0] });
      kthread_run(function* thief() {
        yield* udelay(10);
        yield* write_unlock(l);
      }, null, "thief", { cpus: [1] });
    }),
  );
  assert.is(other.reports[0]!.title, "BUG: rwlock wrong owner on CPU#1, thief/4, ffffffff82800000");
});

test.run();
