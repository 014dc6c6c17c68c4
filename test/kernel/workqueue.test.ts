// Workqueues (kernel/workqueue.c): queue_work's return value and the worker a work runs in, in
// each era; flush_work and cancel_work_sync's waits and return values; delayed work on a timer;
// workqueues of one's own; lockdep's reports through the work's and the workqueue's maps; the
// leak check. Expected values derived by hand (HZ 250: a jiffy is 4 ms).
import { test } from "uvu";
import * as Effect from "effect/Effect";
import * as assert from "uvu/assert";
import { inline, run } from "../helpers.ts";
import {
  DEFINE_MUTEX,
  DEFINE_SPINLOCK,
  INIT_DELAYED_WORK,
  INIT_WORK,
  WQ_HIGHPRI,
  alloc_workqueue,
  cancel_delayed_work,
  cancel_delayed_work_sync,
  cancel_work_sync,
  create_singlethread_workqueue,
  current,
  destroy_workqueue,
  flush_delayed_work,
  flush_work,
  flush_workqueue,
  in_interrupt,
  jiffies,
  kthread_run,
  ktime_get_ns,
  machine_costs,
  msecs_to_jiffies,
  msleep,
  mutex_lock,
  mutex_unlock,
  preempt_count,
  queue_work,
  queue_work_on,
  schedule_delayed_work,
  schedule_work,
  smp_processor_id,
  spin_lock,
  system_wq,
  udelay,
  work_pending,
  type Task,
  type work_struct,
} from "../../src/kernel/index.ts";
import { TASK_DEAD } from "../../src/kernel/sched/task.ts";

type Era = "2.6" | "6";
const M = (era: Era, extra: object = {}) => ({ cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 }, ...extra }) as const;
const text = (r: ReturnType<typeof run>, kind: string) => r.reports.filter((x) => x.kind === kind).map((x) => x.text.split("\n"));
/** Runs `body` as task "t" on CPU `cpu` (pid 4 on a 2-CPU machine with memory: ksoftirqd/0, ksoftirqd/1, kswapd0 first). */
const on = (era: Era, cpu: number, body: () => Generator<Effect.Effect<any, never, never>, void, any>, extra: object = {}, setup: () => void = () => {}) =>
  run(
    inline(() => {
      setup();
      kthread_run((_: null) => Effect.gen(body), null, "t", { cpus: [cpu] });
    }, M(era, extra)),
  );

test("schedule_work: true, then false while pending; the work runs in process context in its CPU's worker (events/0, kworker/0:1)", () => {
  for (const era of ["2.6", "6"] as const) {
    const got: unknown[] = [];
    const r = on(era, 0, function* () {
      const w = INIT_WORK(function* stats_fn(_w: work_struct) {
        got.push({ comm: current().comm, cpu: smp_processor_id(), pc: preempt_count(), intr: in_interrupt() });
        yield* msleep(4); // process context: it may sleep
      });
      got.push(schedule_work(w), schedule_work(w), work_pending(w));
      yield* msleep(20);
      got.push(work_pending(w), schedule_work(w));
      yield* msleep(20);
    });
    assert.is(r.failed, false);
    const comm = era === "2.6" ? "events/0" : "kworker/0:1";
    assert.equal(got, [true, false, true, { comm, cpu: 0, pc: 0, intr: false }, false, true, { comm, cpu: 0, pc: 0, intr: false }], era);
  }
});

