// kernel/softirq.c (2.6.34): irq_enter/irq_exit, softirq vectors run at irq_exit and
// local_bh_enable (up to MAX_SOFTIRQ_RESTART passes, then handed to ksoftirqd/N), and tasklets
// (a tasklet runs on the CPU that scheduled it, and never on two CPUs at once).
import * as Effect from "effect/Effect";
import { ScenarioError, SimError } from "../sim/errors.ts";
import { kernel } from "./kernel.ts";
import { HARDIRQ_OFFSET, SOFTIRQ_DISABLE_OFFSET, SOFTIRQ_OFFSET, irq_count } from "./preempt.ts";
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from "./irqflags.ts";
import {
  cond_resched,
  cpu_relax,
  in_interrupt,
  kthread_run,
  preempt_check_resched,
  schedule,
  set_current_state,
  wake_up_process,
  yield_,
} from "./sched/core.ts";
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from "./sched/task.ts";
import { trace_softirq_entry, trace_softirq_exit, trace_softirq_raise, trace_tasklet_entry, trace_tasklet_exit } from "./trace.ts";

export const HI_SOFTIRQ = 0;
export const TIMER_SOFTIRQ = 1;
export const NET_TX_SOFTIRQ = 2;
export const NET_RX_SOFTIRQ = 3;
export const BLOCK_SOFTIRQ = 4;
export const BLOCK_IOPOLL_SOFTIRQ = 5;
export const TASKLET_SOFTIRQ = 6;
export const SCHED_SOFTIRQ = 7;
export const HRTIMER_SOFTIRQ = 8;
export const RCU_SOFTIRQ = 9;
export const NR_SOFTIRQS = 10;
export const MAX_SOFTIRQ_RESTART = 10;

export interface SoftirqAction {
  readonly action: (h: SoftirqAction) => Effect.Effect<void>;
}

export function open_softirq(nr: number, action: SoftirqAction["action"]): void {
  if (!Number.isInteger(nr) || nr < 0 || nr >= NR_SOFTIRQS) throw new ScenarioError(`open_softirq: nr ${nr} not in 0..${NR_SOFTIRQS - 1}`);
  kernel().softirq_vec[nr] = { action };
}

export const local_softirq_pending = (): number => kernel().this_cpu().softirq_pending;

/** __raise_softirq_irqoff(): marks `nr` pending on this CPU (interrupts must be off). */
export function __raise_softirq_irqoff(nr: number): void {
  trace_softirq_raise(nr);
  kernel().this_cpu().softirq_pending |= 1 << nr;
}

/** raise_softirq_irqoff(): outside interrupt context nobody will run it soon, so wake ksoftirqd. */
export function raise_softirq_irqoff(nr: number): void {
  __raise_softirq_irqoff(nr);
  if (!in_interrupt()) wakeup_softirqd();
}

export const raise_softirq = (nr: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const flags = local_irq_save();
    raise_softirq_irqoff(nr);
    return local_irq_restore(flags);
  });

function wakeup_softirqd(): void {
  const tsk = kernel().this_cpu().ksoftirqd;
  if (tsk !== null && tsk.state !== TASK_RUNNING) wake_up_process(tsk);
}

/** Runs `eff` with `names` pushed on the running context's backtrace. */
const in_frames = <A>(names: readonly string[], eff: Effect.Effect<A>): Effect.Effect<A> =>
  Effect.suspend(() => {
    const frames = kernel().this_ctx().frames;
    frames.push(...names);
    return Effect.ensuring(eff, Effect.sync(() => void frames.splice(frames.length - names.length, names.length)));
  });

