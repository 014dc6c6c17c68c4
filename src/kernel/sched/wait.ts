// kernel/wait.c and include/linux/wait.h reduced: wait queues of tasks, prepare_to_wait /
// finish_wait, wake_up (all non-exclusive waiters and one exclusive one) and the wait_event
// family with the condition given as a function.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current, schedule, set_current_state, try_to_wake_up } from "./core.ts";
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Task, type TaskState } from "./task.ts";
import { MAX_SCHEDULE_TIMEOUT, schedule_timeout } from "../time/sleep.ts";
import { gen_fn } from "../gen_fn.ts";

/**
 * WQ_FLAG_EXCLUSIVE (0x01, both eras): the wait entry's flag for an exclusive waiter: a wake_up()
 * wakes every non-exclusive waiter but only one exclusive one.
 */
export const WQ_FLAG_EXCLUSIVE = 0x01;

/**
 * wait_queue_t (2.6.34's name; 6.1's struct wait_queue_entry): one task's entry on a wait queue,
 * made by DEFINE_WAIT(). `queued` is the simulator's: whether it is on a queue. There is no wake
 * function: a wake-up wakes the entry's task and leaves the entry queued until finish_wait()
 * (DEFINE_WAIT's autoremove_wake_function would take it off).
 */
export interface wait_queue_t {
  readonly task: Task;
  flags: number;
  queued: boolean;
}

/**
 * wait_queue_head_t: a wait queue: its entries in wake-up order (non-exclusive ones at the head,
 * exclusive ones at the tail). `name` is the simulator's label; there is no queue lock (each
 * operation is one step).
 */
export class wait_queue_head_t {
  readonly task_list: wait_queue_t[] = [];
  /** The kernel of the run that last used it (one made outside a run starts each run empty). */
  owner: unknown = null;
  constructor(readonly name: string) {}
}

/** The wait queue as the running kernel's: emptied of another run's waiters. */
function own_wq(q: wait_queue_head_t): wait_queue_head_t {
  const k = kernel();
  if (q.owner !== k) {
    q.owner = k;
    while (q.task_list.length > 0) q.task_list.pop();
  }
  return q;
}

/**
 * init_waitqueue_head(name): a new empty wait queue (Linux initializes one in place). Context: any;
 * a plain call.
 */
export const init_waitqueue_head = (name = "wq"): wait_queue_head_t => new wait_queue_head_t(name);
/** DECLARE_WAIT_QUEUE_HEAD(name): the same as init_waitqueue_head(name). */
export const DECLARE_WAIT_QUEUE_HEAD = init_waitqueue_head;

/** DEFINE_WAIT(wait): an entry for the current task. */
export const DEFINE_WAIT = (): wait_queue_t => ({ task: current(), flags: 0, queued: false });

/**
 * prepare_to_wait(q, wait, state): queues `wait` as a non-exclusive waiter at the head of `q` (if
 * not queued yet) and sets the current task's state to `state`; the caller then checks its
 * condition and calls schedule(). Context: process; never sleeps. A plain call.
 */
export function prepare_to_wait(q: wait_queue_head_t, wait: wait_queue_t, state: TaskState): void {
  own_wq(q);
  wait.flags &= ~WQ_FLAG_EXCLUSIVE;
  if (!wait.queued) {
    q.task_list.unshift(wait);
    wait.queued = true;
  }
  set_current_state(state);
}

/**
 * prepare_to_wait_exclusive(q, wait, state): prepare_to_wait() for an exclusive waiter, queued at
 * the tail of `q` (a wake_up() wakes one of these). Context: process; never sleeps. A plain call.
 */
export function prepare_to_wait_exclusive(q: wait_queue_head_t, wait: wait_queue_t, state: TaskState): void {
  own_wq(q);
  wait.flags |= WQ_FLAG_EXCLUSIVE;
  if (!wait.queued) {
    q.task_list.push(wait);
    wait.queued = true;
  }
  set_current_state(state);
}

/**
 * finish_wait(q, wait): sets the current task TASK_RUNNING and takes `wait` off `q` if it is still
 * queued. Context: process; never sleeps. A plain call.
 */
export function finish_wait(q: wait_queue_head_t, wait: wait_queue_t): void {
  set_current_state(TASK_RUNNING);
  if (wait.queued) {
    const i = q.task_list.indexOf(wait);
    if (i >= 0) q.task_list.splice(i, 1);
    wait.queued = false;
  }
}

/** __wake_up(): wakes non-exclusive waiters and up to `nr_exclusive` exclusive ones (0 = all). */
export function __wake_up(q: wait_queue_head_t, mode: number, nr_exclusive: number): void {
  own_wq(q);
  for (const w of [...q.task_list]) {
    const woke = try_to_wake_up(w.task, mode);
    if (woke && (w.flags & WQ_FLAG_EXCLUSIVE) !== 0 && --nr_exclusive === 0) break;
  }
}

/** wake_up(): Context: any. */
export const wake_up = (q: wait_queue_head_t): void => __wake_up(q, TASK_NORMAL, 1);
/**
 * wake_up_all(q): wakes every task waiting on `q`, exclusive or not, in TASK_INTERRUPTIBLE or
 * TASK_UNINTERRUPTIBLE. Context: any; never sleeps. A plain call, not an interleaving point.
 */
export const wake_up_all = (q: wait_queue_head_t): void => __wake_up(q, TASK_NORMAL, 0);
/**
 * wake_up_interruptible(q): wake_up() of the tasks in TASK_INTERRUPTIBLE only: every non-exclusive
 * one and one exclusive one. Context: any; never sleeps. A plain call, not an interleaving point.
 */
