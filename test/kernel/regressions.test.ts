// Behaviours found wrong in review, each pinned by the Linux rule it follows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import {
  IRQ_HANDLED,
  disk,
  init_waitqueue_head,
  irqs_disabled,
  jiffies,
  kthread_run,
  local_irq_disable,
  mdelay,
  msleep,
  nic,
  request_irq,
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  wait_event_interruptible,
  wake_up,
  type irqreturn_t,
  DEFINE_MUTEX,
  DEFINE_SPINLOCK,
  TASK_UNINTERRUPTIBLE,
  complete,
  completion,
  local_irq_enable,
  local_irq_restore,
  local_irq_save,
  mutex_lock,
  schedule,
  set_current_state,
  spin_lock,
  spin_unlock,
  udelay,
  wait_for_completion,
  wake_up_process,
} from "../../src/kernel/index.ts";

test("a busy wait takes every interrupt that arrives during it (NIC at 50000/s, mdelay(200))", () => {
  const st = { irqs: 0 };
  const scn = inline(
    () => {
      st.irqs = 0;
      request_irq(11, () => Effect.sync(() => (nic("eth0").reap(), st.irqs++, IRQ_HANDLED as irqreturn_t)), 0, "eth0", null);
      kthread_run((_: null) => mdelay(200), null, "delayer");
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 50000, cpus: [0] }] },
  );
  run(scn);
  // About 10000 arrivals in 200 ms (Poisson, sd 100); back-to-back ones may share one interrupt.
  assert.ok(st.irqs > 9000 && st.irqs < 10500, String(st.irqs));
});

test("tasklet_kill yields to ksoftirqd instead of spinning (1 CPU, no preemption)", () => {
  const out: string[] = [];
  const scn = inline(
    () => {
      out.length = 0;
      const t = tasklet_init(() => Effect.sync(() => void out.push("ran")), null);
      kthread_run(
        (_: null) =>
          Effect.gen(function* () {
            yield* tasklet_schedule(t);
            yield* tasklet_kill(t);
            out.push(`killed at jiffy ${jiffies()}`);
          }),
        null,
        "killer",
      );
    },
    { cpus: 1, preempt: false },
  );
  const r = run(scn);
  assert.equal(out, ["ran", "killed at jiffy 0"]);
  assert.ok(r.steps < 50, String(r.steps));
});

test("the next task runs with interrupts on after a task slept with them off (finish_task_switch)", () => {
  const out: boolean[] = [];
  const scn = inline(
    () => {
      out.length = 0;
      kthread_run(
        (_: null) =>
          Effect.gen(function* () {
            local_irq_disable();
            yield* msleep(20);
            out.push(irqs_disabled());
          }),
        null,
        "A",
      );
      kthread_run(
        (_: null) =>
          Effect.gen(function* () {
            yield* msleep(1);
            out.push(irqs_disabled());
          }),
        null,
        "B",
      );
    },
    { cpus: 1 },
  );
  run(scn);
  assert.equal(out, [false, false]);
});

test("a CPU idle for 25 s is not a soft lockup when it wakes", () => {
  const scn = inline(
    () => {
      const st = { done: false };
      const wq = init_waitqueue_head("wq");
      const t = tasklet_init(() => mdelay(10), null);
      request_irq(
        14,
        () =>
          Effect.gen(function* () {
            disk("sda").reap();
            st.done = true;
            wake_up(wq);
            yield* tasklet_schedule(t);
            return IRQ_HANDLED as irqreturn_t;
          }),
        0,
        "sda",
        null,
      );
      kthread_run((_: null) => Effect.asVoid(wait_event_interruptible(wq, () => st.done)), null, "waiter", { cpus: [1] });
      disk("sda").submit(1);
    },
    { cpus: 2, disks: [{ name: "sda", irq: 14, minNs: 25e9, maxNs: 25e9, cpus: [1] }] },
  );
  const r = run(scn);
  assert.equal(r.reports, []);
  assert.is(r.stop, "done");
});

