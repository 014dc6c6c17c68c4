// kernel/semaphore.c (2.6.34; kernel/locking/semaphore.c in 6.1): counting semaphores. `count`
// is how many more tasks may go down without sleeping; down() takes one or sleeps at the tail of
// the FIFO wait list, up() gives one back or hands it to the first waiter (which wakes with it:
// waiter.up), so waiters get the semaphore in the order they came. down() waits uninterruptibly
// (a task left there is a hung task), down_interruptible() interruptibly and gives up with
// -EINTR when a signal is pending (mmsim's only one: the OOM killer's SIGKILL, which wakes it),
// down_timeout() gives up with -ETIME after `timeout` jiffies, down_trylock() returns 0 when it
// took one and 1 when it did not (the inverse of spin_trylock and mutex_trylock, as in Linux).
// up() and down_trylock() may be called from any context, by any task.
// might_sleep: 6.1 checks in down(), down_interruptible() and down_timeout() (might_sleep() was
// added there in 5.15: "BUG: sleeping function called from invalid context at
// kernel/locking/semaphore.c:58" for down()), so a down() from atomic context is reported even
// when it does not sleep; 2.6.34 has no such check: only a down() that does sleep from atomic
// context is caught, by schedule() ("BUG: scheduling while atomic", or from an interrupt the
// simulator's "scheduling in interrupt context" panic). Semaphores have no lockdep map in
// Linux, so lockdep does not see them.
// Simplified: sem->lock (a raw spinlock taken with interrupts off) is not modelled: each call's
// work on the count and the list is one step after one interleaving point; down_killable() is
// missing (mmsim has no TASK_KILLABLE).
import * as Effect from "effect/Effect";
import { CALL, OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { kernel, kernel_if_running } from "../kernel.ts";
import { __might_sleep, current, set_current_state, wake_up_process } from "../sched/core.ts";
import { TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, type Task, type TaskState } from "../sched/task.ts";
import { MAX_SCHEDULE_TIMEOUT, schedule_timeout } from "../time/sleep.ts";
import { gen_fn } from "../gen_fn.ts";

/**
 * EINTR (4): interrupted system call; down_interruptible() returns -EINTR when a signal (in mmsim
 * only the OOM killer's SIGKILL) ended its wait.
 */
export const EINTR = 4;
/** ETIME (62): timer expired; down_timeout() returns -ETIME when the timeout passed first. */
export const ETIME = 62;

interface semaphore_waiter {
  readonly task: Task;
  /** Set by up() when it hands the semaphore to this waiter. */
  up: boolean;
}

/**
 * struct semaphore: a counting semaphore: `count` more tasks may take it without sleeping; sleepers
 * wait in a FIFO list and up() hands it to the first of them. Any task may up() it, from any
 * context. Made with DEFINE_SEMAPHORE(name, n), or `new semaphore(name)` and sema_init(); no
 * lockdep map (Linux has none). Its raw spinlock, sem->lock, is not modelled.
 */
export class semaphore {
  readonly wait_list: semaphore_waiter[] = [];
  /** down()'s, down_interruptible()'s, down_trylock()'s and up()'s ops, made on first use. */
  ops: Effect.Effect<unknown>[] | null = null;
  /** The kernel of the run that last used it, and the count sema_init gave it (a semaphore made outside a run starts each run afresh). */
  owner: unknown = null;
  initial = 0;
  constructor(
    readonly name: string,
    public count = 0,
  ) {}
}

/** The semaphore as the running kernel's: its count and waiters reset when another run used it last. */
function own(k: unknown, sem: semaphore): semaphore {
  if (sem.owner !== k) {
    sem.owner = k;
    sem.count = sem.initial;
    while (sem.wait_list.length > 0) sem.wait_list.pop();
  }
  return sem;
}

/** sema_init(sem, val): the semaphore with `val` to hand out and nobody waiting. */
export function sema_init(sem: semaphore, val: number): void {
  if (!Number.isInteger(val) || val < 0) throw new ScenarioError(`sema_init(${sem.name}, ${val}): the count must be a whole number from 0`);
  sem.count = val;
  sem.initial = val;
  sem.owner = kernel_if_running();
  while (sem.wait_list.length > 0) sem.wait_list.pop();
}

/** DEFINE_SEMAPHORE(name, n = 1): a semaphore `n` tasks may hold at once (1: a binary semaphore). */
export function DEFINE_SEMAPHORE(name: string, n = 1): semaphore {
  const sem = new semaphore(name);
  sema_init(sem, n);
  return sem;
}

// The sleeping calls, their slow paths and 6.1's might_sleep() lines in kernel/locking/semaphore.c.
const DOWN = 0;
const DOWN_INTERRUPTIBLE = 1;
const DOWN_TIMEOUT = 2;
const NAMES = ["down", "down_interruptible", "down_timeout"];
const SLOW = ["__down", "__down_interruptible", "__down_timeout"];
const MIGHT_SLEEP_LINE = [58, 82, 164];
const STATE: readonly TaskState[] = [TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE];

/** signal_pending_state(): a pending signal ends an interruptible sleep (mmsim's signal is SIGKILL). */
const signal_pending_state = (state: TaskState, p: Task): boolean => state === TASK_INTERRUPTIBLE && p.sigkill;

/** __down_common(): sleeps at the tail of the wait list until up() hands the semaphore over (0), a signal (-EINTR) or the timeout (-ETIME). */
const __down_common = gen_fn(function* __down_common(sem: semaphore, kind: number, timeout: number): Effect.fn.Return<number> {
  const ctx = kernel().this_ctx();
  const me = current();
  const state = STATE[kind]!;
  const waiter: semaphore_waiter = { task: me, up: false };
  sem.wait_list.push(waiter);
  ctx.frames.push(SLOW[kind]!, "schedule_timeout");
  let left = timeout;
  let ret = 0;
  for (;;) {
    if (signal_pending_state(state, me)) {
      ret = -EINTR;
      break;
    }
    if (left <= 0) {
      ret = -ETIME;
      break;
    }
    set_current_state(state);
    left = yield* schedule_timeout(left);
    if (waiter.up) break;
  }
  if (!waiter.up) sem.wait_list.splice(sem.wait_list.indexOf(waiter), 1);
  ctx.frames.pop();
  ctx.frames.pop();
  return ret;
});

/**
 * down(), down_interruptible(), down_timeout(): (6.1) might_sleep, an interleaving point, then
 * one of the count or the slow path. Phases: 0 entering, 1 after the interleaving point, 2 back
 * from the slow path (its result in act.x).
 */
class DownOp extends OpClass {
  constructor(
    readonly sem: semaphore,
    readonly kind: number,
    readonly timeout: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const kind = this.kind;
    switch (act.phase) {
      case 0:
        k.this_ctx().frames.push(NAMES[kind]!);
        if (k.config.era === "6") __might_sleep("kernel/locking/semaphore.c", MIGHT_SLEEP_LINE[kind]!, 0);
        k.charge(k.costs.step);
        act.phase = 1;
        return PARK;
      case 1:
        k.charge(k.costs.atomic);
        own(k, this.sem);
        if (this.sem.count > 0) {
          this.sem.count--;
          k.this_ctx().frames.pop();
          return kind === DOWN ? undefined : 0;
        }
        act.x = __down_common(this.sem, kind, this.timeout);
        act.phase = 2;
        return CALL;
      default:
        k.this_ctx().frames.pop();
        return kind === DOWN ? undefined : act.x;
    }
  }
}

/** down_trylock(): an interleaving point, then 0 if it took one, 1 if none was left. */
class DownTrylockOp extends OpClass {
  constructor(readonly sem: semaphore) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    if (act.phase === 0) {
      k.charge(k.costs.step);
      act.phase = 1;
      return PARK;
    }
    k.charge(k.costs.atomic);
    if (own(k, this.sem).count <= 0) return 1;
    this.sem.count--;
    return 0;
  }
}

