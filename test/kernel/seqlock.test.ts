// seqlock_t and seqcount_t: the count's values, a retry when a writer came in between
// read_seqbegin() and read_seqretry() (the interleaving placed with udelay and run with no step
// delayed, then checked over seeds), read_seqbegin() spinning while the count is odd,
// bug-seqlock-no-retry's torn snapshot, and 6.1's lockdep view of a reader in an interrupt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../helpers.ts";
import { gen_fn } from "../../src/kernel/gen_fn.ts";
import {
  DEFINE_SEQLOCK,
  DEFINE_SPINLOCK,
  READ_ONCE,
  WRITE_ONCE,
  kthread_run,
  ktime_get_ns,
  machine_costs,
  read_seqbegin,
  read_seqcount_begin,
  read_seqcount_retry,
  read_seqretry,
  seqcount_init,
  shared,
  smp_call_function_single,
  spin_lock,
  spin_unlock,
  udelay,
  write_seqcount_begin,
  write_seqcount_end,
  write_seqlock,
  write_seqlock_irqsave,
  write_sequnlock,
  write_sequnlock_irqrestore,
} from "../../src/kernel/index.ts";
import { runScenario, type RunOptions, type RunResult } from "../../src/harness/run.ts";
import type { Script } from "../../src/sim/script.ts";
import seqlockNoRetry from "../../scenarios/bugs/seqlock-no-retry.ts";

const NO_JITTER: Script = { picks: [], delays: [], arrivals: {} };
const lines = (r: RunResult, kind: string) => r.reports.filter((x) => x.kind === kind).map((x) => x.text.split("\n"));

test("a writer between read_seqbegin and read_seqretry: retry says 1, the second pass begins at 2 and stands", () => {
  const reader_log = (opts: Partial<RunOptions>): string[] => {
    const log: string[] = [];
    run(
      inline(() => {
        const sl = DEFINE_SEQLOCK("xtime_lock");
        const a = shared(0);
        const b = shared(0);
        kthread_run(function* reader() {
          for (;;) {
            const seq = yield* read_seqbegin(sl);
            const x = yield* READ_ONCE(a);
            yield* udelay(50); // the writer runs meanwhile on the first pass
            const y = yield* READ_ONCE(b);
            const again = yield* read_seqretry(sl, seq);
            log.push(`begin ${seq} read ${x},${y} retry ${again}`);
            if (again === 0) break;
          }
        }, null, "reader", { cpus: [0] });
        kthread_run(function* writer() {
          yield* udelay(20);
          yield* write_seqlock(sl);
          log.push(`writer in: ${sl.seqcount.sequence}`);
          yield* WRITE_ONCE(a, 1);
          yield* WRITE_ONCE(b, 1);
          yield* write_sequnlock(sl);
          log.push(`writer out: ${sl.seqcount.sequence}`);
        }, null, "writer", { cpus: [1] });
      }),
      opts,
    );
    return log;
  };
  // The first pass read a before the writer's stores and b after: torn (0,1), and retry says so.
  const expected = ["writer in: 1", "writer out: 2", "begin 0 read 0,1 retry 1", "begin 2 read 1,1 retry 0"];
  assert.equal(reader_log({ script: NO_JITTER }), expected);
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) assert.equal(reader_log({ seed }), expected, `seed ${seed}`);
});

test("read_seqbegin while the writer is inside spins until write_sequnlock, then returns the even count a line transfer later", () => {
  const log: string[] = [];
  run(
    inline(() => {
      const sl = DEFINE_SEQLOCK("xtime_lock");
      const line = machine_costs().line_transfer!;
      let ended = 0;
      kthread_run(function* reader() {
        yield* udelay(10);
        const seq = yield* read_seqbegin(sl);
        log.push(`begin ${seq}, line transfers after the write's end: ${(ktime_get_ns() - ended) / line}`);
      }, null, "reader", { cpus: [0] });
      kthread_run(function* writer() {
        yield* write_seqlock(sl);
        log.push(`writer in: ${sl.seqcount.sequence}`);
        yield* udelay(30);
        ended = ktime_get_ns();
        yield* write_sequnlock(sl);
      }, null, "writer", { cpus: [1] });
    }),
    { script: NO_JITTER },
  );
  assert.equal(log, ["writer in: 1", "begin 2, line transfers after the write's end: 1"]);
});

test("seqcount_t with its own lock: the count 0 -> 1 inside the write -> 2; read_seqcount_retry 0 with no writer between", () => {
  const seen: number[] = [];
  const r = inTask(() =>
    Effect.gen(function* () {
      const s = seqcount_init("&stats->seq");
      const l = DEFINE_SPINLOCK("stats_lock");
      const start = yield* read_seqcount_begin(s);
      seen.push(start, yield* read_seqcount_retry(s, start));
      yield* spin_lock(l);
      write_seqcount_begin(s);
      seen.push(s.sequence);
      write_seqcount_end(s);
      yield* spin_unlock(l);
      seen.push(s.sequence, yield* read_seqcount_retry(s, start));
      const other = DEFINE_SEQLOCK("other");
      const flags = yield* write_seqlock_irqsave(other);
      seen.push(flags, other.seqcount.sequence);
      yield* write_sequnlock_irqrestore(other, flags);
    }),
  );
  // Then write_seqlock_irqsave's saved flags, X86_EFLAGS_IF (interrupts were on), and its count.
  assert.equal(seen, [0, 0, 1, 2, 1, 0x200, 1]);
  assert.equal(r.reports, []);
});