test("flush_work returns true once the work has returned (woken then: two wake-up costs and a context switch later), false for an idle work", () => {
  const st = { end: 0, flushed: 0, r1: false, r2: true, r3: true, switches: -1, t2: 0, t3: 0 };
  let c: Record<string, number> = {};
  on("2.6", 1, function* () {
    c = { ...machine_costs() };
    const w = INIT_WORK(function* busy_fn(_w: work_struct) {
      yield* udelay(500);
      st.end = ktime_get_ns();
    });
    st.r2 = yield* flush_work(w); // never queued: false
    queue_work_on(0, system_wq, w);
    st.r1 = yield* flush_work(w);
    st.flushed = ktime_get_ns();
    const me: Task = current();
    const nvcsw = me.nvcsw;
    st.t2 = ktime_get_ns();
    st.r3 = yield* flush_work(w); // done: false, without sleeping
    st.t3 = ktime_get_ns();
    st.switches = me.nvcsw - nvcsw;
  });
  assert.equal([st.r1, st.r2, st.r3, st.switches, st.t3 - st.t2], [true, false, false, 0, 0]);
  // The worker on CPU0 wakes the flusher: it pays the wake-up, and the idle CPU1 is brought to
  // its clock plus the wake-up, then switches from the idle task to the flusher.
  assert.is(st.flushed, st.end + 2 * c.wakeup! + c.context_switch!);
});

test("flush_work waits for the instance queued last: a work queued again while it runs is flushed after its second run", () => {
  const st = { started: false, runs: 0, requeued: false, ret: false, runs_at_return: 0 };
  on("6", 1, function* () {
    const w = INIT_WORK(function* twice_fn(_w: work_struct) {
      st.started = true;
      yield* udelay(300);
      st.runs++;
    });
    queue_work_on(0, system_wq, w);
    while (!st.started) yield* udelay(1);
    st.requeued = queue_work_on(0, system_wq, w); // running, not pending: queued again
    st.ret = yield* flush_work(w);
    st.runs_at_return = st.runs;
  });
  assert.equal(st, { started: true, runs: 2, requeued: true, ret: true, runs_at_return: 2 });
});

test("cancel_work_sync: a pending work is taken off (true, it never runs); a running one is waited for (false); an idle one: false", () => {
  for (const era of ["2.6", "6"] as const) {
    const st = { runs: 0, pending: false, running: false, idle: true, started: false, end: 0, back: 0 };
    let c: Record<string, number> = {};
    on(era, 1, function* () {
      c = { ...machine_costs() };
      const w = INIT_WORK(function* slow_fn(_w: work_struct) {
        st.started = true;
        yield* udelay(200);
        st.runs++;
        st.end = ktime_get_ns();
      });
      queue_work_on(0, system_wq, w);
      st.pending = yield* cancel_work_sync(w); // before the worker took it
      yield* msleep(10);
      const runs_before = st.runs;
      queue_work_on(0, system_wq, w);
      while (!st.started) yield* udelay(1);
      st.running = yield* cancel_work_sync(w);
      st.back = ktime_get_ns();
      assert.is(runs_before, 0);
      st.idle = yield* cancel_work_sync(w);
    });
    assert.equal([st.pending, st.running, st.idle, st.runs], [true, false, false, 1], era);
    assert.is(st.back, st.end + 2 * c.wakeup! + c.context_switch!, era);
  }
});

test("delayed work: queued by its timer after msecs_to_jiffies(ms) jiffies, on the timer's CPU; cancel_delayed_work_sync and flush_delayed_work", () => {
  for (const era of ["2.6", "6"] as const) {
    const ran: { j: number; comm: string }[] = [];
    const st = { j0: -1, cancelled: false, flushed: false, j_flush: -1 };
    on(era, 1, function* () {
      const dw = INIT_DELAYED_WORK(function* poll_fn(_w: work_struct) {
        ran.push({ j: jiffies(), comm: current().comm });
      });
      st.j0 = jiffies();
      schedule_delayed_work(dw, msecs_to_jiffies(10)); // 3 jiffies
      yield* msleep(20);
      schedule_delayed_work(dw, 50);
      st.cancelled = yield* cancel_delayed_work_sync(dw); // still in its timer: true
      yield* msleep(20);
      schedule_delayed_work(dw, 50);
      st.flushed = yield* flush_delayed_work(dw); // queued at once and waited for
      st.j_flush = jiffies();
    });
    const comm = era === "2.6" ? "events/1" : "kworker/1:1";
    // msleep(20): 5 + 1 jiffies each; the flush runs the work at jiffy 12.
    assert.equal(ran, [{ j: 3, comm }, { j: 12, comm }], era);
    assert.equal(st, { j0: 0, cancelled: true, flushed: true, j_flush: 12 }, era);
  }
});

