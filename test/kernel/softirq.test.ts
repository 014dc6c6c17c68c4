// Softirqs and tasklets: the context each runs in, restarts handed to ksoftirqd, tasklet rules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import {
  IRQ_HANDLED,
  NET_RX_SOFTIRQ,
  current,
  disk,
  in_interrupt,
  in_irq,
  in_softirq,
  kthread_run,
  local_bh_disable,
  local_bh_enable,
  open_softirq,
  preempt_count,
  raise_softirq,
  request_irq,
  tasklet_disable,
  tasklet_enable,
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  msleep,
  type irqreturn_t,
} from "../../src/kernel/index.ts";
import { HARDIRQ_OFFSET, SOFTIRQ_DISABLE_OFFSET, SOFTIRQ_OFFSET, SOFTIRQ_MASK, HARDIRQ_MASK, NMI_MASK } from "../../src/kernel/preempt.ts";
import taskletSmp from "../../scenarios/teach/tasklet-smp.ts";

const DISK = { name: "sda", irq: 14, minNs: 10_000, maxNs: 10_000 };

test("preempt_count layout (4.19)", () => {
  assert.is(SOFTIRQ_OFFSET, 0x100);
  assert.is(SOFTIRQ_DISABLE_OFFSET, 0x200);
  assert.is(HARDIRQ_OFFSET, 0x10000);
  assert.is(SOFTIRQ_MASK, 0xff00);
  assert.is(HARDIRQ_MASK, 0xf0000);
  assert.is(NMI_MASK, 0x100000);
});

// A softirq raised by a hardirq runs at irq_exit; one that keeps raising itself goes to ksoftirqd
// after MAX_SOFTIRQ_RESTART (10) passes.
test("softirq restart accounting, exactly", () => {
  let handler_pc = -1;
  let seen: Array<{ comm: string; pc: number; irq: boolean; softirq: boolean; intr: boolean }> = [];
  const scn = inline(
    () => {
      seen = [];
      open_softirq(NET_RX_SOFTIRQ, () =>
        Effect.gen(function* () {
          seen.push({ comm: current().comm, pc: preempt_count(), irq: in_irq(), softirq: in_softirq(), intr: in_interrupt() });
          if (seen.length < 25) yield* raise_softirq(NET_RX_SOFTIRQ);
        }),
      );
      request_irq(
        DISK.irq,
        () => {
          handler_pc = preempt_count();
          return Effect.as(raise_softirq(NET_RX_SOFTIRQ), IRQ_HANDLED as irqreturn_t);
        },
        0,
        "sda",
        null,
      );
      kthread_run(
        (_: null) =>
          Effect.gen(function* () {
            disk("sda").submit(1);
            yield* msleep(20);
          }),
        null,
        "submitter",
        { cpus: [1] },
      );
    },
    { cpus: 2, disks: [DISK] },
  );
  run(scn);
  assert.is(handler_pc, HARDIRQ_OFFSET);
  assert.is(seen.length, 25);
  // The disk interrupt arrives on CPU0, idle: the first 10 passes run at irq_exit on top of swapper/0.
  assert.equal(seen.slice(0, 10).map((s) => s.comm), Array(10).fill("swapper/0"));
  assert.equal(seen.slice(10).map((s) => s.comm), Array(15).fill("ksoftirqd/0"));
  for (const s of seen) {
    assert.is(s.pc, SOFTIRQ_OFFSET);
    assert.equal([s.irq, s.softirq, s.intr], [false, true, true]);
  }
});

// _local_bh_enable_ip() drops SOFTIRQ_DISABLE_OFFSET - 1 first (0x200 -> 0x1, preemption stays
// off) and __do_softirq adds SOFTIRQ_OFFSET: the handler sees 0x101.
test("local_bh_enable runs softirqs raised while bottom halves were off, in the task's context", () => {
  const order: string[] = [];
  const scn = inline(() => {
    order.length = 0;
    open_softirq(NET_RX_SOFTIRQ, () =>
      Effect.sync(() => {
        order.push(`softirq in ${current().comm} pc=${preempt_count().toString(16)}`);
      }),
    );
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          local_bh_disable();
          order.push(`disabled pc=${preempt_count().toString(16)}`);
          yield* raise_softirq(NET_RX_SOFTIRQ);
          order.push("raised");
          yield* local_bh_enable();
          order.push(`enabled pc=${preempt_count().toString(16)}`);
        }),
      null,
      "bh",
    );
  });
  run(scn);
  assert.equal(order, ["disabled pc=200", "raised", "softirq in bh pc=101", "enabled pc=0"]);
});

test("tasklet: disabled ones wait, tasklet_kill waits for the last run", () => {
  const runs: number[] = [];
  const scn = inline(() => {
    runs.length = 0;
    const t = tasklet_init(function count_run(n) {
      return Effect.sync(() => {
        runs.push(n as number);
      });
    }, 7);
    kthread_run(
      (_: null) =>
        Effect.gen(function* () {
          yield* tasklet_disable(t);
          yield* tasklet_schedule(t);
          yield* msleep(5);
          runs.push(-1); // still disabled: not run
          tasklet_enable(t);
          yield* tasklet_schedule(t);
          yield* tasklet_kill(t);
          runs.push(-2);
        }),
      null,
      "owner",
    );
  });
  const r = run(scn);
  assert.equal(r.reports, []);
  assert.equal(runs, [-1, 7, -2]);
});

test("tasklet-smp: no overlap and the scheduling CPU runs it, over 20 seeds", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = run(taskletSmp, { seed });
    assert.equal(r.expectations, [], `seed ${seed}`);
    assert.equal(r.reports, [], `seed ${seed}`);
  }
});

test.run();
