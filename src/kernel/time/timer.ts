// kernel/time/timer.c (6.1; kernel/timer.c in 2.6.34) and include/linux/timer.h reduced: struct
// timer_list on per-CPU timer bases. A timer is armed on the CPU that calls mod_timer()/add_timer()
// (it stays on its old base while its callback runs there, as __mod_timer does), and runs in
// TIMER_SOFTIRQ on that CPU at the first tick whose jiffies reach its expiry: the tick raises
// TIMER_SOFTIRQ when a timer is due (6.1's run_local_timers), and run_timer_softirq() runs the due
// timers in order of expiry, each with interrupts on (off for 6.1's TIMER_IRQSAFE) and the
// timer's lockdep_map held (call_timer_fn), so a callback is in softirq context (preempt_count
// 0x100, in_softirq()) and must not sleep. Timers of one expiry run in the order their bucket
// keeps: 2.6.34 appends (first armed, first run), 6.1 prepends (last armed, first run). A timer
// armed in the past runs at the base's next jiffy (6.1 first forwards an idle base's clock to
// jiffies). del_timer_sync() spins while the callback runs on another CPU (the wait costs virtual
// time until the callback returns, as a spinlock's does, and a cycle through it is a lockup the
// watchdog reports); with lockdep it takes the timer's map, so a callback that takes a lock its
// caller holds is a circular dependency, and calling it from the callback is recursive locking.
// 6.1 warns when it is called in hardirq context for a timer without TIMER_IRQSAFE.
// NO_HZ: a CPU going idle arms its tick for its next non-deferrable timer; a timer armed on an
// idle CPU arms that CPU's tick (Linux wakes it with an IPI to reprogram).
// Simplified: the wheel is exact to the jiffy at every distance (6.1's levels round expiries
// beyond 63 jiffies up to their level's granularity; 2.6.34's apply_slack is not modelled
// either); a run of TIMER_SOFTIRQ that is late by several jiffies runs every due timer in one
// pass (a timer a callback re-arms into a jiffy already past waits for the next tick); no timer
// migration to a busy CPU (timer_migration), no preempt-leak check after a callback, and the
// tracepoints name a timer by its function (no addresses). 2.6.34 raises TIMER_SOFTIRQ on every
// tick (it then finds nothing due); mmsim raises it only when a timer is due, as 6.1 does.
// schedule_timeout() (sleep.ts) keeps its own wake-up, a timed event at the tick boundary.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { CALL, OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { define_trace_event } from "../../sim/trace.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { ExecContext } from "../context.ts";
import type { PerCpu } from "../percpu.ts";
import { spinlock_t } from "../locking/spinlock.ts";
import { catch_up } from "../entry.ts";
import { check_spin_deadlock } from "../watchdog.ts";
import { X86_EFLAGS_IF, irq_restore_in_op, local_irq_disable, local_irq_restore, local_irq_save } from "../irqflags.ts";
import { HARDIRQ_MASK } from "../preempt.ts";
import { dump_stack, warn_text } from "../dumpstack.ts";
import { ScenarioBug } from "../bug.ts";
import { with_frames } from "../frames.ts";
import { lockdep_map, lock_map_acquire, lock_map_release, lockdep_on } from "../lockdep_map.ts";
import { effect_fn, gen_fn, type EffectFn } from "../gen_fn.ts";

// include/linux/timer.h (6.1): the flags timer_setup() takes, in timer->flags above the CPU.
export const TIMER_CPUMASK = 0x0003ffff;
export const TIMER_MIGRATING = 0x00040000;
export const TIMER_BASEMASK = TIMER_CPUMASK | TIMER_MIGRATING;
/**
 * TIMER_DEFERRABLE (6.1: 0x00080000; 2.6.34 has init_timer_deferrable() instead): the timer does
 * not wake an idle CPU: it runs at the first tick the CPU takes anyway. mmsim arms no idle CPU's
 * tick for it (NO_HZ).
 */
export const TIMER_DEFERRABLE = 0x00080000;
/**
 * TIMER_PINNED (6.1: 0x00100000; 2.6.34 has mod_timer_pinned() instead): the timer stays on the CPU
 * that arms it rather than move to a busy one. mmsim never moves a timer, so it changes nothing
 * here.
 */
