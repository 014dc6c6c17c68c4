// kernel/time/tick-*.c reduced: each busy CPU takes a local timer interrupt at every tick
// boundary (jiffies are derived from virtual time: jiffies = now / TICK_NSEC, INITIAL_JIFFIES
// being 0 here); a CPU that is idle when its tick comes does not re-arm it (NO_HZ idle) until it
// gets work again, except for its next timer (timer.ts: NO_HZ arms the tick for it). The tick
// runs run_local_timers() (TIMER_SOFTIRQ when a timer is due), scheduler_tick() (time slices) and
// the soft-lockup watchdog.
import * as Effect from "effect/Effect";
import { LOCAL_TIMER_VECTOR } from "../../hw/vectors.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { PerCpu } from "../percpu.ts";
import { TIMER_SOFTIRQ, __raise_softirq_irqoff, irq_enter, irq_exit } from "../softirq.ts";
import { timer_due, timer_nohz_arm } from "./timer.ts";
import { trace_local_timer_entry, trace_local_timer_exit } from "../trace.ts";
import { softlockup_tick } from "../watchdog.ts";
import { gen_fn } from "../gen_fn.ts";

/**
 * jiffies: the tick count, HZ per second of virtual time (machine.hz): now / TICK_NSEC, starting at
 * 0 (Linux starts at INITIAL_JIFFIES, 5 minutes before a wrap). A function here: jiffies().
 * Context: any; a plain call.
 */
export const jiffies = (): number => {
  const k = kernel();
  return Math.floor(k.now() / k.tick_ns);
};

/** msecs_to_jiffies(m): `m` milliseconds in jiffies, rounded up. Context: any; a plain call. */
export const msecs_to_jiffies = (ms: number): number => {
  const k = kernel();
  return Math.ceil((ms * k.config.hz) / 1000);
};

/** jiffies_to_msecs(j): `j` jiffies in milliseconds, rounded down. Context: any; a plain call. */
export const jiffies_to_msecs = (j: number): number => Math.floor((j * 1000) / kernel().config.hz);

/** usecs_to_jiffies(): rounded up, as msecs_to_jiffies. */
export const usecs_to_jiffies = (us: number): number => Math.ceil((us * kernel().config.hz) / 1_000_000);

// include/linux/jiffies.h's comparisons (jiffies never wrap here: they start at 0 and are exact integers).
/**
 * time_after(a, b): true if jiffy `a` is after `b` (wrap-safe in Linux; jiffies do not wrap here).
 * Context: any; a plain call.
 */
export const time_after = (a: number, b: number): boolean => b - a < 0;
/**
 * time_before(a, b): true if jiffy `a` is before `b` (time_after(b, a)). Context: any; a plain
 * call.
 */
export const time_before = (a: number, b: number): boolean => time_after(b, a);
/** time_after_eq(a, b): true if jiffy `a` is `b` or after it. Context: any; a plain call. */
export const time_after_eq = (a: number, b: number): boolean => a - b >= 0;
/**
 * time_before_eq(a, b): true if jiffy `a` is `b` or before it (time_after_eq(b, a)). Context: any;
 * a plain call.
 */
export const time_before_eq = (a: number, b: number): boolean => time_after_eq(b, a);

function next_tick(k: Kernel, t: number): number {
  return (Math.floor(t / k.tick_ns) + 1) * k.tick_ns;
}

/** Arms this CPU's tick again when it leaves idle. */
export function tick_nohz_restart(pc: PerCpu): void {
  const k = kernel();
  if (!k.machine.timer.isArmed(pc.id)) k.machine.timer.arm(pc.id, next_tick(k, Math.max(pc.hw.clock, k.engine.now)));
}

/** scheduler_tick(): the running task uses up its slice; others queued here get a turn. */
function scheduler_tick(pc: PerCpu): void {
  const p = pc.curr;
  if (p === pc.idle) return;
  if (--p.time_slice <= 0 && pc.rq.length > 0) pc.need_resched = true;
}

export const local_timer_interrupt = gen_fn(function* local_timer_interrupt(): Effect.fn.Return<void> {
  const k = kernel();
  const pc = k.this_cpu();
  irq_enter();
  trace_local_timer_entry(LOCAL_TIMER_VECTOR);
  if (timer_due(k, pc)) __raise_softirq_irqoff(TIMER_SOFTIRQ); // run_local_timers()
  scheduler_tick(pc);
  softlockup_tick(k, pc);
  // Re-arm unless the CPU goes idle once this interrupt returns (NO_HZ idle).
  const idleAfter = pc.stack.length === 1 && pc.rq.length === 0;
  if (!idleAfter) k.machine.timer.arm(pc.id, next_tick(k, pc.hw.clock));
  else timer_nohz_arm(k, pc);
  trace_local_timer_exit(LOCAL_TIMER_VECTOR);
  yield* irq_exit();
});
