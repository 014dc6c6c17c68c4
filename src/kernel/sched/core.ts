// kernel/sched/core.c reduced: per-CPU FIFO run queues with round-robin time slices (not CFS),
// schedule(), wake-ups, kthreads, preemption points and the "scheduling while atomic" and
// might_sleep checks. A woken or new task goes to an idle CPU it may run on if there is one,
// else to the least loaded; there is no periodic load balancing.
import { switch_mm } from "../mm/tlb.ts";
import { kmap_local_sched_in, kmap_local_sched_out } from "../mm/highmem.ts";
import * as Effect from "effect/Effect";
import { ScenarioError, SimError } from "../../sim/errors.ts";
import { ExecContext } from "../context.ts";
import { BECOME, OpClass, PARK, op, park, type Activation } from "../../sim/op.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { PerCpu } from "../percpu.ts";
import { Task, TASK_DEAD, TASK_NORMAL, TASK_RUNNING, type TaskState } from "./task.ts";
import { PREEMPT_OFFSET, hardirq_count, irq_count, softirq_count } from "../preempt.ts";
import { trace_sched_process_exit, trace_sched_switch, trace_sched_wakeup } from "../trace.ts";
import { dump_stack, print_held_locks, warn_text } from "../dumpstack.ts";
import { catch_up } from "../entry.ts";
import { tick_nohz_restart } from "../time/tick.ts";
import { ScenarioBug } from "../bug.ts";
import { check_spin_deadlock } from "../watchdog.ts";
import { effect_fn, type EffectFn } from "../gen_fn.ts";
import { check_preemption_disabled } from "../smp_processor_id.ts";
import { rcu_idle_enter, rcu_note_context_switch, rcu_preempt_depth, rcu_sleep_check, rcu_task_exit } from "../rcu/tree.ts";

// ---------------------------------------------------------------- context queries

/**
 * current: the task running on this CPU (get_current()); in interrupt context the task the
 * interrupt came in on, the idle task if the CPU was idle. Context: any; a plain call (a function
 * here: current()).
 */
export const current = (): Task => kernel().this_cpu().curr;
/**
 * smp_processor_id(): this CPU's number. With CONFIG_DEBUG_PREEMPT (machine.debug_preempt) a call
 * from a task that may be preempted and migrate is reported (smp_processor_id.ts).
 */
export function smp_processor_id(): number {
  const k = kernel();
  const pc = k.this_cpu();
  if (pc.preempt_count === 0) check_preemption_disabled(k, pc, "smp_processor_id", "");
  return pc.id;
}
/** raw_smp_processor_id(): this CPU's number, unchecked (the caller knows it may be stale). */
export const raw_smp_processor_id = (): number => kernel().this_cpu().id;
/**
 * num_online_cpus(): the number of CPUs online: all the machine's (no CPU hotplug). Context: any; a
 * plain call.
 */
export const num_online_cpus = (): number => kernel().percpu.length;
/**
 * preempt_count(): this CPU's preempt count: the preemption-disable depth (bits 0-7), softirq (bits
 * 8-15: 0x100 while serving one, 0x200 per local_bh_disable), hardirq (bits 16-19) and NMI (bit
 * 20). mmsim uses this layout (include/linux/preempt.h as of 4.19) in both eras. Context: any; a
 * plain call.
 */
export const preempt_count = (): number => kernel().this_cpu().preempt_count;
/**
 * in_irq(): true in a hardware interrupt handler (hardirq_count(); 6.1's in_hardirq()). Context:
 * any; a plain call.
 */
export const in_irq = (): boolean => hardirq_count(preempt_count()) !== 0;
/**
 * in_softirq(): true while serving a softirq or with bottom halves disabled (softirq_count()).
 * Context: any; a plain call.
 */
export const in_softirq = (): boolean => softirq_count(preempt_count()) !== 0;
/**
 * in_interrupt(): true in hardirq, NMI or softirq context, or with bottom halves disabled
 * (irq_count()). Context: any; a plain call.
 */
export const in_interrupt = (): boolean => irq_count(preempt_count()) !== 0;
/**
 * in_atomic(): preempt_count() != 0: preemption or bottom halves disabled, or in interrupt context
 * (interrupts disabled alone do not count). Context: any; a plain call.
 */
export const in_atomic = (): boolean => preempt_count() !== 0;
/**
 * irqs_disabled(): true if local interrupts are disabled on this CPU (its interrupt flag clear).
 * Context: any; a plain call.
 */
