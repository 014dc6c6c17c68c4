// Lockup, hung-task and stall detection. Report times follow the watchdog rules in
// src/kernel/watchdog.ts with watchdog_thresh = 10: the soft-lockup sample period is 4 s, so a
// soft lockup that starts just after t=0 is reported at 24 s ("stuck for 23s"), a hard lockup
// (interrupts off) at 12 s; hung tasks at last switch + 120 s.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import {
  DEFINE_MUTEX,
  DEFINE_SPINLOCK,
  DECLARE_WAIT_QUEUE_HEAD,
  kthread_run,
  msleep,
  mutex_lock,
  mutex_unlock,
  spin_lock,
  spin_lock_irqsave,
  spin_unlock,
  wait_event_interruptible,
} from "../../src/kernel/index.ts";
import { irqLockDeadlock, irqLockIrqsave } from "../../scenarios/teach/irq-lock.ts";

test("taking a spinlock twice: recursion report, then a soft lockup at 24 s", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("twice");
    kthread_run(
      function take_twice(_: null) {
        return Effect.gen(function* () {
          yield* spin_lock(l);
          yield* spin_lock(l);
        });
      },
      null,
      "t",
    );
  });
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), [
    "BUG: spinlock recursion on CPU#0, t/3",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [t:3]",
  ]);
  assert.is(r.reports[1]!.ts, 24e9);
  assert.is(r.virtualTimeNs, 24e9);
  assert.ok(r.reports[1]!.text.includes("  #0 task t/3: holding twice (spin_lock), spinning in spin_lock on twice"));
  assert.match(r.stop, /^stopped: lockup on CPU0/);
});

test("the same with interrupts off is a hard LOCKUP at 12 s", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("twice");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_lock_irqsave(l);
          yield* spin_lock_irqsave(l);
        }),
      null,
      "t",
    );
  });
  const r = run(scn);
  assert.is(r.reports[1]!.title, "NMI watchdog: Watchdog detected hard LOCKUP on cpu 0");
  assert.is(r.reports[1]!.ts, 12e9);
});

test("AB-BA between two CPUs: both CPUs reported, run ends", () => {
  const scn = inline(() => {
    const a = DEFINE_SPINLOCK("a");
    const b = DEFINE_SPINLOCK("b");
    // Each CPU takes its first lock, then 20 more steps (so both hold their first lock), then the other's.
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_lock(a);
          for (let i = 0; i < 20; i++) yield* spin_lock_irqsave(DEFINE_SPINLOCK(`pad${i}`));
          yield* spin_lock(b);
        }),
      null,
      "ab",
      { cpus: [0] },
    );
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_lock(b);
          for (let i = 0; i < 20; i++) yield* spin_lock(DEFINE_SPINLOCK(`pad2${i}`));
          yield* spin_lock(a);
        }),
      null,
      "ba",
      { cpus: [1] },
    );
  });
  const r = run(scn);
  const kinds = r.reports.map((x) => x.kind).sort();
  assert.equal(kinds, ["hard_lockup", "soft_lockup"]);
  const soft = r.reports.find((x) => x.kind === "soft_lockup")!;
  assert.is(soft.title, "watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [ba:4]");
  assert.ok(soft.text.includes("deadlock: "));
});

test("irq-lock-deadlock: some seed deadlocks; the report names the handler and the task", () => {
  let found: ReturnType<typeof run> | undefined;
  for (let seed = 1; seed <= 40 && found === undefined; seed++) {
    const r = run(irqLockDeadlock, { seed });
    if (r.reports.some((x) => x.kind === "hard_lockup")) found = r;
  }
  assert.ok(found, "no seed in 1..40 deadlocked");
  const lockup = found!.reports.find((x) => x.kind === "hard_lockup")!;
  assert.is(lockup.title, "NMI watchdog: Watchdog detected hard LOCKUP on cpu 0");
  const lines = lockup.text.split("\n");
  assert.ok(lines.includes("  #0 interrupt irq/11 (interrupting update_stats/3): holding no spinlock, spinning in spin_lock on dev_lock"));
  assert.ok(lines.includes("  #1 task update_stats/3: holding dev_lock (spin_lock)"));
  assert.is(found!.reports[0]!.title, "BUG: spinlock recursion on CPU#0, update_stats/3");
});

