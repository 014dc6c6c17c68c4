// kernel/softirq.c (2.6.34): irq_enter/irq_exit, softirq vectors run at irq_exit and
// local_bh_enable (up to MAX_SOFTIRQ_RESTART passes, then handed to ksoftirqd/N), and tasklets
// (a tasklet runs on the CPU that scheduled it, and never on two CPUs at once).
import * as Effect from "effect/Effect";
import { ScenarioError, SimError } from "../sim/errors.ts";
import { kernel } from "./kernel.ts";
import { with_frames } from "./frames.ts";
import { HARDIRQ_OFFSET, SOFTIRQ_DISABLE_OFFSET, SOFTIRQ_OFFSET, irq_count } from "./preempt.ts";
import { X86_EFLAGS_IF, irq_restore_in_op, local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from "./irqflags.ts";
import { BECOME, CALL, OpClass, op, type Activation } from "../sim/op.ts";
import type { PerCpu } from "./percpu.ts";
import {
  cond_resched,
  cpu_relax,
  in_interrupt,
  kthread_run,
  preempt_check_resched,
  resched_op,
  schedule,
  set_current_state,
  wake_up_process,
  yield_,
} from "./sched/core.ts";
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from "./sched/task.ts";
import { trace_softirq_entry, trace_softirq_exit, trace_softirq_raise, trace_tasklet_entry, trace_tasklet_exit } from "./trace.ts";
import { effect_fn, gen_fn, type EffectFn } from "./gen_fn.ts";

/**
 * HI_SOFTIRQ (0, both eras): high-priority tasklets (tasklet_hi_schedule); mmsim opens it at boot.
 */
export const HI_SOFTIRQ = 0;
/** TIMER_SOFTIRQ (1, both eras): the timer wheel (run_timer_softirq); mmsim opens it at boot. */
export const TIMER_SOFTIRQ = 1;
/**
 * NET_TX_SOFTIRQ (2, both eras): network transmit completion (net_tx_action). mmsim opens no action
 * for it: a scenario's driver may, with open_softirq().
 */
export const NET_TX_SOFTIRQ = 2;
/**
 * NET_RX_SOFTIRQ (3, both eras): network receive (net_rx_action, NAPI polling). mmsim opens no
 * action for it: a scenario's driver may, with open_softirq().
 */
export const NET_RX_SOFTIRQ = 3;
/**
 * BLOCK_SOFTIRQ (4, both eras): block I/O completion (blk_done_softirq). mmsim opens no action for
 * it: a scenario's driver may, with open_softirq().
 */
export const BLOCK_SOFTIRQ = 4;
export const BLOCK_IOPOLL_SOFTIRQ = 5;
/** TASKLET_SOFTIRQ (6, both eras): tasklets (tasklet_schedule); mmsim opens it at boot. */
export const TASKLET_SOFTIRQ = 6;
/**
 * SCHED_SOFTIRQ (7, both eras): the scheduler's load balancing (run_rebalance_domains). mmsim has
 * no periodic load balancing and opens no action for it.
 */
export const SCHED_SOFTIRQ = 7;
export const HRTIMER_SOFTIRQ = 8;
/**
 * RCU_SOFTIRQ (9, both eras): RCU's callback processing (2.6.34 rcu_process_callbacks, 6.1
 * rcu_core_si); mmsim opens it when a scenario first uses RCU.
 */
export const RCU_SOFTIRQ = 9;
export const NR_SOFTIRQS = 10;
export const MAX_SOFTIRQ_RESTART = 10;

export interface SoftirqAction {
  readonly action: (h: SoftirqAction) => Effect.Effect<void>;
}

/**
 * open_softirq(nr, action): installs `action` as softirq `nr`'s handler (softirq_vec[nr]); it runs
 * in softirq context, interrupts on, whenever `nr` is pending at irq_exit(), local_bh_enable() or
 * in ksoftirqd, and is given the softirq_action. Context: boot in Linux (setup() or later here); a
 * plain call. It replaces the action there, mmsim's own too (HI, TIMER and TASKLET from boot, RCU
 * from RCU's first use); `nr` outside 0-9 is a ScenarioError.
 */
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

/** raise_softirq(): with interrupts saved and restored around it. */
class RaiseSoftirq extends OpClass {
  constructor(readonly nr: number) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const flags = local_irq_save();
    raise_softirq_irqoff(this.nr);
    return irq_restore_in_op(act, flags, 1);
  }
}
/**
 * raise_softirq(nr): marks softirq `nr` pending on this CPU with interrupts saved around it; out of
 * interrupt context it wakes ksoftirqd/N to run it. Context: any; never sleeps. An Effect to
 * `yield*`: local_irq_restore's interleaving point when interrupts were on.
 */
