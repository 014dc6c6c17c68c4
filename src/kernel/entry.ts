// What a CPU does when the engine steps it (arch/x86/kernel/entry + the idle loop, reduced):
// take the highest pending interrupt if interrupts are enabled, otherwise resume the context on
// top of the CPU's stack, or, when idle, switch to the next runnable task. A context's fiber ends
// here too: an interrupt context pops (and may preempt the task below on the way back), a task
// exits.
import * as Cause from "effect/Cause";
import * as Exit from "effect/Exit";
import type { CpuExec } from "../hw/cpu.ts";
import { LOCAL_TIMER_VECTOR, RESCHEDULE_VECTOR, CALL_FUNCTION_SINGLE_VECTOR, vector_to_irq } from "../hw/vectors.ts";
import { SimError } from "../sim/errors.ts";
import { ExecContext } from "./context.ts";
import { Stepper } from "../sim/stepper.ts";
import type { Kernel } from "./kernel.ts";
import type { PerCpu } from "./percpu.ts";
import { do_IRQ } from "./irq/handle.ts";
import { local_timer_interrupt } from "./time/tick.ts";
import { reschedule_interrupt, call_function_single_interrupt } from "./smp.ts";
import { pick_next_and_switch, preempt_schedule_irq, do_exit } from "./sched/core.ts";
import { ScenarioBug } from "./bug.ts";
import { rcu_idle_enter, rcu_sched_clock_irq } from "./rcu/tree.ts";

/** How one CPU runs: its kernel and per-CPU state at hand (no lookup by CPU id on a step). */
class CpuEntry implements CpuExec {
  constructor(
    private readonly k: Kernel,
    private readonly pc: PerCpu,
  ) {}
  runnable(): boolean {
    return runnable(this.k, this.pc);
  }
  step(): void {
    step(this.k, this.pc);
  }
  interrupted(t: number): void {
    interrupted(this.pc, t);
  }
  stalled(ns: number): void {
    const pc = this.pc;
    if (pc.isIdle()) pc.times.idle += ns;
    else pc.account(ns);
  }
}

export function install_entry(k: Kernel): void {
  for (const c of k.machine.cpus) c.exec = new CpuEntry(k, k.percpu[c.id]!);
}

function runnable(k: Kernel, pc: PerCpu): boolean {
  if (k.halted) return false;
  if (pc.hw.irqs_enabled && pc.hw.hasPending()) return true;
  const top = pc.top();
  if (top === undefined) return pc.rq.length > 0;
  return top.ready();
}

/** Brings a CPU that was not running anything (idle, or spinning; at the end of a run, any CPU) forward to time `t`. */
export function catch_up(pc: PerCpu, t: number): void {
  const top = pc.top();
  // Leaving idle touches the soft-lockup watchdog (tick_nohz_idle_exit).
  if (top === undefined) pc.touch_ts = Math.max(pc.touch_ts, t, pc.hw.clock);
  if (pc.hw.clock >= t) return;
  const waited = t - pc.hw.clock;
  if (top === undefined) pc.times.idle += waited;
  else if (top.spinning !== null) pc.times.spin += waited;
  // A CPU still running a context when the run ends (a lockup or panic halted the machine): its
  // context went on until then.
  else pc.account(waited);
  pc.hw.clock = t;
  pc.hw.changed();
}

function interrupted(pc: PerCpu, t: number): void {
  const top = pc.top();
  if (pc.hw.irqs_enabled && (top === undefined || !top.ready())) catch_up(pc, t);
}

function step(k: Kernel, pc: PerCpu): void {
  k.cpu = pc;
  try {
    if (pc.hw.irqs_enabled && pc.hw.hasPending()) return take_interrupt(k, pc, pc.hw.ack());
    let top = pc.top();
    if (top === undefined) {
      pick_next_and_switch(pc);
      top = pc.top();
      if (top === undefined) return;
    }
    run(k, top);
  } finally {
    k.cpu = null;
    k.ctx = null;
  }
}

/** Runs the context's next step: from where it parked to its next interleaving point. */
function run(k: Kernel, ctx: ExecContext): void {
  k.ctx = ctx;
  (ctx.stepper ?? new_stepper(k, ctx)).step();
}