test("cancel_delayed_work once the timer has queued the work: 2.6.34 only stops timers (false, the work runs), 6.1 takes it off the list (true)", () => {
  for (const era of ["2.6", "6"] as const) {
    const st = { ret: false, runs: 0 };
    on(era, 0, function* () {
      const dw = INIT_DELAYED_WORK(function* late_fn(_w: work_struct) {
        st.runs++;
      });
      schedule_delayed_work(dw, 1);
      yield* udelay(6000); // busy past the tick: the timer queues the work behind this task
      st.ret = yield* cancel_delayed_work(dw);
      yield* msleep(10);
    });
    assert.equal(st, era === "2.6" ? { ret: false, runs: 1 } : { ret: true, runs: 0 }, era);
  }
});

test("workqueues of one's own: their workers' names in each era; flush_workqueue waits for every work queued; destroy_workqueue", () => {
  for (const era of ["2.6", "6"] as const) {
    const comms: string[] = [];
    const st = { done: 0, at_flush: -1, worker_dead: false };
    let single: Task | null = null;
    on(era, 0, function* () {
      const wq = alloc_workqueue("mydrv", 0, 0);
      const hi = alloc_workqueue("mydrv_hi", WQ_HIGHPRI, 0);
      const ord = create_singlethread_workqueue("mydrv_ord");
      const mk = (name: string) =>
        INIT_WORK({ [name]: function* (_w: work_struct) {
          comms.push(current().comm);
          if (current().comm.startsWith("mydrv_ord") || current().comm.includes("u4")) single = current();
          yield* msleep(4);
          st.done++;
        } }[name]!);
      queue_work_on(1, wq, mk("a"));
      queue_work_on(0, hi, mk("b"));
      queue_work(ord, mk("c"));
      queue_work(ord, mk("d"));
      yield* flush_workqueue(ord);
      st.at_flush = st.done; // c and d done; a and b may not be
      yield* flush_workqueue(wq);
      yield* flush_workqueue(hi);
      yield* destroy_workqueue(ord);
      yield* msleep(4);
      st.worker_dead = single?.state === TASK_DEAD;
    });
    assert.equal([...comms].sort(), era === "2.6" ? ["mydrv/1", "mydrv_hi/0", "mydrv_ord", "mydrv_ord"] : ["kworker/0:1H", "kworker/1:1", "kworker/u4:1", "kworker/u4:1"], era);
    assert.is(st.done, 4, era);
    assert.ok(st.at_flush >= 2, era);
    assert.is(st.worker_dead, era === "2.6", era); // 2.6.34's own thread exits; 6.1's unbound pool stays
  }
});

test("flush_work from the work itself: lockdep's recursive locking, on the workqueue's map (2.6.34) or the work's (6.1)", () => {
  const expect: Record<Era, string[]> = {
    "2.6": [
      "=============================================",
      "[ INFO: possible recursive locking detected ]",
      "2.6.34-mmsim #1",
      "---------------------------------------------",
      "events/0/5 is trying to acquire lock:",
      " (events){+.+...}, at: self_flush",
      "",
      "but task is already holding lock:",
      " (events){+.+...}, at: worker_thread",
      "",
      "other info that might help us debug this:",
      "2 locks held by events/0/5:",
      " #0:  (events){+.+...}, at: worker_thread",
      " #1:  ((&dev->work)){+.+...}, at: worker_thread",
    ],
    "6": [
      "============================================",
      "WARNING: possible recursive locking detected",
      "6.1.0-mmsim #1 Not tainted",
      "--------------------------------------------",
      "kworker/0:1/5 is trying to acquire lock:",
      "c1800040 ((work_completion)(&dev->work)){+.+.}-{0:0}, at: flush_work",
      "",
      "but task is already holding lock:",
      "c1800040 ((work_completion)(&dev->work)){+.+.}-{0:0}, at: worker_thread",
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      "  lock((work_completion)(&dev->work));",
      "  lock((work_completion)(&dev->work));",
      "",
      " *** DEADLOCK ***",
      "",
      " May be due to missing lock nesting notation",
      "",
      "2 locks held by kworker/0:1/5:",
      " #0: c1800000 ((wq_completion)events){+.+.}-{0:0}, at: worker_thread",
      " #1: c1800040 ((work_completion)(&dev->work)){+.+.}-{0:0}, at: worker_thread",
    ],
  };
  for (const era of ["2.6", "6"] as const) {
    const r = on(era, 0, function* () {
      const w = INIT_WORK(function* self_flush(me: work_struct) {
        yield* flush_work(me); // waits for itself: a deadlock
      }, "&dev->work");
      schedule_work(w);
      yield* msleep(10);
    }, { lockdep: true });
    const lines = text(r, "lockdep")[0]!;
    assert.equal(lines.slice(0, lines.indexOf("stack backtrace:") - 1), expect[era], era);
  }
});

