// Functions the kernel calls, written as generator functions (src/kernel/gen_fn.ts): made into
// Effect functions once, when registered, they run step for step as their Effect.gen forms do.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import {
  DEFINE_SPINLOCK, IRQ_HANDLED, kthread_run, msleep, nic, process_run, request_irq, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, tasklet_init,
  tasklet_schedule, touch_anon_pages, udelay, type Task,
} from "../../src/kernel/index.ts";
import { INIT_WORK, schedule_work, type work_struct } from "../../src/kernel/workqueue.ts";
import { TASK_DEAD } from "../../src/kernel/sched/task.ts";
import { local_timer_interrupt } from "../../src/kernel/time/tick.ts";
import { try_to_free_pages } from "../../src/kernel/mm/vmscan.ts";

interface St {
  packets: number;
  handled: number;
  reads: number;
}

type Lock = ReturnType<typeof DEFINE_SPINLOCK>;
type Tasklet = ReturnType<typeof tasklet_init>;

/** The three functions as generator functions (the same names as effect_parts', so the traces can match). */
function generator_parts(st: St, lock: Lock, t: () => Tasklet) {
  function* rx_action(_data: unknown) {
    yield* spin_lock(lock);
    st.handled++;
    yield* spin_unlock(lock);
  }
  function* eth0_interrupt(_irq: number, _dev: unknown) {
    st.packets += nic("eth0").reap().length;
    yield* tasklet_schedule(t());
    return IRQ_HANDLED;
  }
  function* reader(_: null) {
    for (let i = 0; i < 40; i++) {
      yield* spin_lock_bh(lock);
      st.reads++;
      yield* spin_unlock_bh(lock);
      yield* udelay(20);
    }
  }
  return { rx_action, eth0_interrupt, reader };
}

/** The same, as functions returning Effect.gen. */
function effect_parts(st: St, lock: Lock, t: () => Tasklet) {
  const rx_action = (_data: unknown) =>
    Effect.gen(function* () {
      yield* spin_lock(lock);
      st.handled++;
      yield* spin_unlock(lock);
    });
  const eth0_interrupt = (_irq: number, _dev: unknown) =>
    Effect.gen(function* () {
      st.packets += nic("eth0").reap().length;
      yield* tasklet_schedule(t());
      return IRQ_HANDLED;
    });
  const reader = (_: null) =>
    Effect.gen(function* () {
      for (let i = 0; i < 40; i++) {
        yield* spin_lock_bh(lock);
        st.reads++;
        yield* spin_unlock_bh(lock);
        yield* udelay(20);
      }
    });
  return { rx_action, eth0_interrupt, reader };
}

/** A NIC handler, its tasklet and a reader thread. */
const model = (generators: boolean, out: { st?: St } = {}) =>
  inline<St>(
    () => {
      const st: St = (out.st = { packets: 0, handled: 0, reads: 0 });
      const lock = DEFINE_SPINLOCK("rx_lock");
      let tasklet: Tasklet | null = null;
      const fns = (generators ? generator_parts : effect_parts)(st, lock, () => tasklet!);
      tasklet = tasklet_init(fns.rx_action, null);
      request_irq(11, fns.eth0_interrupt, 0, "eth0", null);
      kthread_run(fns.reader, null, "reader", { cpus: [1] });
      return st;
    },
    { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 100000, cpus: [0] }] },
  );

test("a handler, a tasklet and a thread as generator functions run as their Effect.gen forms: the same trace, step for step", () => {
  for (const seed of [1, 2, 3]) {
    const out: { st?: St } = {};
    const g = run(model(true, out), { seed });
    const e = run(model(false), { seed });
    assert.is(g.failed, false);
    assert.is(e.failed, false);
    assert.is(g.traceHash, e.traceHash, `seed ${seed}`);
    assert.is(g.steps, e.steps, `seed ${seed}`);
    // The reader finished; packets arrived (100 a ms over its 40 x 20 us) and its tasklet ran.
    assert.is(out.st!.reads, 40);
    assert.ok(out.st!.packets > 0 && out.st!.handled > 0, `seed ${seed}`);
  }
});

test("a tasklet or thread written as a generator function keeps its name (traces and backtraces print it)", () => {
  function* rx_action(_data: unknown) {
    yield* udelay(1);
  }
  assert.is(tasklet_init(rx_action, null).name, "rx_action");
  assert.is(tasklet_init((_d: unknown) => Effect.void, null).name, "tasklet");
  // The kernel's own functions made once keep theirs.
  assert.is(local_timer_interrupt.name, "local_timer_interrupt");
  assert.is(try_to_free_pages.name, "try_to_free_pages");
});

test("a work item and a user process as generator functions; a function returning a generator runs as an Effect.gen body would", () => {
  const st = { work: 0, touched: false, helper: 0, names: [] as string[] };
  function* count_up(n: number) {
    for (let i = 0; i < n; i++) {
      yield* udelay(1);
      st.helper++;
    }
  }
  const r = run(
    inline(
      () => {
        function* flush_stats(_w: work_struct) {
          yield* udelay(5);
          st.work++;
        }
        const w = INIT_WORK(flush_stats);
        function* app_main(_: null) {
          yield* touch_anon_pages(16);
          st.touched = true;
        }
        const app: Task = process_run(app_main, null, "app", { cpus: [1] });
        // Not a generator function itself: it returns the generator count_up makes.
        const t = kthread_run((n: number) => count_up(n), 3, "counter", { cpus: [0] });
        st.names.push(t.comm);
        kthread_run(
          function* submitter(_: null) {
            schedule_work(w);
            while (app.state !== TASK_DEAD || st.work === 0) yield* msleep(1);
          },
          null,
          "submitter",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "x86_64", kernel: "2.6", mb: 64, pcp: false } },
    ),
  );
  assert.is(r.failed, false, r.expectations.join("; "));
  assert.is(st.work, 1);
  assert.is(st.touched, true);
  assert.is(st.helper, 3);
});

test.run();