export const raise_softirq = (nr: number): Effect.Effect<void> => op(new RaiseSoftirq(nr));

function wakeup_softirqd(): void {
  const tsk = kernel().this_cpu().ksoftirqd;
  if (tsk !== null && tsk.state !== TASK_RUNNING) wake_up_process(tsk);
}

const DO_SOFTIRQ_FRAMES = ["__do_softirq"];
const IRQ_EXIT_FRAMES = ["irq_exit"];

/** __do_softirq(): runs pending vectors with interrupts enabled, restarting up to 10 times. */
const __do_softirq = (): Effect.Effect<void> => with_frames(DO_SOFTIRQ_FRAMES, do_softirq_body());
/**
 * __do_softirq()'s body as an op. Phases: 0 entering; 1 after local_irq_enable's interleaving
 * point; 2 back from a vector's action. act.n: the pending bits not yet run, shifted so bit 0 is
 * vector act.i; act.m: the restarts left.
 */
class DoSoftirq extends OpClass {
  run(act: Activation): unknown {
    const k = kernel();
    const pc = k.this_cpu();
    if (act.phase === 0) {
      act.n = pc.softirq_pending;
      act.m = MAX_SOFTIRQ_RESTART;
      pc.preempt_count += SOFTIRQ_OFFSET;
      k.charge(k.costs.softirqEntry);
      return restart(pc, act);
    }
    if (act.phase === 2) {
      trace_softirq_exit(act.i);
      act.i++;
      act.n >>>= 1;
    }
    for (; act.n !== 0; act.i++, act.n >>>= 1) {
      if ((act.n & 1) === 0) continue;
      const h = k.softirq_vec[act.i];
      pc.softirqs++;
      trace_softirq_entry(act.i);
      if (h !== undefined) {
        act.x = h.action(h);
        act.phase = 2;
        return CALL;
      }
      trace_softirq_exit(act.i);
    }
    local_irq_disable();
    act.n = pc.softirq_pending;
    if (act.n !== 0 && --act.m !== 0) return restart(pc, act);
    if (act.n !== 0) wakeup_softirqd();
    pc.preempt_count -= SOFTIRQ_OFFSET;
    return undefined;
  }
}

/** A pass over the pending vectors: cleared, then interrupts on (an interleaving point). */
function restart(pc: PerCpu, act: Activation): unknown {
  pc.softirq_pending = 0;
  act.i = 0;
  return irqs_on(act);
}
const do_softirq_op: Effect.Effect<void> = op(new DoSoftirq());
const do_softirq_body = (): Effect.Effect<void> => do_softirq_op;

/** do_softirq(): runs pending softirqs unless already in interrupt context. */
export const do_softirq = gen_fn(function* do_softirq(): Effect.fn.Return<void> {
  if (in_interrupt()) return;
  const flags = local_irq_save();
  if (local_softirq_pending() !== 0) yield* __do_softirq();
  yield* local_irq_restore(flags);
});

export function irq_enter(): void {
  kernel().this_cpu().preempt_count += HARDIRQ_OFFSET;
}

/** irq_exit(): leaves hardirq context and runs pending softirqs if no other interrupt is active. */
class IrqExit extends OpClass {
  run(act: Activation): unknown {
    const pc = kernel().this_cpu();
    pc.preempt_count -= HARDIRQ_OFFSET;
    if (irq_count(pc.preempt_count) === 0 && pc.softirq_pending !== 0) {
      act.x = with_frames(IRQ_EXIT_FRAMES, __do_softirq());
      return BECOME;
    }
    return undefined;
  }
}
const irq_exit_op: Effect.Effect<void> = op(new IrqExit());
export const irq_exit = (): Effect.Effect<void> => irq_exit_op;

/**
 * local_bh_disable(): preempt_count + 0x200 (SOFTIRQ_DISABLE_OFFSET): no softirq or tasklet runs on
 * this CPU until local_bh_enable(), and preemption is off; calls nest. Context: process or softirq;
 * never sleeps. A plain call, not an interleaving point.
 */
export function local_bh_disable(): void {
  kernel().this_cpu().preempt_count += SOFTIRQ_DISABLE_OFFSET;
}