/** __do_softirq(): runs pending vectors with interrupts enabled, restarting up to 10 times. */
const __do_softirq = (): Effect.Effect<void> => in_frames(["__do_softirq"], do_softirq_body());
const do_softirq_body = (): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const pc = k.this_cpu();
    let pending = pc.softirq_pending;
    let max_restart = MAX_SOFTIRQ_RESTART;
    pc.preempt_count += SOFTIRQ_OFFSET;
    k.charge(k.costs.softirqEntry);
    for (;;) {
      pc.softirq_pending = 0;
      yield* local_irq_enable();
      for (let nr = 0; pending !== 0; nr++, pending >>>= 1) {
        if ((pending & 1) === 0) continue;
        const h = k.softirq_vec[nr];
        pc.softirqs++;
        trace_softirq_entry(nr);
        if (h !== undefined) yield* h.action(h);
        trace_softirq_exit(nr);
      }
      local_irq_disable();
      pending = pc.softirq_pending;
      if (pending === 0 || --max_restart === 0) break;
    }
    if (pending !== 0) wakeup_softirqd();
    pc.preempt_count -= SOFTIRQ_OFFSET;
  });

/** do_softirq(): runs pending softirqs unless already in interrupt context. */
export const do_softirq = (): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (in_interrupt()) return;
    const flags = local_irq_save();
    if (local_softirq_pending() !== 0) yield* __do_softirq();
    yield* local_irq_restore(flags);
  });

export function irq_enter(): void {
  kernel().this_cpu().preempt_count += HARDIRQ_OFFSET;
}

/** irq_exit(): leaves hardirq context and runs pending softirqs if no other interrupt is active. */
export const irq_exit = (): Effect.Effect<void> =>
  Effect.gen(function* () {
    const pc = kernel().this_cpu();
    pc.preempt_count -= HARDIRQ_OFFSET;
    if (irq_count(pc.preempt_count) === 0 && pc.softirq_pending !== 0) yield* in_frames(["irq_exit"], __do_softirq());
  });

export function local_bh_disable(): void {
  kernel().this_cpu().preempt_count += SOFTIRQ_DISABLE_OFFSET;
}

/** local_bh_enable(): may run pending softirqs right here; a preempt point. */
export const local_bh_enable = (): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const pc = k.this_cpu();
    if ((pc.preempt_count & 0xff00) === 0) throw new ScenarioError(`local_bh_enable() on CPU${pc.id} without local_bh_disable()`);
    if (!pc.hw.irqs_enabled || (pc.preempt_count & 0xf0000) !== 0) {
      k.printk(`WARNING: at kernel/softirq.c _local_bh_enable_ip(): called ${pc.hw.irqs_enabled ? "in hardirq context" : "with interrupts disabled"}`);
    }
    pc.preempt_count -= SOFTIRQ_DISABLE_OFFSET - 1;
    if (irq_count(pc.preempt_count) === 0 && pc.softirq_pending !== 0) yield* do_softirq();
    pc.preempt_count -= 1;
    yield* preempt_check_resched();
  });

// ---------------------------------------------------------------- ksoftirqd

const run_ksoftirqd = (_: unknown): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    set_current_state(TASK_INTERRUPTIBLE);
    for (;;) {
      const pc = k.this_cpu();
      if (pc.softirq_pending === 0) yield* schedule();
      set_current_state(TASK_RUNNING);
      while (k.this_cpu().softirq_pending !== 0) {
        local_irq_disable();
        if (k.this_cpu().softirq_pending !== 0) yield* __do_softirq();
        yield* local_irq_enable();
        yield* cond_resched();
      }
      set_current_state(TASK_INTERRUPTIBLE);
    }
  });

/** Starts ksoftirqd/N on every CPU (at boot). */
export function spawn_ksoftirqd(): void {
  const k = kernel();
  for (const pc of k.percpu) {
    const t = kthread_run(run_ksoftirqd, undefined, `ksoftirqd/${pc.id}`, { cpus: [pc.id], kernelThread: true });
    pc.ksoftirqd = t;
  }
}

// ---------------------------------------------------------------- tasklets

export const TASKLET_STATE_SCHED = 0;
export const TASKLET_STATE_RUN = 1;

export class tasklet_struct {
  /** TASKLET_STATE_SCHED and TASKLET_STATE_RUN bits. */
  state = 0;
  /** Disable count: the tasklet runs only while it is 0. */
  count = 0;
  /** CPU the tasklet is running on, -1 when not running (for checks and reports). */
  running_on = -1;
  runs = 0;
  constructor(
    readonly func: (data: unknown) => Effect.Effect<void>,
    readonly data: unknown,
    readonly name: string = func.name || "tasklet",
  ) {}
}