export const wake_up_interruptible = (q: wait_queue_head_t): void => __wake_up(q, TASK_INTERRUPTIBLE, 1);

const wait_event_common = gen_fn(function* wait_event_common(q: wait_queue_head_t, condition: () => boolean, state: TaskState, timeout: number): Effect.fn.Return<number> {
  const ctx = kernel().this_ctx();
  if (condition()) return timeout === MAX_SCHEDULE_TIMEOUT ? 0 : Math.max(1, timeout);
  ctx.frames.push("wait_event");
  const wait = DEFINE_WAIT();
  let left = timeout;
  for (;;) {
    prepare_to_wait(q, wait, state);
    if (condition()) break;
    if (left === MAX_SCHEDULE_TIMEOUT) yield* schedule();
    else {
      left = yield* schedule_timeout(left);
      if (left === 0) break;
    }
  }
  finish_wait(q, wait);
  ctx.frames.pop();
  if (timeout === MAX_SCHEDULE_TIMEOUT) return 0;
  // wait_event_timeout(): 0 if the condition is still false at the timeout, else >= 1.
  return condition() ? Math.max(1, left) : 0;
});

/** wait_event(wq, condition): sleeps uninterruptibly until condition() holds. Context: process. */
export const wait_event = (q: wait_queue_head_t, condition: () => boolean): Effect.Effect<void> =>
  Effect.asVoid(wait_event_common(q, condition, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT));

/**
 * wait_event_interruptible(wq, condition): sleeps in TASK_INTERRUPTIBLE until condition() holds,
 * checking it first and after each wake-up; returns 0. Context: process; may sleep. An Effect to
 * `yield*`. No signal ends the wait here: it never returns -ERESTARTSYS.
 */
export const wait_event_interruptible = (q: wait_queue_head_t, condition: () => boolean): Effect.Effect<number> =>
  wait_event_common(q, condition, TASK_INTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);

/** wait_event_timeout(): returns 0 on timeout, else the jiffies left (at least 1). */
export const wait_event_timeout = (q: wait_queue_head_t, condition: () => boolean, timeout: number): Effect.Effect<number> =>
  wait_event_common(q, condition, TASK_UNINTERRUPTIBLE, timeout);

// ---------------------------------------------------------------- completions (kernel/sched.c)

/**
 * struct completion: a count of completions (`done`) and a wait queue of tasks waiting for one.
 * complete() adds one and wakes a waiter; wait_for_completion() takes one or sleeps.
 */
export class completion {
  done = 0;
  readonly wait: wait_queue_head_t;
  constructor(readonly name: string) {
    this.wait = new wait_queue_head_t(name);
  }
}

/**
 * init_completion(name): a new completion, not done (Linux initializes one in place). Context: any;
 * a plain call.
 */
export const init_completion = (name = "completion"): completion => new completion(name);
/** DECLARE_COMPLETION(name): the same as init_completion(name). */
export const DECLARE_COMPLETION = init_completion;

/** The completion as the running kernel's: not done, nobody waiting, when another run used it last (one made outside a run). */
function own_completion(x: completion): completion {
  if (x.wait.owner !== kernel()) {
    x.done = 0;
    own_wq(x.wait);
  }
  return x;
}

/** wait_for_completion(): Context: process, may sleep (uninterruptibly). */
export const wait_for_completion = (x: completion): Effect.Effect<void> =>
  Effect.asVoid(wait_for_completion_timeout(x, MAX_SCHEDULE_TIMEOUT));

/** wait_for_completion_timeout(): 0 on timeout, else the jiffies left (at least 1). */
export const wait_for_completion_timeout = gen_fn(function* wait_for_completion_timeout(x: completion, timeout: number): Effect.fn.Return<number> {
  const ctx = kernel().this_ctx();
  ctx.frames.push("wait_for_completion");
  let left = timeout;
  own_completion(x);
  if (x.done === 0) {
    const wait = DEFINE_WAIT();
    wait.flags |= WQ_FLAG_EXCLUSIVE;
    x.wait.task_list.push(wait);
    wait.queued = true;
    while (x.done === 0 && left > 0) {
      set_current_state(TASK_UNINTERRUPTIBLE);
      left = left === MAX_SCHEDULE_TIMEOUT ? (yield* schedule(), left) : yield* schedule_timeout(left);
    }
    finish_wait(x.wait, wait);
    if (x.done === 0) {
      ctx.frames.pop();
      return 0;
    }
  }
  if (x.done !== Number.MAX_SAFE_INTEGER) x.done--;
  ctx.frames.pop();
  return timeout === MAX_SCHEDULE_TIMEOUT ? 0 : Math.max(1, left);
});

/** complete(): Context: any. */
export function complete(x: completion): void {
  own_completion(x).done++;
  __wake_up(x.wait, TASK_NORMAL, 1);
}

/**
 * complete_all(x): marks the completion done for good and wakes every waiter; every later
 * wait_for_completion() returns at once. 2.6.34 adds UINT_MAX/2 to done, 6.1 sets UINT_MAX; mmsim
 * sets Number.MAX_SAFE_INTEGER, which waits do not count down. Context: any; never sleeps. A plain
 * call.
 */
export function complete_all(x: completion): void {
  own_completion(x).done = Number.MAX_SAFE_INTEGER;
  __wake_up(x.wait, TASK_NORMAL, 0);
}