/** local_bh_enable(): may run pending softirqs right here; a preempt point. Phase 1: done. */
class LocalBhEnable extends OpClass {
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    const pc = k.this_cpu();
    if ((pc.preempt_count & 0xff00) === 0) throw new ScenarioError(`local_bh_enable() on CPU${pc.id} without local_bh_disable()`);
    if (!pc.hw.irqs_enabled || (pc.preempt_count & 0xf0000) !== 0) {
      k.printk(`WARNING: at kernel/softirq.c _local_bh_enable_ip(): called ${pc.hw.irqs_enabled ? "in hardirq context" : "with interrupts disabled"}`);
    }
    pc.preempt_count -= SOFTIRQ_DISABLE_OFFSET - 1;
    if (irq_count(pc.preempt_count) === 0 && pc.softirq_pending !== 0) {
      act.x = Effect.flatMap(do_softirq(), local_bh_enable_tail);
      return BECOME;
    }
    pc.preempt_count -= 1;
    return resched_op(act);
  }
}
/** local_bh_enable() after the softirqs it ran: the count's last unit, then the preempt point. */
const local_bh_enable_tail = (): Effect.Effect<void> =>
  Effect.suspend(() => {
    kernel().this_cpu().preempt_count -= 1;
    return preempt_check_resched();
  });
const local_bh_enable_op: Effect.Effect<void> = op(new LocalBhEnable());
/**
 * local_bh_enable(): undoes local_bh_disable(); if that leaves no interrupt context and softirqs
 * are pending, they run right here; then a preemption point. Context: process or softirq, with
 * interrupts on (otherwise it prints a WARNING and goes on); never sleeps. An Effect to `yield*`.
 * Without a matching local_bh_disable() it is a ScenarioError.
 */
export const local_bh_enable = (): Effect.Effect<void> => local_bh_enable_op;

// ---------------------------------------------------------------- ksoftirqd