export const irqs_disabled = (): boolean => !kernel().this_cpu().hw.irqs_enabled;

// ---------------------------------------------------------------- interleaving points

/** An interleaving point, then `after()` once the context resumes (READ_ONCE, an atomic, ...). */
export abstract class PointThen extends OpClass {
  run(act: Activation): unknown {
    if (act.phase !== 0) return this.after();
    const k = kernel();
    k.charge(k.costs.step);
    act.phase = 1;
    return PARK;
  }
  abstract after(): unknown;
}

/** An interleaving point: charges the step's cost to the CPU and parks (then nothing more). */
class SchedPoint extends PointThen {
  after(): unknown {
    return undefined;
  }
}
/** One op value serves every interleaving point (an op keeps its state in the context's activation). */
const sched_point_op: Effect.Effect<void> = op(new SchedPoint());

/** An interleaving point: the step ends here and other CPUs may run before this one goes on. */
export const sched_point = (): Effect.Effect<void> => sched_point_op;

/** cpu_relax(): a pause in a busy-wait loop, an interleaving point. */
export const cpu_relax = sched_point;

// ---------------------------------------------------------------- preemption

/**
 * preempt_disable(): preempt_count + 1: this task is not preempted until the matching
 * preempt_enable() (calls nest). Context: any; never sleeps. A plain call, not an interleaving
 * point.
 */
export function preempt_disable(): void {
  kernel().this_cpu().preempt_count += PREEMPT_OFFSET;
}

/**
 * sub_preempt_count() with CONFIG_DEBUG_PREEMPT: an underflow (an unbalanced preempt_enable, or
 * kunmap_atomic without kmap_atomic) warns once, turning debug_locks off, and leaves the count.
 */
export function preempt_enable_no_resched(): void {
  const k = kernel();
  const pc = k.this_cpu();
  if ((pc.preempt_count & 0xff) === 0) {
    if (k.debug_locks) {
      k.debug_locks = false;
      // 2.6.34 kernel/sched.c sub_preempt_count(); 6.1 kernel/sched/core.c preempt_count_sub().
      const [file, func] = k.config.era === "2.6" ? ["kernel/sched.c", "sub_preempt_count"] : ["kernel/sched/core.c", "preempt_count_sub"];
      k.report("bug", warn_text(k.this_ctx(), file, func, ["DEBUG_LOCKS_WARN_ON(val > preempt_count())"]));
    }
    return;
  }
  pc.preempt_count -= PREEMPT_OFFSET;
}

/** preempt_enable(): a preempt point (and an interleaving point). */
class PreemptEnable extends OpClass {
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    preempt_enable_no_resched();
    return resched_op(act);
  }
}
const preempt_enable_op: Effect.Effect<void> = op(new PreemptEnable());
/**
 * preempt_enable(): preempt_count - 1, then a preemption point: with CONFIG_PREEMPT, a reschedule
 * due, the count 0 and interrupts on, a task is preempted right here. Context: any; never sleeps.
 * An Effect to `yield*`: an interleaving point, or the preemption. An unbalanced call warns once
 * (DEBUG_LOCKS_WARN_ON(val > preempt_count())) and leaves the count.
 */
export const preempt_enable = (): Effect.Effect<void> => preempt_enable_op;

/** CONFIG_PREEMPT preemption is due and allowed here (need_resched, count 0, IF set, a task). */
function should_preempt(k: Kernel, pc: PerCpu): boolean {
  return k.config.preempt && pc.need_resched && pc.preempt_count === 0 && pc.hw.irqs_enabled && k.this_ctx().kind === "task";
}

/**
 * The end of a preempt point inside an op: preempts if due (the op continues as schedule()),
 * else an interleaving point after which the op returns (phase 1).
 */
export function resched_op(act: Activation): unknown {
  const k = kernel();
  const pc = k.this_cpu();
  if (should_preempt(k, pc)) {
    act.x = __schedule(k, pc, true);
    return BECOME;
  }
  k.charge(k.costs.step);
  act.phase = 1;
  return PARK;
}

/** Preempts the running task if it should give way and may (CONFIG_PREEMPT, count 0, IF set). */
export const preempt_check_resched = (): Effect.Effect<void> => Effect.suspend(resched_point);

/** Called while running: the preemption (if due) or plain interleaving point to yield next. */
function resched_point(): Effect.Effect<void> {
  const k = kernel();
  const pc = k.this_cpu();
  return should_preempt(k, pc) ? __schedule(k, pc, true) : sched_point_op;
}