test("irq-lock-irqsave: no seed of 1..40 reports anything", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = run(irqLockIrqsave, { seed });
    assert.is(r.failed, false, `seed ${seed}: ${r.reports.map((x) => x.title).join("; ")}`);
  }
});

test("AB-BA on mutexes: both tasks hang in D state and are reported at 120 s", () => {
  const scn = inline(() => {
    const a = DEFINE_MUTEX("a");
    const b = DEFINE_MUTEX("b");
    const ab = (first: typeof a, second: typeof a) =>
      function locker(_: null) {
        return Effect.gen(function* () {
          yield* mutex_lock(first);
          yield* msleep(10);
          yield* mutex_lock(second);
          yield* mutex_unlock(second);
          yield* mutex_unlock(first);
        });
      };
    kthread_run(ab(a, b), null, "ab");
    kthread_run(ab(b, a), null, "ba");
  });
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), [
    "INFO: task ab:3 blocked for more than 120 seconds.",
    "INFO: task ba:4 blocked for more than 120 seconds.",
  ]);
  assert.ok(r.reports[0]!.text.includes('"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.'));
  // msleep(10) at HZ 250 is msecs_to_jiffies(10) + 1 = 4 jiffies: both wake at the 16 ms tick and
  // block on the other's mutex a few microseconds later; reported 120 s after that.
  assert.ok(r.reports[0]!.ts >= 120.016e9 && r.reports[0]!.ts < 120.017e9, String(r.reports[0]!.ts));
  // hung_task_timeout_secs = 0 turns the detector off: the run stalls instead (nothing can wake them).
  const off = run(scn, { machine: { hung_task_timeout_secs: 0 } });
  assert.equal(off.reports.map((x) => x.title), ["mmsim: run stalled: ab/3 (D), ba/4 (D) asleep with nothing left to wake them"]);
});

test("one CPU: a task sleeps holding a lock, the next one spins on it: cpu recursion, then a lockup once the sleeper is queued behind the spinner", () => {
  const scn = inline(
    () => {
      const l = DEFINE_SPINLOCK("held_across_sleep");
      kthread_run(
        (_: null) =>
          Effect.gen(function* () {
            yield* spin_lock(l);
            yield* msleep(1);
            yield* spin_unlock(l);
          }),
        null,
        "sleeper",
      );
      kthread_run((_: null) => spin_lock(l), null, "spinner");
    },
    { cpus: 1 },
  );
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), [
    "BUG: scheduling while atomic: sleeper/2/0x00000002",
    "BUG: spinlock cpu recursion on CPU#0, spinner/3",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [spinner:3]",
  ]);
  // CPU0 last scheduled when spinner came in, just after 0: next 4 s sample past 20 s is 24 s.
  assert.is(r.reports[2]!.ts, 24e9);
  assert.ok(r.reports[2]!.text.includes("deadlock: spinner waits for held_across_sleep, sleeper cannot run"));
});

test("a task asleep interruptibly with nothing to wake it: the run stalls", () => {
  const scn = inline(() => {
    const wq = DECLARE_WAIT_QUEUE_HEAD("never");
    kthread_run((_: null) => Effect.asVoid(wait_event_interruptible(wq, () => false)), null, "waiter");
  });
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["mmsim: run stalled: waiter/3 (S) asleep with nothing left to wake them"]);
  assert.ok(r.failed);
});

test("a busy loop without a lock never reaches the step limit unnoticed", () => {
  const scn = inline(() => {
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          for (;;) yield* spin_lock(DEFINE_SPINLOCK("x"));
        }),
      null,
      "spinner",
    );
  });
  const r = run(scn, { stepLimit: 2000 });
  assert.match(r.stop, /^step-limit: the run took 2000 steps without finishing/);
  assert.ok(r.failed);
});

test.run();