export const TIMER_PINNED = 0x00100000;
/**
 * TIMER_IRQSAFE (6.1: 0x00200000; not in 2.6.34, mmsim honours it in both eras): the callback runs
 * with interrupts off, so del_timer_sync() may wait for it from hardirq context (6.1 warns there
 * for a timer without it).
 */
export const TIMER_IRQSAFE = 0x00200000;
export const TIMER_INIT_FLAGS = TIMER_DEFERRABLE | TIMER_PINNED | TIMER_IRQSAFE;

const TP_TIMER_START = define_trace_event("timer_start", { function: "str", expires: "num", timeout: "num", cpu: "num" }, (e, s) => `function=${s.str(e.a0)} expires=${e.a1} [timeout=${e.a2}] cpu=${e.a3}`);
const TP_TIMER_EXPIRE_ENTRY = define_trace_event("timer_expire_entry", { function: "str", now: "num" }, (e, s) => `function=${s.str(e.a0)} now=${e.a1}`);
const TP_TIMER_EXPIRE_EXIT = define_trace_event("timer_expire_exit", { function: "str" }, (e, s) => `function=${s.str(e.a0)}`);
const TP_TIMER_CANCEL = define_trace_event("timer_cancel", { function: "str" }, (e, s) => `function=${s.str(e.a0)}`);

/** struct timer_list. Scenario code reads and sets `expires`, `function`, `data` and `flags` as Linux code does. */
export class timer_list {
  /** The jiffy the timer is due at. */
  expires = 0;
  /** timer->function: a generator function or one returning an Effect; given the timer (timer_setup) or `data` (setup_timer, init_timer). */
  function: EffectFn<[arg: any], void> | null = null;
  /** 2.6's timer->data, the argument of a setup_timer()/init_timer() timer's function. */
  data: unknown = undefined;
  /** TIMER_DEFERRABLE, TIMER_PINNED, TIMER_IRQSAFE (the CPU bits are not kept here). */
  flags = 0;
  /** lockdep's map (lockdep_init_map in init_timer_key), named when the timer is set up. */
  lockdep_map: lockdep_map;
  /** timer_setup() timers get the timer as argument, older ones `data`. */
  legacy = false;
  /** The base the timer is queued on or last ran on (-1: never armed). */
  cpu = -1;
  pending = false;
  /** Its slot in its base's list while pending. */
  index = -1;
  /** The jiffy it runs at (max(expires, base clock) when armed) and its order among timers of that jiffy. */
  eff = 0;
  order = 0;
  /** The context running its callback (base->running_timer), or null. */
  running: ExecContext | null = null;
  /** del_timer_sync() callers spinning until the callback returns, and what they spin on (made on first use). */
  readonly waiters: ExecContext[] = [];
  sync: spinlock_t | null = null;
  wait_op: Effect.Effect<void> | null = null;
  /** The function as an Effect function and the frames its runs show, made from `function` once (again if it changes). */
  fn: ((arg: unknown) => Effect.Effect<void>) | null = null;
  fn_of: unknown = null;
  frames: readonly string[] = [];
  /** The function's name in the trace of the run that last traced the timer. */
  trace_ref: unknown = null;
  trace_id = -1;
  /** The run whose bases the fields above describe (a timer made once and used by several runs starts afresh in each). */
  owner: unknown = null;

  /** `name`: the expression the driver would pass to timer_setup ("&dev->timer"), lockdep's class name; the function's name if empty. */
  constructor(readonly name = "") {
    this.lockdep_map = new lockdep_map(name);
  }
}

/** One CPU's timer base (struct timer_base / tvec_base). */
interface timer_base {
  readonly cpu: number;
  /** The pending timers, in no order (each knows its slot). */
  readonly timers: timer_list[];
  /** base->clk: the first jiffy not yet run. */
  clk: number;
}

interface TimerState {
  readonly bases: timer_base[];
  /** Arming order, for timers due at the same jiffy. */
  seq: number;
}

const states = new WeakMap<Kernel, TimerState>();

