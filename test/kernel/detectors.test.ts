// The first detectors, with report texts derived from the Linux formats: pids 1 and 2 are
// ksoftirqd/0 and ksoftirqd/1 on a 2-CPU machine, so the first scenario task is pid 3 and, with
// every CPU idle, runs on CPU0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run, reportText } from "../helpers.ts";
import {
  DEFINE_MUTEX,
  DEFINE_SPINLOCK,
  kthread_run,
  msleep,
  mutex_lock,
  mutex_unlock,
  spin_lock,
  spin_lock_irq,
  spin_unlock,
  spin_unlock_irq,
  might_sleep,
  completion,
  complete,
  wait_for_completion,
} from "../../src/kernel/index.ts";
import { sleepInAtomic, msleepInAtomic } from "../../scenarios/teach/sleep-in-atomic.ts";

test("mutex_lock under spin_lock: the might_sleep report, exactly", () => {
  const r = run(sleepInAtomic);
  assert.equal(r.reports.map((x) => x.kind), ["might_sleep"]);
  assert.is(
    r.reports[0]!.text,
    [
      "BUG: sleeping function called from invalid context at kernel/mutex.c:94",
      "in_atomic(): 1, irqs_disabled(): 0, pid: 3, name: cfgd",
      "1 lock held by cfgd/3:",
      " #0:  (cfg_lock){....}, at: spin_lock",
      "Pid: 3, comm: cfgd Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " __might_sleep",
      " mutex_lock",
      " update_config",
      " kthread",
    ].join("\n"),
  );
  assert.ok(r.failed);
});

test("with interrupts off too, irqs_disabled() is 1", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("l");
    const m = DEFINE_MUTEX("m");
    kthread_run(
      function irq_off_path(_: null) {
        return Effect.gen(function* () {
          yield* spin_lock_irq(l);
          yield* mutex_lock(m);
          yield* mutex_unlock(m);
          yield* spin_unlock_irq(l);
        });
      },
      null,
      "t",
    );
  });
  const [text] = reportText(run(scn), "might_sleep");
  assert.is(text!.split("\n")[1], "in_atomic(): 1, irqs_disabled(): 1, pid: 3, name: t");
});

test("might_sleep in a context that may sleep reports nothing", () => {
  const scn = inline(() => {
    const m = DEFINE_MUTEX("m");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          might_sleep();
          yield* mutex_lock(m);
          yield* msleep(1);
          yield* mutex_unlock(m);
        }),
      null,
      "ok",
    );
  });
  const r = run(scn);
  assert.equal(r.reports, []);
  assert.is(r.failed, false);
});

test("msleep under spin_lock: BUG: scheduling while atomic with preempt_count 2", () => {
  const r = run(msleepInAtomic);
  assert.equal(r.reports.map((x) => x.kind), ["scheduling_while_atomic"]);
  assert.equal(r.reports[0]!.text.split("\n").slice(0, 3), [
    "BUG: scheduling while atomic: polld/3/0x00000002",
    "1 lock held by polld/3:",
    " #0:  (poll_lock){....}, at: spin_lock",
  ]);
  assert.equal(r.reports[0]!.text.split("\n").slice(-5), [" __schedule_bug", " schedule", " msleep", " poll_device", " kthread"]);
});

test("spinlock already unlocked", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("lonely_lock");
    kthread_run((_: null) => spin_unlock(l), null, "t");
  });
  const [text] = reportText(run(scn), "spinlock");
  assert.equal(text!.split("\n").slice(0, 2), [
    "BUG: spinlock already unlocked on CPU#0, t/3",
    " lock: lonely_lock, .magic: dead4ead, .owner: <none>/-1, .owner_cpu: -1",
  ]);
});

test("spinlock wrong owner: unlocked by another task than the one that took it", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("shared_lock");
    const taken = new completion("taken");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_lock(l);
          complete(taken);
        }),
      null,
      "taker",
      { cpus: [0] },
    );
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* wait_for_completion(taken);
          yield* spin_unlock(l);
        }),
      null,
      "releaser",
      { cpus: [1] },
    );
  });
  const [text] = reportText(run(scn), "spinlock");
  assert.equal(text!.split("\n").slice(0, 2), [
    "BUG: spinlock wrong owner on CPU#1, releaser/4",
    " lock: shared_lock, .magic: dead4ead, .owner: taker/3, .owner_cpu: 0",
  ]);
});

test("only the first lock-debugging report is printed (debug_locks goes off)", () => {
  const scn = inline(() => {
    const a = DEFINE_SPINLOCK("a");
    const b = DEFINE_SPINLOCK("b");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_unlock(a);
          yield* spin_unlock(b);
        }),
      null,
      "t",
    );
  });
  const r = run(scn);
  assert.is(reportText(r, "spinlock").length, 1);
});

test.run();
