// include/linux/irqflags.h: the CPU's interrupt flag. Disabling is a plain instruction;
// enabling is an interleaving point, since a pending interrupt is taken right there.
import * as Effect from "effect/Effect";
import { kernel } from "./kernel.ts";
import { OpClass, PARK, op, type Activation } from "../sim/op.ts";

/** The saved state of the interrupt flag (X86_EFLAGS_IF = 0x200 when set). */
export type irqflags_t = number;
/** X86_EFLAGS_IF (0x200): the interrupt-enable flag of EFLAGS; set in saved flags when interrupts were on. */
export const X86_EFLAGS_IF = 0x200;

/** local_irq_disable(): disables interrupts on this CPU (cli). Context: any; never sleeps. Not an interleaving point. */
export function local_irq_disable(): void {
  kernel().this_cpu().hw.irqs_enabled = false;
}

/**
 * local_irq_restore(flags)'s work inside an op: the flag as saved; true when that turned
 * interrupts on, which is an interleaving point (charged here): the op parks next.
 */
export function irq_restore_op(flags: irqflags_t): boolean {
  const k = kernel();
  if ((flags & X86_EFLAGS_IF) === 0) {
    k.this_cpu().hw.irqs_enabled = false;
    return false;
  }
  k.this_cpu().hw.irqs_enabled = true;
  k.charge(k.costs.step);
  return true;
}

/** local_irq_restore(flags) (local_irq_enable(): flags with IF set): enabling is an interleaving point. */
class IrqRestore extends OpClass {
  constructor(readonly flags: irqflags_t) {
    super();
  }
  run(act: Activation): unknown {
    return act.phase !== 0 ? undefined : irq_restore_in_op(act, this.flags, 1);
  }
}

const local_irq_enable_op: Effect.Effect<void> = op(new IrqRestore(X86_EFLAGS_IF));
/**
 * local_irq_enable(): enables interrupts on this CPU (sti). Context: any; never sleeps. An
 * interleaving point: an interrupt pending on the CPU is taken right there.
 */
export const local_irq_enable = (): Effect.Effect<void> => local_irq_enable_op;

/**
 * local_irq_restore(flags) at the end of an op: PARK (the op resumes in phase `then`) when it
 * turns interrupts on, undefined (go on) when the flags had them off.
 */
export function irq_restore_in_op(act: Activation, flags: irqflags_t, then: number): unknown {
  if (!irq_restore_op(flags)) return undefined;
  act.phase = then;
  return PARK;
}

/** local_irq_save(flags): returns the flags to hand to local_irq_restore. */
export function local_irq_save(): irqflags_t {
  const hw = kernel().this_cpu().hw;
  const flags = hw.irqs_enabled ? X86_EFLAGS_IF : 0;
  hw.irqs_enabled = false;
  return flags;
}

/** local_irq_restore(flags): the flag exactly as saved (popf); enabling is an interleaving point. */
export const local_irq_restore = (flags: irqflags_t): Effect.Effect<void> => op(new IrqRestore(flags));

/** raw_irqs_disabled_flags(flags): true if the saved `flags` (from local_irq_save) had interrupts disabled (X86_EFLAGS_IF clear). */
export function raw_irqs_disabled_flags(flags: irqflags_t): boolean {
  return (flags & X86_EFLAGS_IF) === 0;
}
