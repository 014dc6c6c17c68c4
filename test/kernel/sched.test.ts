// Scheduling: preemption with and without CONFIG_PREEMPT, sleeping and waking, timeouts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import {
  DECLARE_WAIT_QUEUE_HEAD,
  complete,
  completion,
  jiffies,
  kthread_run,
  msleep,
  udelay,
  wait_event,
  wait_event_timeout,
  wait_for_completion_timeout,
  wake_up,
  cond_resched,
  complete_all,
  wait_for_completion,
  request_irq,
  disk,
  IRQ_HANDLED,
  type irqreturn_t,
  smp_processor_id,
  smp_call_function_single,
} from "../../src/kernel/index.ts";

function two_hogs(preempt: boolean, yieldEach: boolean) {
  const log: string[] = [];
  const scn = inline(
    () => {
      log.length = 0;
      const hog = (name: string) => (_: null) =>
        Effect.gen(function* () {
          for (let i = 0; i < 30; i++) {
            log.push(name);
            yield* udelay(5000);
            if (yieldEach) yield* cond_resched();
          }
        });
      kthread_run(hog("A"), null, "A");
      kthread_run(hog("B"), null, "B");
    },
    { cpus: 1, preempt },
  );
  return { r: run(scn), log };
}

test("CONFIG_PREEMPT: a 100 ms slice (25 ticks at HZ 250) lets A run 20 x 5 ms, then B", () => {
  const { r, log } = two_hogs(true, false);
  assert.is(log.indexOf("B"), 20);
  assert.is(log.filter((x) => x === "A").length, 30);
  assert.ok(r.stats.tasks.find((t) => t.comm === "A")!.nivcsw >= 1);
});

test("without CONFIG_PREEMPT, A runs to completion before B starts", () => {
  const { log } = two_hogs(false, false);
  assert.is(log.indexOf("B"), 30);
});

test("without CONFIG_PREEMPT, cond_resched gives B its turn at the end of A's slice", () => {
  const { log } = two_hogs(false, true);
  assert.is(log.indexOf("B"), 20);
});

test("tasks woken by an interrupt on an idle CPU get time slices (the tick restarts)", () => {
  const log: string[] = [];
  const scn = inline(
    () => {
      log.length = 0;
      const go = new completion("go");
      const hog = (name: string) => (_: null) =>
        Effect.gen(function* () {
          yield* wait_for_completion(go);
          for (let i = 0; i < 30; i++) {
            log.push(name);
            yield* udelay(5000);
          }
        });
      kthread_run(hog("A"), null, "A");
      kthread_run(hog("B"), null, "B");
      request_irq(14, () => Effect.sync(() => (complete_all(go), IRQ_HANDLED as irqreturn_t)), 0, "sda", null);
      kthread_run((_: null) => Effect.sync(() => disk("sda").submit(1)), null, "submit");
    },
    { cpus: 1, disks: [{ name: "sda", irq: 14, minNs: 10_000_000, maxNs: 10_000_000 }] },
  );
  run(scn);
  // Both wake at 10 ms in the disk's interrupt, after the idle CPU stopped its tick at 4 ms; A's
  // 100 ms slice ends during its 20th delay.
  assert.is(log.indexOf("B"), 20);
});

test("msleep(10) at HZ 250 sleeps 4 jiffies + 1 (msecs_to_jiffies rounds up, msleep adds one)", () => {
  const seen: number[] = [];
  const scn = inline(() => {
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          const j0 = jiffies();
          yield* msleep(10);
          seen.push(jiffies() - j0);
        }),
      null,
      "sleeper",
    );
  });
  run(scn);
  assert.equal(seen, [4]);
});

test("wait_event wakes when the condition becomes true; wait_event_timeout returns 0 on timeout", () => {
  const out: string[] = [];
  const scn = inline(() => {
    out.length = 0;
    const wq = DECLARE_WAIT_QUEUE_HEAD("wq");
    const st = { ready: false };
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* wait_event(wq, () => st.ready);
          out.push(`woke at jiffy ${jiffies()}`);
          const left = yield* wait_event_timeout(wq, () => false, 5);
          out.push(`timeout left ${left} at jiffy ${jiffies()}`);
        }),
      null,
      "waiter",
      { cpus: [0] },
    );
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* msleep(20); // 5 + 1 jiffies
          st.ready = true;
          wake_up(wq);
        }),
      null,
      "waker",
      { cpus: [1] },
    );
  });
  run(scn);
  assert.equal(out, ["woke at jiffy 6", "timeout left 0 at jiffy 11"]);
});

test("completions: complete before wait does not block; timeout returns 0", () => {
  const out: number[] = [];
  const scn = inline(() => {
    out.length = 0;
    const done = new completion("done");
    const never = new completion("never");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          complete(done);
          out.push(yield* wait_for_completion_timeout(done, 10));
          out.push(yield* wait_for_completion_timeout(never, 3));
          out.push(jiffies());
        }),
      null,
      "t",
    );
  });
  run(scn);
  assert.equal(out, [10, 0, 3]);
});

test("smp_call_function_single runs the function on the other CPU, in hardirq context", () => {
  const ran: number[] = [];
  const scn = inline(() => {
    ran.length = 0;
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* smp_call_function_single(1, () => Effect.sync(() => void ran.push(smp_processor_id())), null, true);
          ran.push(100 + smp_processor_id());
        }),
      null,
      "caller",
      { cpus: [0] },
    );
  });
  run(scn);
  assert.equal(ran, [1, 100]);
});

test.run();