const run_ksoftirqd = gen_fn(function* run_ksoftirqd(_: unknown): Effect.fn.Return<void> {
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

/**
 * struct tasklet_struct: a deferred function `func(data)` run in softirq context (TASKLET_SOFTIRQ
 * or HI_SOFTIRQ) on the CPU that scheduled it, never on two CPUs at once; `state` holds
 * TASKLET_STATE_SCHED and TASKLET_STATE_RUN, `count` the disable depth. Made with tasklet_init().
 */
export class tasklet_struct {
  /** TASKLET_STATE_SCHED and TASKLET_STATE_RUN bits. */
  state = 0;
  /** Disable count: the tasklet runs only while it is 0. */
  count = 0;
  /** CPU the tasklet is running on, -1 when not running (for checks and reports). */
  running_on = -1;
  runs = 0;
  /** tasklet_schedule()'s and tasklet_hi_schedule()'s ops for this tasklet, made once (an op value may be yielded again). */
  sched_ops: [Effect.Effect<void> | null, Effect.Effect<void> | null] = [null, null];
  /** The frames its runs show, from tasklet_action and from tasklet_hi_action (made once). */
  readonly frames: readonly [readonly string[], readonly string[]];
  constructor(
    readonly func: (data: unknown) => Effect.Effect<void>,
    readonly data: unknown,
    readonly name: string = func.name || "tasklet",
  ) {
    this.frames = [["tasklet_action", name], ["tasklet_hi_action", name]];
  }
}

/** tasklet_init(): `func` returns an Effect, or is a generator function (made once). */
export function tasklet_init(func: EffectFn<[data: unknown], void>, data: unknown): tasklet_struct {
  return new tasklet_struct(effect_fn(func), data);
}

const test_and_set = (t: tasklet_struct, bit: number): boolean => {
  const was = (t.state & (1 << bit)) !== 0;
  t.state |= 1 << bit;
  return was;
};

/** __tasklet_schedule() / __tasklet_hi_schedule(): queued on this CPU unless already scheduled. */
class TaskletSchedule extends OpClass {
  constructor(
    readonly t: tasklet_struct,
    readonly hi: boolean,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    if (test_and_set(this.t, TASKLET_STATE_SCHED)) return undefined;
    const pc = kernel().this_cpu();
    const flags = local_irq_save();
    (this.hi ? pc.tasklet_hi_vec : pc.tasklet_vec).push(this.t);
    raise_softirq_irqoff(this.hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
    return irq_restore_in_op(act, flags, 1);
  }
}
function __tasklet_schedule_common(t: tasklet_struct, hi: boolean): Effect.Effect<void> {
  return (t.sched_ops[hi ? 1 : 0] ??= op(new TaskletSchedule(t, hi)));
}

/**
 * tasklet_schedule(t): queues the tasklet on this CPU's list and raises TASKLET_SOFTIRQ, unless it
 * is already scheduled (then nothing happens); it runs once however often it was scheduled before
 * it ran. Context: any; never sleeps. An Effect to `yield*`: local_irq_restore's interleaving point
 * when it queued with interrupts on.
 */
export const tasklet_schedule = (t: tasklet_struct): Effect.Effect<void> => __tasklet_schedule_common(t, false);
/**
 * tasklet_hi_schedule(t): tasklet_schedule() on the high-priority list, raising HI_SOFTIRQ (which
 * runs before the other softirqs). Context: any; never sleeps. An Effect to `yield*`, as
 * tasklet_schedule().
 */
export const tasklet_hi_schedule = (t: tasklet_struct): Effect.Effect<void> => __tasklet_schedule_common(t, true);

/**
 * tasklet_action / tasklet_hi_action: runs this CPU's list; busy or disabled ones go back. An op:
 * phase 0 takes the list (act.y) with interrupts off, 1 walks it from act.i after an
 * interleaving point, 2 is back from a tasklet's function.
 */
class TaskletAction extends OpClass {
  constructor(readonly hi: boolean) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const pc = k.this_cpu();
    const hi = this.hi;
    if (act.phase === 0) {
      local_irq_disable();
      const vec = hi ? pc.tasklet_hi_vec : pc.tasklet_vec;
      act.y = vec.slice();
      while (vec.length > 0) vec.pop(); // (not splice: the CPU's list keeps its store)
      act.i = 0;
      return irqs_on(act);
    }
    const list = act.y as tasklet_struct[];
    if (act.phase === 2) {
      const t = list[act.i]!;
      trace_tasklet_exit(t.name);
      t.running_on = -1;
      t.state &= ~(1 << TASKLET_STATE_RUN);
      act.i++;
    }
    while (act.i < list.length) {
      const t = list[act.i]!;
      if (!test_and_set(t, TASKLET_STATE_RUN)) {
        if (t.count === 0) {
          if ((t.state & (1 << TASKLET_STATE_SCHED)) === 0) throw new SimError(`tasklet ${t.name}: running but not scheduled`);
          t.state &= ~(1 << TASKLET_STATE_SCHED);
          if (t.running_on !== -1) throw new SimError(`tasklet ${t.name} already running on CPU${t.running_on}`);
          t.running_on = pc.id;
          t.runs++;
          trace_tasklet_entry(t.name);
          act.x = with_frames(t.frames[hi ? 1 : 0], t.func(t.data));
          act.phase = 2;
          return CALL;
        }
        t.state &= ~(1 << TASKLET_STATE_RUN);
      }
      local_irq_disable();
      (hi ? pc.tasklet_hi_vec : pc.tasklet_vec).push(t);
      __raise_softirq_irqoff(hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
      act.i++;
      return irqs_on(act);
    }
    return undefined;
  }
}

/** local_irq_enable() inside an op: interrupts on, an interleaving point, then phase 1. */
const irqs_on = (act: Activation): unknown => irq_restore_in_op(act, X86_EFLAGS_IF, 1);

/** tasklet_action and tasklet_hi_action, one op value each. */
const TASKLET_ACTIONS: readonly Effect.Effect<void>[] = [op(new TaskletAction(false)), op(new TaskletAction(true))];
function tasklet_action_common(hi: boolean): Effect.Effect<void> {
  return TASKLET_ACTIONS[hi ? 1 : 0]!;
}

/**
 * tasklet_disable_nosync(t): disable depth + 1: the tasklet does not run until tasklet_enable() (if
 * scheduled meanwhile it is requeued and runs after); does not wait for a run in progress. Context:
 * any; never sleeps. A plain call.
 */
export function tasklet_disable_nosync(t: tasklet_struct): void {
  t.count++;
}

/** tasklet_disable(): also waits until the tasklet is not running anywhere. */
export const tasklet_disable = gen_fn(function* tasklet_disable(t: tasklet_struct): Effect.fn.Return<void> {
  t.count++;
  while ((t.state & (1 << TASKLET_STATE_RUN)) !== 0) yield* cpu_relax();
});

/**
 * tasklet_enable(t): disable depth - 1; at 0 a tasklet scheduled meanwhile runs at its next softirq
 * pass. Context: any; never sleeps. A plain call. Without a matching disable it is a ScenarioError
 * (Linux's count would go negative).
 */
export function tasklet_enable(t: tasklet_struct): void {
  if (t.count === 0) throw new ScenarioError(`tasklet_enable(${t.name}) without tasklet_disable()`);
  t.count--;
}

/** tasklet_kill(): waits until the tasklet is neither scheduled nor running. Context: process. */
export const tasklet_kill = gen_fn(function* tasklet_kill(t: tasklet_struct): Effect.fn.Return<void> {
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
