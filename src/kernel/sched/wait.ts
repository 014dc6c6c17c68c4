// kernel/wait.c and include/linux/wait.h reduced: wait queues of tasks, prepare_to_wait /
// finish_wait, wake_up (all non-exclusive waiters and one exclusive one) and the wait_event
// family with the condition given as a function.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current, schedule, set_current_state, try_to_wake_up } from "./core.ts";
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Task, type TaskState } from "./task.ts";
import { MAX_SCHEDULE_TIMEOUT, schedule_timeout } from "../time/sleep.ts";
import { gen_fn } from "../gen_fn.ts";

export const WQ_FLAG_EXCLUSIVE = 0x01;

export interface wait_queue_t {
  readonly task: Task;
  flags: number;
  queued: boolean;
}

export class wait_queue_head_t {
  readonly task_list: wait_queue_t[] = [];
  constructor(readonly name: string) {}
}

export const init_waitqueue_head = (name = "wq"): wait_queue_head_t => new wait_queue_head_t(name);
export const DECLARE_WAIT_QUEUE_HEAD = init_waitqueue_head;

/** DEFINE_WAIT(wait): an entry for the current task. */
export const DEFINE_WAIT = (): wait_queue_t => ({ task: current(), flags: 0, queued: false });

export function prepare_to_wait(q: wait_queue_head_t, wait: wait_queue_t, state: TaskState): void {
  wait.flags &= ~WQ_FLAG_EXCLUSIVE;
  if (!wait.queued) {
    q.task_list.unshift(wait);
    wait.queued = true;
  }
  set_current_state(state);
}

export function prepare_to_wait_exclusive(q: wait_queue_head_t, wait: wait_queue_t, state: TaskState): void {
  wait.flags |= WQ_FLAG_EXCLUSIVE;
  if (!wait.queued) {
    q.task_list.push(wait);
    wait.queued = true;
  }
  set_current_state(state);
}

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
  for (const w of [...q.task_list]) {
    const woke = try_to_wake_up(w.task, mode);
    if (woke && (w.flags & WQ_FLAG_EXCLUSIVE) !== 0 && --nr_exclusive === 0) break;
  }
}

/** wake_up(): Context: any. */
export const wake_up = (q: wait_queue_head_t): void => __wake_up(q, TASK_NORMAL, 1);
export const wake_up_all = (q: wait_queue_head_t): void => __wake_up(q, TASK_NORMAL, 0);
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

export const wait_event_interruptible = (q: wait_queue_head_t, condition: () => boolean): Effect.Effect<number> =>
  wait_event_common(q, condition, TASK_INTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);

/** wait_event_timeout(): returns 0 on timeout, else the jiffies left (at least 1). */
export const wait_event_timeout = (q: wait_queue_head_t, condition: () => boolean, timeout: number): Effect.Effect<number> =>
  wait_event_common(q, condition, TASK_UNINTERRUPTIBLE, timeout);

// ---------------------------------------------------------------- completions (kernel/sched.c)

export class completion {
  done = 0;
  readonly wait: wait_queue_head_t;
  constructor(readonly name: string) {
    this.wait = new wait_queue_head_t(name);
  }
}

export const init_completion = (name = "completion"): completion => new completion(name);
export const DECLARE_COMPLETION = init_completion;

/** wait_for_completion(): Context: process, may sleep (uninterruptibly). */
export const wait_for_completion = (x: completion): Effect.Effect<void> =>
  Effect.asVoid(wait_for_completion_timeout(x, MAX_SCHEDULE_TIMEOUT));

/** wait_for_completion_timeout(): 0 on timeout, else the jiffies left (at least 1). */
export const wait_for_completion_timeout = gen_fn(function* wait_for_completion_timeout(x: completion, timeout: number): Effect.fn.Return<number> {
  const ctx = kernel().this_ctx();
  ctx.frames.push("wait_for_completion");
  let left = timeout;
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
  x.done++;
  __wake_up(x.wait, TASK_NORMAL, 1);
}

export function complete_all(x: completion): void {
  x.done = Number.MAX_SAFE_INTEGER;
  __wake_up(x.wait, TASK_NORMAL, 0);
}
