// kernel/irq/manage.c reduced: request_irq() installs an action on an IRQ line (shared lines
// chain actions with IRQF_SHARED) and routes the line at the interrupt controller.
import type * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { NR_IRQS } from "../../hw/vectors.ts";
import { kernel } from "../kernel.ts";
import { effect_fn, type EffectFn } from "../gen_fn.ts";

export type irqreturn_t = 0 | 1 | 2;
export const IRQ_NONE: irqreturn_t = 0;
export const IRQ_HANDLED: irqreturn_t = 1;
export const IRQ_WAKE_THREAD: irqreturn_t = 2;

export const IRQF_DISABLED = 0x20;
export const IRQF_SHARED = 0x80;

export type irq_handler_t = (irq: number, dev_id: unknown) => Effect.Effect<irqreturn_t>;

export interface IrqAction {
  readonly handler: irq_handler_t;
  readonly flags: number;
  readonly name: string;
  readonly dev_id: unknown;
}

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

export const EBUSY = 16;
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

export function free_irq(irq: number, dev_id: unknown): void {
  const desc = kernel().irq_desc.get(irq);
  const i = desc?.actions.findIndex((a) => a.dev_id === dev_id) ?? -1;
  if (i < 0) throw new ScenarioError(`free_irq(${irq}): trying to free an IRQ that was not requested`);
  desc!.actions.splice(i, 1);
}