/** up(): one more to hand out, or handed to the first waiter, which is woken; then an interleaving point. */
class UpOp extends OpClass {
  constructor(readonly sem: semaphore) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    k.charge(k.costs.atomic);
    const waiter = own(k, this.sem).wait_list.shift();
    if (waiter === undefined) this.sem.count++;
    else {
      waiter.up = true;
      wake_up_process(waiter.task);
    }
    k.charge(k.costs.step);
    act.phase = 1;
    return PARK;
  }
}

/** The semaphore's op `i` (DOWN, DOWN_INTERRUPTIBLE, TRYLOCK, UP), made on first use. */
const TRYLOCK = 2;
const UP = 3;
function sem_op<A>(sem: semaphore, i: number): Effect.Effect<A> {
  const ops = (sem.ops ??= []);
  return (ops[i] ??= op(i === TRYLOCK ? new DownTrylockOp(sem) : i === UP ? new UpOp(sem) : new DownOp(sem, i, MAX_SCHEDULE_TIMEOUT))) as Effect.Effect<A>;
}

/** down(): takes the semaphore, sleeping uninterruptibly until one is free. Context: process, may sleep. */
export const down = (sem: semaphore): Effect.Effect<void> => sem_op(sem, DOWN);
/** down_interruptible(): 0 when it took the semaphore, -EINTR when a signal ended the wait. Context: process, may sleep. */
export const down_interruptible = (sem: semaphore): Effect.Effect<number> => sem_op(sem, DOWN_INTERRUPTIBLE);
/** down_timeout(): 0 when it took the semaphore, -ETIME when `timeout` jiffies passed first. Context: process, may sleep. */
export const down_timeout = (sem: semaphore, timeout: number): Effect.Effect<number> => op(new DownOp(sem, DOWN_TIMEOUT, timeout));
/** down_trylock(): 0 when it took the semaphore, 1 when none was free (never sleeps). Context: any. */
export const down_trylock = (sem: semaphore): Effect.Effect<number> => sem_op(sem, TRYLOCK);
/** up(): releases the semaphore (by any task, from any context). */
export const up = (sem: semaphore): Effect.Effect<void> => sem_op(sem, UP);
