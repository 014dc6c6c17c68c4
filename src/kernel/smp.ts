// kernel/smp.c and the x86 IPI handlers, reduced: the reschedule IPI sets need_resched on its
// CPU; smp_call_function_single() runs a function on another CPU from its call-function IPI and,
// with `wait`, spins until it has run.
import * as Effect from "effect/Effect";
import { CALL_FUNCTION_SINGLE_VECTOR, RESCHEDULE_VECTOR } from "../hw/vectors.ts";
import { kernel } from "./kernel.ts";
import { HARDIRQ_OFFSET } from "./preempt.ts";
import { cpu_relax, raw_smp_processor_id } from "./sched/core.ts";
import { trace_ipi_entry, trace_ipi_exit } from "./trace.ts";
import { irq_exit } from "./softirq.ts";
import { local_irq_restore, local_irq_save } from "./irqflags.ts";
import { warn_text } from "./dumpstack.ts";

import type { CallSingleData } from "./percpu.ts";
import { gen_fn } from "./gen_fn.ts";

type CallFn = CallSingleData["func"];

const call_queue = (cpu: number): CallSingleData[] => kernel().percpu[cpu]!.call_single_queue;

/**
 * smp_send_reschedule(cpu): sends the reschedule IPI to `cpu`, so that CPU reschedules at its next
 * preemption point (at once on the interrupt's return to a preemptible task, with CONFIG_PREEMPT).
 * Context: any; never sleeps. A plain call: the IPI arrives through the interrupt controller as
 * other interrupts do. Its handler sets need_resched there (Linux's resched_curr() sets the flag
 * before sending).
 */
export function smp_send_reschedule(cpu: number): void {
  const k = kernel();
  k.machine.irqchip.send_ipi(cpu, RESCHEDULE_VECTOR, k.now());
}

export const reschedule_interrupt = gen_fn(function* reschedule_interrupt(): Effect.fn.Return<void> {
  const pc = kernel().this_cpu();
  pc.preempt_count += HARDIRQ_OFFSET;
  trace_ipi_entry("Rescheduling interrupts");
  pc.need_resched = true;
  trace_ipi_exit("Rescheduling interrupts");
  yield* irq_exit();
});

export const call_function_single_interrupt = gen_fn(function* call_function_single_interrupt(): Effect.fn.Return<void> {
  const pc = kernel().this_cpu();
  pc.preempt_count += HARDIRQ_OFFSET;
  trace_ipi_entry("Function call interrupts");
  const q = call_queue(pc.id);
  while (q.length > 0) {
    const d = q.shift()!;
    yield* d.func(d.info);
    d.done = true;
  }
  trace_ipi_exit("Function call interrupts");
  yield* irq_exit();
});

/**
 * on_each_cpu(func, info, wait): `func` on every other CPU from the call-function IPI and here
 * with interrupts off; with `wait`, returns once all have run. A CPU with interrupts off takes
 * the IPI late and so delays the caller. Calling it with interrupts off warns (deadlock risk).
 * Context: process, interrupts on.
 */
export const on_each_cpu = (func: CallFn, info: unknown, wait: boolean): Effect.Effect<void> =>
  Effect.suspend(() => on_each_cpu_mask(kernel().percpu.map((pc) => pc.id), func, info, wait));

/** on_each_cpu_mask(mask, func, info, wait): `func` on the CPUs in `cpus` (by IPI, and here if listed). Context: process, interrupts on. */
export const on_each_cpu_mask = gen_fn(function* on_each_cpu_mask(cpus: readonly number[], func: CallFn, info: unknown, wait: boolean): Effect.fn.Return<void> {
  const k = kernel();
  const me = raw_smp_processor_id(); // (Linux: under preempt_disable())
  if (!k.this_cpu().hw.irqs_enabled && !warned_irqs_off.has(k)) {
    warned_irqs_off.add(k);
    k.report("bug", warn_text(k.this_ctx(), "kernel/smp.c", "smp_call_function_many"));
  }
  const pending: CallSingleData[] = [];
  for (const pc of k.percpu) {
    if (pc.id === me || !cpus.includes(pc.id)) continue;
    const d: CallSingleData = { func, info, done: false };
    call_queue(pc.id).push(d);
    pending.push(d);
    k.charge(k.costs.ipiSend);
    k.machine.irqchip.send_ipi(pc.id, CALL_FUNCTION_SINGLE_VECTOR, k.now());
  }
  if (cpus.includes(me)) {
    const flags = local_irq_save();
    yield* func(info);
    yield* local_irq_restore(flags);
  }
  while (wait && pending.some((d) => !d.done)) yield* cpu_relax();
});

const warned_irqs_off = new WeakSet<object>();

/** Runs `func(info)` on `cpu` (directly if it is this CPU); with `wait`, returns once it ran. */
export const smp_call_function_single = gen_fn(function* smp_call_function_single(cpu: number, func: CallFn, info: unknown, wait: boolean): Effect.fn.Return<number> {
  const k = kernel();
  if (cpu === raw_smp_processor_id()) { // (Linux: under get_cpu())
    yield* func(info);
    return 0;
  }
  const d: CallSingleData = { func, info, done: false };
  call_queue(cpu).push(d);
  k.machine.irqchip.send_ipi(cpu, CALL_FUNCTION_SINGLE_VECTOR, k.now());
  while (wait && !d.done) yield* cpu_relax();
  return 0;
});
