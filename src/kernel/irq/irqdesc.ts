// kernel/irq/manage.c reduced: request_irq() installs an action on an IRQ line (shared lines
// chain actions with IRQF_SHARED) and routes the line at the interrupt controller.
import type * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { NR_IRQS } from "../../hw/vectors.ts";
import { kernel } from "../kernel.ts";
import { effect_fn, type EffectFn } from "../gen_fn.ts";

/** irqreturn_t: what an interrupt handler returns: IRQ_NONE, IRQ_HANDLED or IRQ_WAKE_THREAD. */
export type irqreturn_t = 0 | 1 | 2;
/** IRQ_NONE (0): the interrupt was not from this handler's device; a line whose handlers all return it counts as unhandled. */
export const IRQ_NONE: irqreturn_t = 0;
/** IRQ_HANDLED (1): the handler serviced its device's interrupt. */
export const IRQ_HANDLED: irqreturn_t = 1;
/**
 * IRQ_WAKE_THREAD (2): the handler asks for its threaded handler to be woken (2.6.30+,
 * request_threaded_irq). mmsim has no threaded handlers: it counts as handled and wakes nothing.
 */
export const IRQ_WAKE_THREAD: irqreturn_t = 2;

/**
 * IRQF_DISABLED (0x20): run the handler with local interrupts disabled (2.6.34; removed in 4.1).
 * mmsim runs every handler so, as Linux does since 2.6.35, and does not look at the flag.
 */
export const IRQF_DISABLED = 0x20;
/** IRQF_SHARED (0x80): the line may be shared: request_irq() adds the handler to a line already requested only if both set it. */
export const IRQF_SHARED = 0x80;

/**
 * irq_handler_t: an interrupt handler, handler(irq, dev_id), returning its irqreturn_t. Runs in
 * hardirq context with local interrupts disabled; must not sleep.
 */
export type irq_handler_t = (irq: number, dev_id: unknown) => Effect.Effect<irqreturn_t>;

/** struct irqaction: one handler installed on a line by request_irq(), with its flags, name and dev_id. */
export interface IrqAction {
  readonly handler: irq_handler_t;
  readonly flags: number;
  readonly name: string;
  readonly dev_id: unknown;
}

/**
 * struct irq_desc: an IRQ line's state: its actions in request order, how many times it fired
 * (/proc/interrupts), how many of those no handler claimed, and the IRQ_INPROGRESS / IRQ_PENDING
 * status of handle_edge_irq().
 */
export interface IrqDesc {
  readonly irq: number;
  readonly actions: IrqAction[];
  count: number;
  unhandled: number;
  /** IRQ_INPROGRESS: a CPU is running the line's actions. */
  in_progress: boolean;
  /** IRQ_PENDING: it fired again meanwhile. */
  pending: boolean;
}

/** EBUSY (16): device or resource busy; request_irq() returns -EBUSY for a line taken and not shared by both. */
export const EBUSY = 16;
/** EINVAL (22): invalid argument; request_irq() returns -EINVAL for an IRQ number out of range. */
export const EINVAL = 22;

/**
 * request_irq(): returns 0, or -EBUSY if the line is taken and not shared by both. The handler
 * returns an Effect, or is a generator function (the faster form: made once).
 */
export function request_irq(irq: number, handler: EffectFn<[irq: number, dev_id: unknown], irqreturn_t>, flags: number, name: string, dev_id: unknown): number {
  const k = kernel();
  if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS) return -EINVAL;
  let desc = k.irq_desc.get(irq);
  if (desc === undefined) {
    desc = { irq, actions: [], count: 0, unhandled: 0, in_progress: false, pending: false };
    k.irq_desc.set(irq, desc);
  } else if (desc.actions.length > 0 && !((flags & IRQF_SHARED) !== 0 && (desc.actions[0]!.flags & IRQF_SHARED) !== 0)) {
    return -EBUSY;
  }
  desc.actions.push({ handler: effect_fn(handler), flags, name, dev_id });
  return 0;
}

/** Routes `irq` to `cpus` at the interrupt controller (irq_set_affinity). */
export function irq_set_affinity(irq: number, cpus: readonly number[], roundRobin = false): void {
  const k = kernel();
  try {
    k.machine.irqchip.route(irq, cpus, roundRobin ? "round-robin" : "fixed");
  } catch (e) {
    throw new ScenarioError(`irq_set_affinity(${irq}): ${(e as Error).message}`);
  }
}

/**
 * free_irq(irq, dev_id): removes the handler installed with `dev_id` from the line. Context:
 * process (Linux may sleep: it waits for a running handler, synchronize_irq). mmsim removes it at
 * once and never sleeps; freeing a handler that is not installed throws a ScenarioError (Linux
 * WARNs "Trying to free already-free IRQ").
 */
export function free_irq(irq: number, dev_id: unknown): void {
  const desc = kernel().irq_desc.get(irq);
  const i = desc?.actions.findIndex((a) => a.dev_id === dev_id) ?? -1;
  if (i < 0) throw new ScenarioError(`free_irq(${irq}): trying to free an IRQ that was not requested`);
  desc!.actions.splice(i, 1);
}