test("bug-seqlock-no-retry: PCT finds a torn snapshot on seed 1, old and new counts one update apart; the fixed twin reads whole snapshots on that seed", () => {
  const steps = runScenario(seqlockNoRetry.bug, { seed: 1 }).steps;
  const pct = { name: "pct", depth: 3, steps } as const;
  const r = runScenario(seqlockNoRetry.bug, { seed: 1, strategy: pct });
  assert.is(r.failed, true);
  assert.equal(r.reports, []);
  const [msg] = r.expectations;
  const prefix = "torn statistics snapshots (packets and bytes from different updates): ";
  assert.ok(msg!.startsWith(prefix), msg);
  // Each torn pair: packets from one side of an update and bytes from the other, so bytes is
  // 1500 (the MTU) times packets plus or minus one.
  for (const pair of msg!.slice(prefix.length).split(", ")) {
    const [, p, b] = /^packets=(\d+) bytes=(\d+)$/.exec(pair)!.map(Number);
    assert.is(Math.abs(b! - p! * 1500), 1500, pair);
  }
  assert.is(runScenario(seqlockNoRetry.fixed, { seed: 1, strategy: pct }).failed, false);
});

test("a reader in an interrupt over its CPU's writer: the hard lockup in both eras; 6.1's lockdep sees {HARDIRQ-ON-W} -> {IN-HARDIRQ-R}; write_seqlock_irqsave is clean", () => {
  const over = (era: "2.6" | "6", lockdep: boolean, irqsave: boolean) =>
    run(
      inline(() => {
        const sl = DEFINE_SEQLOCK("xtime_lock");
        const tick = gen_fn(function* tick(_: unknown) {
          const seq = yield* read_seqbegin(sl);
          yield* read_seqretry(sl, seq);
        });
        kthread_run(function* writer() {
          if (irqsave) {
            const flags = yield* write_seqlock_irqsave(sl);
            yield* udelay(30);
            yield* write_sequnlock_irqrestore(sl, flags);
          } else {
            yield* write_seqlock(sl);
            yield* udelay(30);
            yield* write_sequnlock(sl);
          }
        }, null, "writer", { cpus: [0] });
        kthread_run(function* kicker() {
          yield* udelay(10);
          yield* smp_call_function_single(0, tick, null, false);
        }, null, "kicker", { cpus: [1] });
      }, { cpus: 2, lockdep, memory: { arch: "i386", kernel: era, mb: 64 } }),
    );
  for (const era of ["2.6", "6"] as const) {
    const r = over(era, false, false);
    assert.equal(lines(r, "hard_lockup")[0]!.slice(0, 6), [
      "NMI watchdog: Watchdog detected hard LOCKUP on cpu 0",
      "deadlock: call-function-ipi waits for xtime_lock.seqcount, writer cannot run",
      "CPU#0 (hardirq context, preempt_count 00010001, irqs off):",
      "  #0 interrupt call-function-ipi (interrupting writer/4): holding no spinlock, spinning in read_seqbegin on xtime_lock.seqcount",
      "     at smp_call_function_single_interrupt <- call_function_single_interrupt",
      "  #1 task writer/4: holding xtime_lock (spin_lock)",
    ]);
    assert.is(r.virtualTimeNs, 12e9);
    assert.equal(over(era, true, true).reports, [], `${era} irqsave`);
  }
  // 2.6.34's seqcount has no lockdep map: only the lockup.
  assert.equal(over("2.6", true, false).reports.map((x) => x.kind), ["hard_lockup"]);
  const text = lines(over("6", true, false), "lockdep")[0]!;
  // The seqcount's class: written with interrupts on (HARDIRQ-ON-W, SOFTIRQ-ON-W), read in
  // hardirq context ('-' in the hardirq read column), wait type 0 (a seqcount has none).
  assert.equal(text.slice(0, 12), [
    "================================",
    "WARNING: inconsistent lock state",
    "6.1.0-mmsim #1 Not tainted",
    "--------------------------------",
    "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-R} usage.",
    "writer/4 [HC1[1]:SC0[0]:HE0:SE1] takes:",
    "c1800040 (xtime_lock.seqcount){+-+.}-{0:0}, at: smp_call_function_single_interrupt",
    "{HARDIRQ-ON-W} state was registered at:",
    "  lock_acquire",
    "  writer",
    "  kthread",
    "",
  ]);
  assert.equal(text.slice(text.indexOf("2 locks held by writer/4:"), text.indexOf("stack backtrace:")), [
    "2 locks held by writer/4:",
    " #0: c1800000 (xtime_lock){+.+.}-{2:2}, at: writer",
    " #1: c1800040 (xtime_lock.seqcount){+-+.}-{0:0}, at: writer",
    "",
  ]);
});

test.run();