// Apart from run(), so that run() captures nothing (V8 would allocate a closure context on every call).
function new_stepper(k: Kernel, ctx: ExecContext): Stepper {
  return (ctx.stepper = new Stepper(
    ctx.program,
    k.engine.fiberContext,
    (exit) => context_exit(k, ctx, exit),
    // Woken by an Effect primitive completed elsewhere: its CPU may run it again.
    () => ctx.cpu.hw.changed(),
  ));
}

function take_interrupt(k: Kernel, pc: PerCpu, vector: number): void {
  // An interrupt gate: the CPU clears IF and enters the handler on the interrupted context's behalf.
  pc.hw.irqs_enabled = false;
  pc.irqs++;
  pc.hw.clock += k.costs.irqEntry;
  pc.times.hardirq += k.costs.irqEntry;
  let name: string;
  let outer: string;
  let inner: string;
  let program;
  if (vector === LOCAL_TIMER_VECTOR) {
    // update_process_times()'s rcu_check_callbacks() (6.1: rcu_sched_clock_irq()), taken here
    // as the tick comes, on what it interrupted; RCU_SOFTIRQ it raises runs at its irq_exit.
    if (k.ext_rcu !== undefined) rcu_sched_clock_irq(k, pc);
    name = "local-timer";
    outer = "apic_timer_interrupt";
    inner = "smp_apic_timer_interrupt";
    program = local_timer_interrupt();
  } else if (vector === RESCHEDULE_VECTOR) {
    name = "reschedule-ipi";
    outer = "reschedule_interrupt";
    inner = "smp_reschedule_interrupt";
    program = reschedule_interrupt();
  } else if (vector === CALL_FUNCTION_SINGLE_VECTOR) {
    name = "call-function-ipi";
    outer = "call_function_single_interrupt";
    inner = "smp_call_function_single_interrupt";
    program = call_function_single_interrupt();
  } else {
    const irq = vector_to_irq(vector);
    if (irq < 0) throw new SimError(`CPU${pc.id}: unexpected vector 0x${vector.toString(16)}`);
    name = IRQ_NAMES[irq] ??= `irq/${irq}`;
    outer = "common_interrupt";
    inner = "do_IRQ";
    program = do_IRQ(irq);
  }
  let ctx = pc.irq_pool.pop();
  if (ctx !== undefined) ctx.reuse(name, program, outer, inner);
  else ctx = new ExecContext("irq", name, null, program, pc, [outer, inner]);
  pc.stack.push(ctx);
  run(k, ctx);
}

/** "irq/N", by N (made once). */
const IRQ_NAMES: string[] = [];
/** Interrupt contexts a CPU keeps for reuse (interrupts nest only a few deep). */
const IRQ_POOL = 4;

function context_exit(k: Kernel, ctx: ExecContext, exit: Exit.Exit<void, unknown>): void {
  const pc = ctx.cpu;
  if (Exit.isFailure(exit)) return fiber_failed(k, ctx, exit.cause);
  if (ctx.kind === "irq") {
    if (pc.top() !== ctx) throw new SimError(`CPU${pc.id}: interrupt context ${ctx.name} ended but is not on top`);
    pc.stack.pop();
    // Back to the idle loop: dyntick-idle, a quiescent state for RCU.
    if (pc.stack.length === 0 && k.ext_rcu !== undefined) rcu_idle_enter(k, pc);
    // Nothing refers to a context that ended holding no lock: the next interrupt may reuse it.
    if (ctx.held.length === 0 && ctx.spinning === null && pc.irq_pool.length < IRQ_POOL) pc.irq_pool.push(ctx);
    // iret: the interrupted context ran with IF set, or the interrupt would not have been taken.
    pc.hw.irqs_enabled = true;
    preempt_schedule_irq(pc);
    return;
  }
  do_exit(pc, ctx.task!);
}

function fiber_failed(k: Kernel, ctx: ExecContext, cause: Cause.Cause<unknown>): void {
  const err = Cause.squash(cause);
  if (err instanceof Error && err.name === ScenarioBug.name) {
    // BUG(): the report is printed already; the machine stops as a panic would.
    k.halt(k.now(), err.message);
    return;
  }
  throw err instanceof Error ? err : new SimError(`context ${ctx.name} failed: ${String(err)}`);
}