function state_of(k: Kernel): TimerState {
  let s = states.get(k);
  if (s === undefined) states.set(k, (s = { bases: k.percpu.map((pc) => ({ cpu: pc.id, timers: [], clk: 0 })), seq: 0 }));
  return s;
}

/** The timer as the running kernel's: its queueing state reset when it was last used by another run. */
function own(k: Kernel, t: timer_list): timer_list {
  const s = state_of(k);
  if (t.owner !== s) {
    t.owner = s;
    t.pending = false;
    t.index = -1;
    t.cpu = -1;
    t.running = null;
    while (t.waiters.length > 0) t.waiters.pop();
    t.sync = null;
  }
  return t;
}

const jiffies_of = (k: Kernel): number => Math.floor(k.now() / k.tick_ns);
const tick_at = (k: Kernel, j: number, now: number): number => Math.max(j * k.tick_ns, (Math.floor(now / k.tick_ns) + 1) * k.tick_ns);

function fn_name(t: timer_list): string {
  return (t.function as { name?: string } | null)?.name || "timer_fn";
}

function trace_fn(k: Kernel, t: timer_list): number {
  const tr = k.engine.trace;
  if (t.trace_ref === tr) return t.trace_id;
  t.trace_ref = tr;
  return (t.trace_id = k.str(fn_name(t)));
}

/** init_timer_key(): the function, the flags and lockdep's class name (the timer's name, or its function's; in parentheses for timer_setup). */
function init_timer_key(t: timer_list, fn: EffectFn<[arg: any], void> | null, flags: number, legacy: boolean, parens: boolean): void {
  if ((flags & ~TIMER_INIT_FLAGS) !== 0) throw new ScenarioError(`timer_setup: flags 0x${flags.toString(16)}: only TIMER_DEFERRABLE, TIMER_PINNED and TIMER_IRQSAFE`);
  t.function = fn;
  t.flags = flags;
  t.legacy = legacy;
  const name = t.name || (fn as { name?: string } | null)?.name || "timer";
  // timer_setup(timer, ...) passes "(timer)" to __init_timer, whose #_timer keeps the parentheses.
  t.lockdep_map = new lockdep_map(parens ? `(${name})` : name);
}

/** __init_timer(timer, fn, flags): timer_setup()'s calling convention, lockdep's class named as the timer is (INIT_DELAYED_WORK's "&(_work)->timer"). */
export function __init_timer(timer: timer_list, fn: EffectFn<[timer: timer_list], void>, flags: number): void {
  init_timer_key(timer, fn, flags, false, false);
}

/**
 * timer_setup(timer, callback, flags) (4.15+): `callback(timer)` runs in softirq context when the
 * timer expires; flags TIMER_DEFERRABLE, TIMER_PINNED, TIMER_IRQSAFE. Context: any.
 */
export function timer_setup(timer: timer_list, callback: EffectFn<[timer: timer_list], void>, flags: number): void {
  init_timer_key(timer, callback, flags, false, true);
}

/** setup_timer(timer, fn, data) (2.6): `fn(data)` runs when the timer expires. Context: any. */
export function setup_timer<D>(timer: timer_list, fn: EffectFn<[data: D], void>, data: D): void {
  init_timer_key(timer, fn as EffectFn<[arg: any], void>, 0, true, false);
  timer.data = data;
}

/** init_timer(timer) (2.6): the caller sets timer.function and timer.data afterwards. */
export function init_timer(timer: timer_list): void {
  init_timer_key(timer, null, 0, true, false);
}

/** timer_pending(timer): queued and not yet run. */
export const timer_pending = (timer: timer_list): boolean => own(kernel(), timer).pending;

/** The function as an Effect function, and its frames, from whatever `function` holds now. */
function prepare_fn(k: Kernel, t: timer_list): (arg: unknown) => Effect.Effect<void> {
  if (t.function === null) throw new ScenarioError(`timer ${t.lockdep_map.name}: no function (timer_setup, setup_timer, or init_timer and timer.function)`);
  if (t.fn_of !== t.function || t.fn === null) {
    t.fn = effect_fn(t.function);
    t.fn_of = t.function;
    const name = fn_name(t);
    t.frames = k.config.era === "6" ? ["call_timer_fn", name] : ["run_timer_softirq", name];
  }
  return t.fn;
}

