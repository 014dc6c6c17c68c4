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
  IRQ_HANDLED,
  nic,
  request_irq,
  udelay,
  vfree,
  vmalloc,
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

const K6 = { arch: "i386", kernel: "6", mb: 64 } as const;

test("kernel 6: __might_resched's format (non_block, preempt_count, RCU nest depth) and 6.1 vfree's might_sleep_if", () => {
  // vfree under spin_lock in process context: 6.1 might_sleep_if(!in_interrupt()) reports (the
  // line is not known: 0); 2.6.34's vfree has no might_sleep. preempt_count 1 (the lock),
  // expected 0; CONFIG_PREEMPT selects PREEMPT_RCU: the RCU line, no rcu_read_lock held.
  // pids: ksoftirqd/0 1, ksoftirqd/1 2, kswapd0 3, so t is 4; kswapd0 is queued on CPU0, t
  // goes to the idle CPU1.
  const scn = (kernel_: "2.6" | "6") =>
    inline(
      () => {
        const l = DEFINE_SPINLOCK("buf_lock");
        kthread_run(
          function free_under_lock(_: null) {
            return Effect.gen(function* () {
              const a = yield* vmalloc(4096);
              yield* spin_lock(l);
              yield* vfree(a);
              yield* spin_unlock(l);
            });
          },
          null,
          "t",
        );
      },
      { cpus: 2, memory: { ...K6, kernel: kernel_ } },
    );
  assert.equal(run(scn("2.6")).reports, []);
  const r = run(scn("6"));
  assert.equal(r.reports.map((x) => x.kind), ["might_sleep"]);
  assert.is(
    r.reports[0]!.text,
    [
      "BUG: sleeping function called from invalid context at mm/vmalloc.c:0",
      "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 4, name: t",
      "preempt_count: 1, expected: 0",
      "RCU nest depth: 0, expected: 0",
      "1 lock held by t/4:",
      " #0:  (buf_lock){....}, at: spin_lock",
      "CPU: 1 PID: 4 Comm: t Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " __might_resched",
      " __might_sleep",
      " free_under_lock",
      " kthread",
      " </TASK>",
    ].join("\n"),
  );
});

test("kernel 6: a report from an interrupt frames its frames in <IRQ> ... </IRQ>, then the task's in <TASK> ... </TASK>; 2.6.34 <EOI>", () => {
  // The NIC's handler calls might_sleep() while t busy-waits in udelay: hardirq context,
  // preempt_count 0x10000 (HARDIRQ_OFFSET), interrupts off. 1 CPU: ksoftirqd/0 1, kswapd0 2, t 3.
  const scn = (kernel_: "2.6" | "6") =>
    inline(
      () => {
        const st = { go: false, fired: false };
        request_irq(
          11,
          function eth0_interrupt() {
            return Effect.sync(() => {
              nic("eth0").reap();
              if (st.go && !st.fired) {
                st.fired = true;
                might_sleep();
              }
              return IRQ_HANDLED;
            });
          },
          0,
          "eth0",
          null,
        );
        kthread_run(
          function poll(_: null) {
            return Effect.gen(function* () {
              st.go = true;
              while (!st.fired) yield* udelay(10);
            });
          },
          null,
          "t",
        );
      },
      { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }], memory: { ...K6, kernel: kernel_ } },
    );
  const lines = (kernel_: "2.6" | "6") => run(scn(kernel_)).reports.find((x) => x.kind === "might_sleep")!.text.split("\n");
  const now = lines("6");
  assert.equal(now.slice(0, 3), ["BUG: sleeping function called from invalid context at scenario:0", "in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 3, name: t", "preempt_count: 10000, expected: 0"]);
  const irq = [" __might_resched", " __might_sleep", " eth0_interrupt", " handle_IRQ_event", " handle_edge_irq", " do_IRQ", " common_interrupt"];
  assert.equal(now.slice(now.indexOf("Call Trace:")), ["Call Trace:", " <IRQ>", ...irq, " </IRQ>", " <TASK>", " poll", " kthread", " </TASK>"]);
  const old = lines("2.6");
  assert.equal(old.slice(old.indexOf("Call Trace:")), ["Call Trace:", " __might_sleep", ...irq.slice(2), " <EOI>", " poll", " kthread"]);
});

test.run();
