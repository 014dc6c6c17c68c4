// kernel/timer.c and include/linux/delay.h reduced: schedule_timeout() arms a one-shot timer
// that wakes the task at the given jiffy (the expiry is a timed event at that tick boundary
// rather than a TIMER_SOFTIRQ run), msleep() sleeps uninterruptibly, udelay() busy-waits.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current, schedule, set_current_state, wake_up_process } from "../sched/core.ts";
import { OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE } from "../sched/task.ts";
import { jiffies, msecs_to_jiffies } from "./tick.ts";
import { gen_fn } from "../gen_fn.ts";

/**
 * MAX_SCHEDULE_TIMEOUT: "no timeout" for schedule_timeout() and the waits built on it (Linux:
 * LONG_MAX; here Number.MAX_SAFE_INTEGER, 2^53 - 1): the sleep lasts until a wake-up, and
 * schedule_timeout() returns it unchanged.
 */
export const MAX_SCHEDULE_TIMEOUT = Number.MAX_SAFE_INTEGER;

/** schedule_timeout(): sleeps (in the state set before) until woken or `timeout` jiffies pass;
 * returns the jiffies left. Context: process, may sleep. */
export const schedule_timeout = gen_fn(function* schedule_timeout(timeout: number): Effect.fn.Return<number> {
  const k = kernel();
  if (timeout === MAX_SCHEDULE_TIMEOUT) {
    yield* schedule();
    return timeout;
  }
  const p = current();
  const expire = jiffies() + Math.max(0, timeout);
  p.has_timeout = true;
  const ev = k.engine.at(Math.max(k.now(), expire * k.tick_ns), 2, `process_timeout/${p.pid}`, () => {
    wake_up_process(p);
  });
  yield* schedule();
  k.engine.events.cancel(ev);
  p.has_timeout = false;
  return Math.max(0, expire - jiffies());
});

/**
 * schedule_timeout_uninterruptible(timeout): sets TASK_UNINTERRUPTIBLE, then schedule_timeout():
 * sleeps until woken or `timeout` jiffies pass; returns the jiffies left (0 at the timeout).
 * Context: process; may sleep. An Effect to `yield*`.
 */
export const schedule_timeout_uninterruptible = (timeout: number): Effect.Effect<number> =>
  Effect.suspend(() => {
    set_current_state(TASK_UNINTERRUPTIBLE);
    return schedule_timeout(timeout);
  });

/**
 * schedule_timeout_interruptible(timeout): sets TASK_INTERRUPTIBLE, then schedule_timeout(): sleeps
 * until woken (wake_up_interruptible() too) or `timeout` jiffies pass; returns the jiffies left (0
 * at the timeout). Context: process; may sleep. An Effect to `yield*`.
 */
export const schedule_timeout_interruptible = (timeout: number): Effect.Effect<number> =>
  Effect.suspend(() => {
    set_current_state(TASK_INTERRUPTIBLE);
    return schedule_timeout(timeout);
  });

/** msleep(): sleeps at least `msecs` (one jiffy more, as Linux does). Context: process. */
export const msleep = gen_fn(function* msleep(msecs: number): Effect.fn.Return<void> {
  const ctx = kernel().this_ctx();
  ctx.frames.push("msleep");
  let timeout = msecs_to_jiffies(msecs) + 1;
  while (timeout > 0) timeout = yield* schedule_timeout_uninterruptible(timeout);
  ctx.frames.pop();
});

/**
 * ndelay()/udelay()/mdelay(): busy-wait for exactly that much virtual time. The wait is cut at
 * every timed event that falls inside it, so an interrupt arriving meanwhile is taken then.
 */
export const ndelay = (ns: number): Effect.Effect<void> => {
  const n = Math.max(0, Math.round(ns));
  // Short delays (the common ones) as ops made once each (op.ts: an op value may be yielded again).
  return n < NDELAY_OPS ? (NDELAY[n] ??= op(new Ndelay(n))) : op(new Ndelay(n));
};
const NDELAY_OPS = 4096;
// Filled with null from the start: an array written at scattered indices goes sparse (a
// dictionary), and every lookup with it.
const NDELAY: (Effect.Effect<void> | null)[] = new Array<Effect.Effect<void> | null>(NDELAY_OPS).fill(null);

/** One park per slice: a slice ends at the next timed event or at the end of the wait. */
class Ndelay extends OpClass {
  constructor(private readonly ns: number) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase === 0) {
      act.phase = 1;
      act.n = this.ns;
      if (this.ns === 0) {
        const k = kernel();
        k.charge(k.costs.step);
        return PARK;
      }
    } else if (act.n === 0) return undefined;
    const k = kernel();
    const clock = k.this_cpu().hw.clock;
    const next = k.engine.events.peek();
    // An event already due (scheduled into this CPU's past during its step) gets a zero-length
    // slice, so it fires before the wait goes on.
    const chunk = next === undefined ? act.n : next.time <= clock ? 0 : Math.min(next.time - clock, act.n);
    k.charge(chunk);
    act.n -= chunk;
    return PARK;
  }
}

/**
 * udelay(us): busy-waits `us` microseconds of virtual time (ndelay(us * 1000)), without sleeping or
 * giving up the CPU; an interrupt that comes meanwhile is taken then (if interrupts are on).
 * Context: any; never sleeps. An Effect to `yield*`: an interleaving point at every timed event
 * inside the wait and at its end.
 */
export const udelay = (us: number): Effect.Effect<void> => ndelay(us * 1000);
/**
 * mdelay(ms): busy-waits `ms` milliseconds of virtual time (ndelay(ms * 1000000)), as udelay().
 * Context: any; never sleeps. An Effect to `yield*`.
 */
export const mdelay = (ms: number): Effect.Effect<void> => ndelay(ms * 1_000_000);