/** detach_timer(): off its base's list (the last one moves into its slot). */
function detach_timer(k: Kernel, t: timer_list): void {
  const list = state_of(k).bases[t.cpu]!.timers;
  const last = list.pop()!;
  if (last !== t) {
    list[t.index] = last;
    last.index = t.index;
  }
  t.pending = false;
  t.index = -1;
  k.trace(TP_TIMER_CANCEL, trace_fn(k, t));
}

/**
 * internal_add_timer() on `cpu`'s base: due at max(expires, the base's clock); an idle CPU's tick
 * is armed for it (unless it is deferrable).
 */
function enqueue_timer(k: Kernel, t: timer_list, cpu: number): void {
  const s = state_of(k);
  const base = s.bases[cpu]!;
  const now = jiffies_of(k);
  // 6.1 forward_timer_base(): an idle base's clock catches up with jiffies (at most to its next expiry).
  if (k.config.era === "6" && base.clk < now) {
    let next = Infinity;
    for (const x of base.timers) if (x.eff < next) next = x.eff;
    base.clk = Math.max(base.clk, Math.min(now, next));
  }
  t.cpu = cpu;
  t.eff = Math.max(t.expires, base.clk);
  t.order = k.config.era === "6" ? -++s.seq : ++s.seq;
  t.pending = true;
  t.index = base.timers.length;
  base.timers.push(t);
  k.trace(TP_TIMER_START, trace_fn(k, t), t.expires, t.expires - now, cpu);
  if ((t.flags & TIMER_DEFERRABLE) === 0) {
    const at = tick_at(k, t.eff, k.now());
    if (k.machine.timer.armedAt(cpu) > at) k.machine.timer.arm(cpu, at);
  }
}

/** __mod_timer(): dequeues if pending, then queues on this CPU (the old one while the callback runs there, or `on`). */
function __mod_timer(k: Kernel, t: timer_list, expires: number, on: number): number {
  prepare_fn(k, t);
  const ret = t.pending ? 1 : 0;
  if (t.pending) detach_timer(k, t);
  let cpu = on >= 0 ? on : k.this_cpu().id;
  if (on < 0 && t.running !== null && t.cpu >= 0 && t.cpu !== cpu) cpu = t.cpu;
  t.expires = expires;
  enqueue_timer(k, t, cpu);
  return ret;
}

/**
 * mod_timer(timer, expires): (re)arms the timer for jiffy `expires`; 1 if it was pending, 0 if
 * not. Context: any; never sleeps (a plain function, not an interleaving point).
 */
export function mod_timer(timer: timer_list, expires: number): number {
  const k = kernel();
  own(k, timer);
  if (timer.pending && timer.expires === expires) return 1;
  return __mod_timer(k, timer, expires, -1);
}

/** BUG_ON() in timer.c: the report, then the machine stops. */
function timer_bug(k: Kernel, what: string): never {
  const file = k.config.era === "6" ? "kernel/time/timer.c" : "kernel/timer.c";
  k.report("bug", [`kernel BUG at ${file}: ${what}!`, ...dump_stack(k.this_ctx(), ["BUG"])].join("\n"));
  throw new ScenarioBug(`kernel BUG at ${file}: ${what}`);
}

/** add_timer(timer): arms it for timer.expires; BUG if it is pending. Context: any. */
export function add_timer(timer: timer_list): void {
  const k = kernel();
  own(k, timer);
  if (timer.pending) timer_bug(k, "add_timer() of a pending timer");
  __mod_timer(k, timer, timer.expires, -1);
}

/** add_timer_on(timer, cpu): arms it on `cpu`'s base; BUG if it is pending. Context: any. */
export function add_timer_on(timer: timer_list, cpu: number): void {
  const k = kernel();
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= k.percpu.length) throw new ScenarioError(`add_timer_on: no CPU ${cpu} on a ${k.percpu.length}-CPU machine`);
  if (own(k, timer).pending) timer_bug(k, "add_timer_on() of a pending timer");
  __mod_timer(k, timer, timer.expires, cpu);
}