test("cancel_work_sync holding a mutex the work takes: lockdep's circular dependency through the work's map (2.6.34)", () => {
  const r = on(
    "2.6",
    0,
    function* () {},
    { lockdep: true },
    () => {
      const m = DEFINE_MUTEX("&dev->mutex");
      const w = INIT_WORK(function* dev_reset(_w: work_struct) {
        yield* mutex_lock(m);
        yield* mutex_unlock(m);
      }, "&dev->reset_work");
      kthread_run(function* dev_remove(_: null) {
        schedule_work(w);
        yield* msleep(10); // the work ran: (&dev->reset_work) -> &dev->mutex
        yield* mutex_lock(m);
        yield* cancel_work_sync(w); // &dev->mutex -> (&dev->reset_work)
        yield* mutex_unlock(m);
      }, null, "remover", { cpus: [0] });
    },
  );
  // pids: ksoftirqd/0 1, ksoftirqd/1 2, kswapd0 3, remover 4, t 5, events/0 6.
  const lines = text(r, "lockdep")[0]!;
  assert.equal(lines.slice(4, 9), [
    "remover/4 is trying to acquire lock:",
    " ((&dev->reset_work)){+.+...}, at: __cancel_work_timer",
    "",
    "but task is already holding lock:",
    " (&dev->mutex){+.+...}, at: mutex_lock",
  ]);
  assert.equal(lines.slice(lines.indexOf("-> #1 (&dev->mutex){+.+...}:"), lines.indexOf("other info that might help us debug this:")), [
    "-> #1 (&dev->mutex){+.+...}:",
    "       lock_acquire",
    "       mutex_lock_nested",
    "       mutex_lock",
    "       dev_reset",
    "       run_workqueue",
    "       worker_thread",
    "       kthread",
    "",
    "-> #0 ((&dev->reset_work)){+.+...}:",
    "       __lock_acquire",
    "       lock_acquire",
    "       wait_on_work",
    "       __cancel_work_timer",
    "       cancel_work_sync",
    "       dev_remove",
    "       kthread",
    "",
  ]);
});

test("a work that returns holding a spinlock: 'BUG: workqueue leaked lock or atomic'", () => {
  const r = on("2.6", 0, function* () {
    const lock = DEFINE_SPINLOCK("&dev->lock");
    const w = INIT_WORK(function* leaky_fn(_w: work_struct) {
      yield* spin_lock(lock); // never unlocked
    });
    schedule_work(w);
    yield* msleep(10);
  });
  // pids: ksoftirqd/0 1, ksoftirqd/1 2, kswapd0 3, t 4, events/0 5.
  assert.equal(text(r, "bug")[0]!.slice(0, 8), [
    "BUG: workqueue leaked lock or atomic: events/0/0x00000001/5",
    "    last function: leaky_fn",
    "1 lock held by events/0/5:",
    " #0:  (&dev->lock){....}, at: spin_lock",
    "Pid: 5, comm: events/0 Not tainted 2.6.34-mmsim #1",
    "Call Trace:",
    " run_workqueue",
    " worker_thread",
  ]);
  // It then sleeps with preemption off, as Linux's worker would.
  assert.equal(r.reports.map((x) => x.kind), ["bug", "scheduling_while_atomic"]);
});

test.run();