/** yield(): gives the CPU to the next queued task, if any, and queues this one behind it. */
export const yield_ = (): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    if (k.this_ctx().kind !== "task") return sched_point();
    return __schedule(k, k.this_cpu(), true);
  });

/** cond_resched(): gives the CPU away if a reschedule is due, even without CONFIG_PREEMPT. */
export const cond_resched = (): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const pc = k.this_cpu();
    if (pc.need_resched && pc.preempt_count === 0 && k.this_ctx().kind === "task") return __schedule(k, pc, true);
    return sched_point();
  });

/** Called as an interrupt returns: preempts the task below if the CPU is back in task context. */
export function preempt_schedule_irq(pc: PerCpu): void {
  const k = kernel();
  const top = pc.top();
  if (!k.config.preempt || !pc.need_resched || pc.preempt_count !== 0 || pc.stack.length !== 1) return;
  if (top === undefined || top.kind !== "task" || top.spinning !== null) return;
  const prev = pc.curr;
  prev.nivcsw++;
  rcu_note_context_switch(k, pc, prev, true);
  enqueue(pc, prev);
  pc.stack.pop();
  switch_to(k, pc, prev);
}

// ---------------------------------------------------------------- the scheduler proper

/** __schedule_bug(): the report for schedule() called with a non-zero preempt_count. */
function schedule_debug(k: Kernel, pc: PerCpu, prev: Task): void {
  if (pc.preempt_count === 0) return;
  const text = [
    `BUG: scheduling while atomic: ${prev.comm}/${prev.pid}/0x${(pc.preempt_count + PREEMPT_OFFSET).toString(16).padStart(8, "0")}`,
    ...print_held_locks(k, prev),
    ...dump_stack(k.this_ctx(), ["schedule", "__schedule_bug"]),
  ].join("\n");
  k.report("scheduling_while_atomic", text);
}

/** schedule(): the running task gives up the CPU; it is queued again only if it is RUNNING. */
export const schedule = (): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    return __schedule(k, k.this_cpu(), false);
  });

function __schedule(k: Kernel, pc: PerCpu, preempt: boolean): Effect.Effect<void> {
  const ctx = k.this_ctx();
  const prev = pc.curr;
  schedule_debug(k, pc, prev);
  if (ctx.kind !== "task") {
    const why = `Kernel panic - not syncing: scheduling in interrupt context (${ctx.name})`;
    k.report("bug", why);
    return Effect.die(new ScenarioBug(why));
  }
  rcu_sleep_check(k);
  rcu_note_context_switch(k, pc, prev, preempt);
  k.charge(k.costs.step);
  pc.need_resched = false;
  // A preempted task stays queued whatever its state (PREEMPT_ACTIVE): it may have set
  // TASK_UNINTERRUPTIBLE and not yet called schedule() itself.
  if (prev.state === TASK_RUNNING || preempt) {
    if (pc.rq.length === 0) {
      pc.hw.irqs_enabled = true; // schedule() always ends with raw_spin_unlock_irq
      return park(); // nothing else to run: an interleaving point only
    }
    if (preempt) prev.nivcsw++;
    else prev.nvcsw++;
    enqueue(pc, prev);
  } else {
    prev.on_rq = false;
    prev.nvcsw++;
  }
  pc.stack.pop();
  switch_to(k, pc, prev);
  return park();
}

/** Puts the next runnable task (or the idle task) on `pc`, after `prev` left it. */
export function switch_to(k: Kernel, pc: PerCpu, prev: Task): void {
  const next = pc.rq.shift() ?? pc.idle;
  if (next !== prev) trace_sched_switch(prev, next);
  prev.saved_preempt_count = pc.preempt_count;
  prev.last_switch = pc.hw.clock;
  pc.touch_ts = pc.hw.clock;
  pc.curr = next;
  pc.preempt_count = next.saved_preempt_count;
  // The idle loop: dyntick-idle for RCU (a GP the switch itself started owes nothing here).
  if (next === pc.idle && k.ext_rcu !== undefined) rcu_idle_enter(k, pc);
  if (next !== pc.idle) {
    next.cpu = pc.id;
    next.ctx.cpu = pc;
    pc.stack.push(next.ctx);
    if (next.time_slice <= 0) next.time_slice = Math.max(1, Math.round((k.config.timeslice_ms * k.config.hz) / 1000));
  }
  if (next !== prev) {
    pc.context_switches++;
    k.charge(k.costs.contextSwitch);
    if (prev.kmap_local?.length) kmap_local_sched_out(k, pc.id, prev);
    if (next.kmap_local?.length) kmap_local_sched_in(k, pc.id, next);
    // context_switch(): a process loads its page table; a kernel thread borrows the last one.
    if (next.mm !== null) switch_mm(k, pc, next.mm);
  }
  // finish_task_switch() drops rq->lock with spin_unlock_irq: the next task runs with
  // interrupts on, whatever the previous one had.
  pc.hw.irqs_enabled = true;
}

