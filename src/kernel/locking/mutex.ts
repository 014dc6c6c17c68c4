// kernel/mutex.c (2.6.34) reduced: a sleeping lock with a FIFO wait list; mutex_lock may sleep
// (might_sleep at kernel/mutex.c:94, the 2.6.3x location) and waits in TASK_UNINTERRUPTIBLE.
// Simplified: unlock hands the mutex to the first waiter (no lock stealing, no optimistic
// spinning), as 4.x's handoff does under contention.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { __might_sleep, current, schedule, sched_point, set_current_state, wake_up_process } from "../sched/core.ts";
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Task } from "../sched/task.ts";
import { lock_acquire, lock_release } from "./lockdep.ts";
import { gen_fn } from "../gen_fn.ts";

interface mutex_waiter {
  readonly task: Task;
  /** Set by mutex_unlock when it hands the mutex to this waiter. */
  granted: boolean;
}

/**
 * struct mutex: a sleeping lock with one owner (the task that took it) and a FIFO list of waiting
 * tasks. Its lockdep class is its name. mmsim: no optimistic spinning and no lock stealing
 * (mutex_unlock hands it to the first waiter); of CONFIG_DEBUG_MUTEXES's checks only the warning
 * for an unlock by a task that is not the owner.
 */
export class mutex {
  owner: Task | null = null;
  readonly wait_list: mutex_waiter[] = [];
  constructor(readonly name: string) {}
}

/**
 * mutex_init(name): a new mutex, unlocked, named `name` (its lockdep class). Context: any; a plain
 * call.
 */
export const mutex_init = (name: string): mutex => new mutex(name);
/** DEFINE_MUTEX(name): the same as mutex_init(name). */
export const DEFINE_MUTEX = mutex_init;

/** mutex_lock(): Context: process, may sleep. */
export const mutex_lock = gen_fn(function* mutex_lock(lock: mutex): Effect.fn.Return<void> {
  const ctx = kernel().this_ctx();
  ctx.frames.push("mutex_lock");
  __might_sleep("kernel/mutex.c", 94, 0);
  yield* sched_point();
  lock_acquire(kernel(), lock, lock.name, "mutex", "mutex_lock_nested");
  const me = current();
  if (lock.owner === null) lock.owner = me;
  else {
    // Taking it again while holding it waits forever, as in Linux (a hung task).
    const waiter: mutex_waiter = { task: me, granted: false };
    lock.wait_list.push(waiter);
    ctx.frames.push("__mutex_lock_slowpath");
    while (!waiter.granted) {
      set_current_state(TASK_UNINTERRUPTIBLE);
      yield* schedule();
    }
    set_current_state(TASK_RUNNING);
    ctx.frames.pop();
  }
  ctx.frames.pop();
});

/** mutex_trylock(): 1 if taken. */
export const mutex_trylock = (lock: mutex): Effect.Effect<number> =>
  Effect.map(sched_point(), () => {
    if (lock.owner !== null) return 0;
    lock.owner = current();
    lock_acquire(kernel(), lock, lock.name, "mutex", "mutex_trylock", true);
    return 1;
  });

/** mutex_unlock(): Context: process (the owner). */
export const mutex_unlock = (lock: mutex): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const me = current();
    if (lock.owner !== me) {
      k.printk(`DEBUG_LOCKS_WARN_ON(lock->owner != current): mutex ${lock.name} released by ${me.comm}/${me.pid}`);
    }
    lock_release(k, lock);
    const next = lock.wait_list.shift();
    lock.owner = next?.task ?? null;
    if (next !== undefined) {
      next.granted = true;
      wake_up_process(next.task);
    }
    return sched_point();
  });

/**
 * mutex_is_locked(lock): true if some task owns the mutex. Context: any; never sleeps. A plain
 * call.
 */
export const mutex_is_locked = (lock: mutex): boolean => lock.owner !== null;