/** del_timer(timer): dequeues it; 1 if it was pending, 0 if not (its callback may be running). Context: any. */
export function del_timer(timer: timer_list): number {
  const k = kernel();
  if (!own(k, timer).pending) return 0;
  detach_timer(k, timer);
  return 1;
}

/** try_to_del_timer_sync(): -1 while the callback runs, else del_timer(). */
export function try_to_del_timer_sync(timer: timer_list): number {
  return own(kernel(), timer).running !== null ? -1 : del_timer(timer);
}

/**
 * The wait in del_timer_sync()'s loop: spins (interrupts as they were) until the callback
 * returns; the context is handed on at that time plus a cache line's transfer. Phase 1: done.
 */
class TimerWait extends OpClass {
  constructor(readonly t: timer_list) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const t = this.t;
    if (t.running === null) return undefined;
    const k = kernel();
    const ctx = k.this_ctx();
    const sync = (t.sync ??= new spinlock_t(t.lockdep_map.name));
    sync.holder = t.running;
    t.waiters.push(ctx);
    ctx.spinning = sync;
    ctx.spin_since = k.now();
    ctx.spin_by = "del_timer_sync";
    k.charge(k.costs.step);
    act.phase = 1;
    check_spin_deadlock(k, ctx);
    return PARK;
  }
}

/** The callback returned: every del_timer_sync() spinning on it goes on. */
function release_waiters(k: Kernel, t: timer_list): void {
  const at = k.now() + k.costs.lineTransfer;
  for (const w of t.waiters) {
    if (w.cpu.top() === w) catch_up(w.cpu, at);
    w.spinning = null;
    w.cpu.hw.changed();
  }
  while (t.waiters.length > 0) t.waiters.pop();
  t.sync!.holder = null;
}

/**
 * del_timer_sync(timer): dequeues it and waits until its callback is not running on any CPU;
 * 1 if it was pending. Must not be called from the callback, nor holding a lock the callback
 * takes (a deadlock: lockdep reports it through the timer's map). 6.1 warns in hardirq context
 * unless the timer is TIMER_IRQSAFE. Context: any but hardirq; spins, never sleeps.
 */
export const del_timer_sync = gen_fn(function* del_timer_sync(timer: timer_list): Effect.fn.Return<number> {
  const k = kernel();
  if (lockdep_on()) {
    // "If lockdep gives a backtrace here, please reference the synchronization rules above."
    const flags = local_irq_save();
    lock_map_acquire(timer.lockdep_map, "del_timer_sync");
    lock_map_release(timer.lockdep_map);
    yield* local_irq_restore(flags);
  }
  if (k.config.era === "6" && (k.this_cpu().preempt_count & HARDIRQ_MASK) !== 0 && (timer.flags & TIMER_IRQSAFE) === 0) {
    k.report("bug", warn_text(k.this_ctx(), "kernel/time/timer.c", "del_timer_sync"));
  }
  let ret = try_to_del_timer_sync(timer);
  if (ret >= 0) return ret;
  const frames = k.this_ctx().frames;
  frames.push("del_timer_sync");
  while (ret < 0) {
    yield* (timer.wait_op ??= op(new TimerWait(timer)));
    ret = try_to_del_timer_sync(timer);
  }
  frames.pop();
  return ret;
});

// ---------------------------------------------------------------- expiry

/** run_local_timers() from the tick: TIMER_SOFTIRQ is raised (interrupts are off) when a timer here is due. */
export function timer_due(k: Kernel, pc: PerCpu): boolean {
  const s = states.get(k);
  if (s === undefined) return false;
  const list = s.bases[pc.id]!.timers;
  if (list.length === 0) return false;
  const j = jiffies_of(k);
  for (const t of list) if (t.eff <= j) return true;
  return false;
}

/**
 * tick_nohz_stop_tick(): `pc` goes idle after this tick; its timer is armed for its next
 * non-deferrable timer not due now (those due now run at this interrupt's exit).
 */