/** The idle loop found work: switch from the idle task to the first queued task. */
export function pick_next_and_switch(pc: PerCpu): void {
  const k = kernel();
  if (pc.rq.length === 0) return;
  switch_to(k, pc, pc.idle);
}

function enqueue(pc: PerCpu, p: Task): void {
  p.on_rq = true;
  p.cpu = pc.id;
  pc.rq.push(p);
  pc.hw.changed();
}

/** select_task_rq(): an idle allowed CPU (lowest number), else the least loaded allowed one. */
function select_task_rq(k: Kernel, p: Task): PerCpu {
  const last = k.percpu[p.cpu]!;
  if (p.migrate_disabled > 0) return last; // migrate_disable(): it stays where it is
  const allowed = p.cpus_allowed.length > 0 ? p.cpus_allowed.map((c) => k.percpu[c]!) : k.percpu;
  if (allowed.includes(last) && last.isIdle() && last.rq.length === 0) return last;
  let best: PerCpu | undefined;
  let bestLoad = Infinity;
  for (const c of allowed) {
    const load = c.rq.length + (c.isIdle() ? 0 : 1);
    if (load < bestLoad) {
      best = c;
      bestLoad = load;
    }
  }
  return best!;
}

/** Queues a runnable task on a CPU chosen for it, bringing an idle CPU up to the present. */
function activate(k: Kernel, p: Task): PerCpu {
  const target = select_task_rq(k, p);
  const wasIdle = target.isIdle() && target.rq.length === 0;
  enqueue(target, p);
  if (wasIdle) catch_up(target, k.now() + k.costs.wakeup);
  // The CPU has work now: its tick must run (it may have stopped while idle, or this may be an
  // interrupt on an idle CPU waking a task there).
  tick_nohz_restart(target);
  // Queued behind a spinner that cannot be preempted: that may close a deadlock cycle.
  const top = target.top();
  if (top !== undefined && top.spinning !== null) check_spin_deadlock(k, top);
  return target;
}

/** try_to_wake_up(): wakes `p` if its state is in `mask`; returns 1 if it was woken. */
export function try_to_wake_up(p: Task, mask: number): number {
  const k = kernel();
  if ((p.state & mask) === 0 || p.state === TASK_DEAD) return 0;
  p.state = TASK_RUNNING;
  p.has_timeout = false;
  k.charge(k.costs.wakeup);
  const target = p.on_rq ? k.percpu[p.cpu]! : activate(k, p);
  trace_sched_wakeup(p, target.id);
  return 1;
}

/**
 * wake_up_process(p): try_to_wake_up(p, TASK_NORMAL): wakes `p` if it is in TASK_INTERRUPTIBLE or
 * TASK_UNINTERRUPTIBLE; 1 if it was woken, 0 if it was running or has exited. Context: any; never
 * sleeps. A plain call: a task not on a run queue is queued on an idle CPU it may run on, else the
 * least loaded one; the waker is not preempted for it.
 */
export const wake_up_process = (p: Task): number => try_to_wake_up(p, TASK_NORMAL);

/**
 * set_current_state(state): current->state = state (TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE
 * before schedule(), TASK_RUNNING to stay awake), with a full barrier in Linux. Context: process;
 * never sleeps. A plain call, not an interleaving point.
 */
export function set_current_state(state: TaskState): void {
  current().state = state;
}
/**
 * __set_current_state(state): set_current_state() without the barrier. The same function here (the
 * simulator is sequentially consistent). Context: process; never sleeps. A plain call.
 */
export const __set_current_state = set_current_state;

// ---------------------------------------------------------------- kthreads

/** A kthread's function: returning an Effect, or a generator function. */
export type ThreadFn<D> = EffectFn<[data: D], unknown>;

export interface KthreadOptions {
  /** kthread_bind(): the CPUs the thread may run on (all if absent). */
  readonly cpus?: readonly number[];
  /** Internal kernel threads (ksoftirqd) do not count towards the scenario's completion. */
  readonly kernelThread?: boolean;
}

