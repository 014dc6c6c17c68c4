// include/linux/irqflags.h: the CPU's interrupt flag. Disabling is a plain instruction;
// enabling is an interleaving point, since a pending interrupt is taken right there.
import * as Effect from "effect/Effect";
import { kernel } from "./kernel.ts";
import { sched_point } from "./sched/core.ts";

/** The saved state of the interrupt flag (X86_EFLAGS_IF = 0x200 when set). */
export type irqflags_t = number;
export const X86_EFLAGS_IF = 0x200;

export function local_irq_disable(): void {
  kernel().this_cpu().hw.irqs_enabled = false;
}

export const local_irq_enable = (): Effect.Effect<void> =>
  Effect.suspend(() => {
    kernel().this_cpu().hw.irqs_enabled = true;
    return sched_point();
  });

/** local_irq_save(flags): returns the flags to hand to local_irq_restore. */
export function local_irq_save(): irqflags_t {
  const hw = kernel().this_cpu().hw;
  const flags = hw.irqs_enabled ? X86_EFLAGS_IF : 0;
  hw.irqs_enabled = false;
  return flags;
}

/** local_irq_restore(flags): the flag exactly as saved (popf); enabling is an interleaving point. */
export const local_irq_restore = (flags: irqflags_t): Effect.Effect<void> =>
  Effect.suspend(() => {
    if ((flags & X86_EFLAGS_IF) !== 0) return local_irq_enable();
    kernel().this_cpu().hw.irqs_enabled = false;
    return Effect.void;
  });

export function raw_irqs_disabled_flags(flags: irqflags_t): boolean {
  return (flags & X86_EFLAGS_IF) === 0;
}