export function timer_nohz_arm(k: Kernel, pc: PerCpu): void {
  const s = states.get(k);
  if (s === undefined) return;
  const j = jiffies_of(k);
  let next = Infinity;
  for (const t of s.bases[pc.id]!.timers) if ((t.flags & TIMER_DEFERRABLE) === 0 && t.eff > j && t.eff < next) next = t.eff;
  if (next === Infinity) return;
  const at = tick_at(k, next, pc.hw.clock);
  if (k.machine.timer.armedAt(pc.id) > at) k.machine.timer.arm(pc.id, at);
}

/** The due timer to run next: the earliest jiffy, then its bucket's order; null when none is due. */
function next_due(base: timer_base, j: number): timer_list | null {
  let best: timer_list | null = null;
  for (const t of base.timers) if (t.eff <= j && (best === null || t.eff < best.eff || (t.eff === best.eff && t.order < best.order))) best = t;
  return best;
}

const RUN_TIMERS_FRAMES = ["run_timer_softirq", "__run_timers"];

/**
 * run_timer_softirq() / __run_timers() as an op: phase 0 takes the base (interrupts off); each
 * due timer is detached, interrupts go on (an interleaving point; not for TIMER_IRQSAFE), phase 1
 * calls it with its map held, phase 2 is back from it; phase 3 is the end. act.n: the jiffy run
 * up to; act.y: the timer running.
 */
class RunTimerSoftirq extends OpClass {
  run(act: Activation): unknown {
    const k = kernel();
    const s = states.get(k);
    switch (act.phase) {
      case 0: {
        if (s === undefined) return undefined;
        const base = s.bases[k.this_cpu().id]!;
        act.n = jiffies_of(k);
        if (next_due(base, act.n) === null) return undefined;
        if (k.config.era === "6") for (const f of RUN_TIMERS_FRAMES) k.this_ctx().frames.push(f);
        local_irq_disable();
        base.clk = Math.max(base.clk, act.n + 1);
        return this.next(k, base, act);
      }
      case 1:
        return this.call(k, act);
      case 2: {
        const t = act.y as timer_list;
        k.trace(TP_TIMER_EXPIRE_EXIT, trace_fn(k, t));
        lock_map_release(t.lockdep_map);
        local_irq_disable();
        t.running = null;
        if (t.waiters.length > 0) release_waiters(k, t);
        act.y = undefined;
        return this.next(k, s!.bases[k.this_cpu().id]!, act);
      }
      default:
        if (k.config.era === "6") for (let i = 0; i < RUN_TIMERS_FRAMES.length; i++) k.this_ctx().frames.pop();
        return undefined;
    }
  }

  /** expire_timers(): the next due timer, detached and marked running; or the end, interrupts back on. */
  next(k: Kernel, base: timer_base, act: Activation): unknown {
    const t = next_due(base, act.n);
    if (t === null) {
      act.phase = 3;
      return irq_restore_in_op(act, X86_EFLAGS_IF, 3);
    }
    detach_timer(k, t);
    t.running = k.this_ctx();
    if (t.sync !== null) t.sync.holder = t.running;
    act.y = t;
    if ((t.flags & TIMER_IRQSAFE) !== 0) return this.call(k, act);
    return irq_restore_in_op(act, X86_EFLAGS_IF, 1);
  }

  /** call_timer_fn(): the map held around the function (2.6.34's __run_timers does it inline in run_timer_softirq). */
  call(k: Kernel, act: Activation): unknown {
    const t = act.y as timer_list;
    const fn = prepare_fn(k, t);
    lock_map_acquire(t.lockdep_map, k.config.era === "6" ? "call_timer_fn" : "run_timer_softirq");
    k.trace(TP_TIMER_EXPIRE_ENTRY, trace_fn(k, t), jiffies_of(k));
    act.x = with_frames(t.frames, fn(t.legacy ? t.data : t));
    act.phase = 2;
    return CALL;
  }
}

const run_timer_softirq_op: Effect.Effect<void> = op(new RunTimerSoftirq());
/** TIMER_SOFTIRQ's action. */
export const run_timer_softirq = (): Effect.Effect<void> => run_timer_softirq_op;