test("taking a mutex twice hangs the task (reported at 120 s), it does not succeed", () => {
  const scn = inline(() => {
    const m = DEFINE_MUTEX("m");
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* mutex_lock(m);
          yield* mutex_lock(m);
        }),
      null,
      "selfdead",
    );
  });
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["INFO: task selfdead:3 blocked for more than 120 seconds."]);
});

test("one IRQ line delivered to two CPUs never runs its handler on both at once", () => {
  const st = { inside: 0, overlaps: 0, runs: 0 };
  const scn = inline(
    () => {
      Object.assign(st, { inside: 0, overlaps: 0, runs: 0 });
      request_irq(
        11,
        () =>
          Effect.gen(function* () {
            if (++st.inside > 1) st.overlaps++;
            st.runs++;
            nic("eth0").reap();
            yield* udelay(30);
            st.inside--;
            return IRQ_HANDLED as irqreturn_t;
          }),
        0,
        "eth0",
        null,
      );
    },
    { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 50000, cpus: [0, 1], delivery: "round-robin" }] },
    { duration_ms: 5 },
  );
  run(scn);
  assert.is(st.overlaps, 0);
  assert.ok(st.runs > 100, String(st.runs));
});

test("local_irq_restore(flags) restores the flag exactly; schedule() returns with interrupts on", () => {
  const out: boolean[] = [];
  const scn = inline(() => {
    out.length = 0;
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          local_irq_disable();
          const flags = local_irq_save();
          yield* local_irq_enable();
          yield* local_irq_restore(flags);
          out.push(irqs_disabled());
          yield* schedule();
          out.push(irqs_disabled());
        }),
      null,
      "t",
    );
  }, { cpus: 1 });
  run(scn);
  assert.equal(out, [true, false]);
});

test("a lockup found in the middle of a step that then sleeps still ends the run with its reports", () => {
  const scn = inline(() => {
    const l = DEFINE_SPINLOCK("L");
    const go = new completion("go");
    const t = kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* spin_lock(l);
          set_current_state(TASK_UNINTERRUPTIBLE);
          yield* schedule();
          yield* spin_unlock(l);
        }),
      null,
      "T",
      { cpus: [0] },
    );
    kthread_run((_: null) => Effect.gen(function* () { yield* wait_for_completion(go); yield* spin_lock(l); }), null, "S", { cpus: [0] });
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* msleep(4);
          complete(go);
          yield* msleep(8);
          wake_up_process(t); // T queues behind S spinning on its lock: a cycle
          yield* msleep(1); // ... and this step goes on to arm a timer
        }),
      null,
      "W",
      { cpus: [1] },
    );
  });
  const r = run(scn);
  assert.ok(r.reports.some((x) => x.kind === "soft_lockup"), r.reports.map((x) => x.title).join("; "));
  assert.match(r.stop, /^stopped: lockup/);
});

test("a CPU with interrupts off for watchdog_thresh (10 s) gets the NMI hard-lockup report", () => {
  const scn = inline(() => {
    kthread_run(
      function irqs_off_loop(_: null) {
        return Effect.gen(function* () {
          local_irq_disable();
          for (;;) yield* udelay(1000);
        });
      },
      null,
      "looper",
    );
  }, { cpus: 1 });
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["NMI watchdog: Watchdog detected hard LOCKUP on cpu 0"]);
  // Interrupts went off a few ns after boot; the check is armed for exactly 10 s later.
  const off = r.reports[0]!.ts - 10e9;
  assert.ok(off > 0 && off < 10_000, String(off));
});

test("khungtaskd reports a D-state task even while a device keeps interrupting (checks every 120 s)", () => {
  const scn = inline(
    () => {
      request_irq(11, () => Effect.sync(() => (nic("eth0").reap(), IRQ_HANDLED as irqreturn_t)), 0, "eth0", null);
      const never = new completion("never");
      kthread_run((_: null) => wait_for_completion(never), null, "waiter");
    },
    { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 100, cpus: [1] }] },
  );
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["INFO: task waiter:3 blocked for more than 120 seconds."]);
  // Blocked just after 0: not yet 120 s at the first check (120 s), reported at the second.
  assert.is(r.reports[0]!.ts, 240e9);
});

test.run();