/** kthread_create() + wake_up_process(). `name` may contain one %d, filled from `nameArg`. */
export function kthread_run<D>(threadfn: ThreadFn<D>, data: D, name: string, opts: KthreadOptions = {}): Task {
  const k = kernel();
  const cpus = opts.cpus ?? [];
  for (const c of cpus) {
    if (!Number.isInteger(c) || c < 0 || c >= k.percpu.length) throw new ScenarioError(`kthread_run(${name}): no CPU ${c} on a ${k.percpu.length}-CPU machine`);
  }
  const p = new Task(k.allocPid(), name.slice(0, 15), cpus, !opts.kernelThread);
  p.cpu = cpus[0] ?? 0;
  const program = Effect.asVoid(effect_fn(threadfn)(data));
  p.ctx = new ExecContext("task", p.comm, p, program, k.percpu[p.cpu]!, ["kthread", threadfn.name || "threadfn"]);
  k.tasks.push(p);
  if (p.scenario) k.live++;
  p.state = TASK_RUNNING;
  activate(k, p);
  return p;
}

/** The task's function returned: do_exit(). */
export function do_exit(pc: PerCpu, p: Task): void {
  const k = kernel();
  if (pc.top() !== p.ctx) throw new SimError(`CPU${pc.id}: exiting task ${p.comm} is not running`);
  if (pc.preempt_count !== 0) k.printk(`note: ${p.comm}[${p.pid}] exited with preempt_count ${pc.preempt_count}`);
  p.state = TASK_DEAD;
  p.on_rq = false;
  p.exit_code = 0;
  trace_sched_process_exit(p);
  rcu_task_exit(k, pc, p);
  pc.stack.pop();
  switch_to(k, pc, p);
  if (p.scenario && --k.live === 0 && k.stop_on_last_exit) k.engine.stop({ kind: "done" });
}

// ---------------------------------------------------------------- might_sleep

/**
 * __might_sleep(): reports a call that may sleep made from atomic context (preempt_count other
 * than `preempt_offset`, or interrupts off) or (PREEMPT_RCU) inside rcu_read_lock(), at most once
 * a second as Linux does. 2.6.34 prints in_atomic(), irqs_disabled(), pid and name; 6.1's
 * __might_resched() adds non_block (0: no mmu-notifier sections here), a "preempt_count: %x,
 * expected: %x" line and, with CONFIG_PREEMPT_RCU (which CONFIG_PREEMPT selects), "RCU nest
 * depth: %d, expected: %u" (rcu_preempt_depth(), expected 0); it checks rcu_sleep_check()
 * first (lockdep-RCU without PREEMPT_RCU). Not printed: lockdep's print_irqtrace_events() with
 * interrupts off (irq event stamps and the last enable/disable sites are not tracked), 6.1's
 * "Preemption disabled at:" (CONFIG_DEBUG_PREEMPT; where preemption went off is not
 * recorded), the taint.
 */
export function __might_sleep(file: string, line: number, preempt_offset = 0): void {
  const k = kernel();
  if (!k.config.debug_atomic_sleep) return;
  rcu_sleep_check(k);
  const pc = k.this_cpu();
  const rcu_depth = rcu_preempt_depth(k);
  if (pc.preempt_count === preempt_offset && pc.hw.irqs_enabled && rcu_depth === 0) return;
  const jiffies = Math.floor(k.now() / k.tick_ns);
  if (k.might_sleep_prev_jiffy >= 0 && jiffies < k.might_sleep_prev_jiffy + k.config.hz) return;
  k.might_sleep_prev_jiffy = jiffies;
  const cur = pc.curr;
  const atomic = `in_atomic(): ${pc.preempt_count !== 0 ? 1 : 0}, irqs_disabled(): ${pc.hw.irqs_enabled ? 0 : 1}`;
  const header =
    k.config.era === "2.6"
      ? [`${atomic}, pid: ${cur.pid}, name: ${cur.comm}`]
      : [
          `${atomic}, non_block: 0, pid: ${cur.pid}, name: ${cur.comm}`,
          `preempt_count: ${pc.preempt_count.toString(16)}, expected: ${preempt_offset.toString(16)}`,
          ...(k.config.preempt ? [`RCU nest depth: ${rcu_depth}, expected: 0`] : []),
        ];
  const text = [
    `BUG: sleeping function called from invalid context at ${file}:${line}`,
    ...header,
    ...print_held_locks(k, cur),
    ...dump_stack(k.this_ctx(), k.config.era === "2.6" ? ["__might_sleep"] : ["__might_sleep", "__might_resched"]),
  ].join("\n");
  k.report("might_sleep", text);
}