export function tasklet_init(func: (data: unknown) => Effect.Effect<void>, data: unknown): tasklet_struct {
  return new tasklet_struct(func, data);
}

const test_and_set = (t: tasklet_struct, bit: number): boolean => {
  const was = (t.state & (1 << bit)) !== 0;
  t.state |= 1 << bit;
  return was;
};

function __tasklet_schedule_common(t: tasklet_struct, hi: boolean): Effect.Effect<void> {
  return Effect.suspend(() => {
    if (test_and_set(t, TASKLET_STATE_SCHED)) return Effect.void;
    const pc = kernel().this_cpu();
    const flags = local_irq_save();
    (hi ? pc.tasklet_hi_vec : pc.tasklet_vec).push(t);
    raise_softirq_irqoff(hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
    return local_irq_restore(flags);
  });
}

export const tasklet_schedule = (t: tasklet_struct): Effect.Effect<void> => __tasklet_schedule_common(t, false);
export const tasklet_hi_schedule = (t: tasklet_struct): Effect.Effect<void> => __tasklet_schedule_common(t, true);

/** tasklet_action / tasklet_hi_action: runs this CPU's list; busy or disabled ones go back. */
function tasklet_action_common(hi: boolean): Effect.Effect<void> {
  return Effect.gen(function* () {
    const k = kernel();
    const pc = k.this_cpu();
    local_irq_disable();
    const vec = hi ? pc.tasklet_hi_vec : pc.tasklet_vec;
    const list = vec.splice(0, vec.length);
    yield* local_irq_enable();
    for (const t of list) {
      if (!test_and_set(t, TASKLET_STATE_RUN)) {
        if (t.count === 0) {
          if ((t.state & (1 << TASKLET_STATE_SCHED)) === 0) throw new SimError(`tasklet ${t.name}: running but not scheduled`);
          t.state &= ~(1 << TASKLET_STATE_SCHED);
          if (t.running_on !== -1) throw new SimError(`tasklet ${t.name} already running on CPU${t.running_on}`);
          t.running_on = pc.id;
          t.runs++;
          trace_tasklet_entry(t.name);
          yield* in_frames([hi ? "tasklet_hi_action" : "tasklet_action", t.name], t.func(t.data));
          trace_tasklet_exit(t.name);
          t.running_on = -1;
          t.state &= ~(1 << TASKLET_STATE_RUN);
          continue;
        }
        t.state &= ~(1 << TASKLET_STATE_RUN);
      }
      local_irq_disable();
      (hi ? pc.tasklet_hi_vec : pc.tasklet_vec).push(t);
      __raise_softirq_irqoff(hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
      yield* local_irq_enable();
    }
  });
}

export function tasklet_disable_nosync(t: tasklet_struct): void {
  t.count++;
}

/** tasklet_disable(): also waits until the tasklet is not running anywhere. */
export const tasklet_disable = (t: tasklet_struct): Effect.Effect<void> =>
  Effect.gen(function* () {
    t.count++;
    while ((t.state & (1 << TASKLET_STATE_RUN)) !== 0) yield* cpu_relax();
  });

export function tasklet_enable(t: tasklet_struct): void {
  if (t.count === 0) throw new ScenarioError(`tasklet_enable(${t.name}) without tasklet_disable()`);
  t.count--;
}

/** tasklet_kill(): waits until the tasklet is neither scheduled nor running. Context: process. */
export const tasklet_kill = (t: tasklet_struct): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (in_interrupt()) kernel().printk("Attempt to kill tasklet from interrupt");
    while (test_and_set(t, TASKLET_STATE_SCHED)) {
      do yield* yield_();
      while ((t.state & (1 << TASKLET_STATE_SCHED)) !== 0);
    }
    while ((t.state & (1 << TASKLET_STATE_RUN)) !== 0) yield* cpu_relax();
    t.state &= ~(1 << TASKLET_STATE_SCHED);
  });

/** softirq_init(): the tasklet vectors. */
export function softirq_init(): void {
  open_softirq(TASKLET_SOFTIRQ, () => tasklet_action_common(false));
  open_softirq(HI_SOFTIRQ, () => tasklet_action_common(true));
}
