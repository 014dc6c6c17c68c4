// How a spinning lock's calls (spinlock.ts, rwlock.ts) enter and leave, as include/linux/
// spinlock_api_smp.h's __raw_spin_lock_irqsave() and friends do around the lock itself: the
// interrupt flag, bottom halves and preemption, and the interleaving points that go with them.
import { BECOME, PARK, type Activation } from "../../sim/op.ts";
import type { Kernel } from "../kernel.ts";
import { preempt_disable, preempt_enable_no_resched, resched_op } from "../sched/core.ts";
import { irq_restore_in_op, local_irq_disable, local_irq_save, type irqflags_t } from "../irqflags.ts";
import { local_bh_disable, local_bh_enable } from "../softirq.ts";

// How a locking call enters and leaves: what it does to the interrupt flag, preemption and bottom
// halves around the lock itself (shared with rwlock.ts).
export const PLAIN = 0;
export const IRQ = 1;
export const IRQSAVE = 2;
export const BH = 3;

/**
 * A spinning lock's entry (interrupts or bottom halves off as `how` says, then preemption off)
 * and its interleaving point: the op resumes in phase 1. spin_lock_irqsave's flags are kept in act.n.
 */
export function lock_entry(k: Kernel, how: number, act: Activation): typeof PARK {
  if (how === IRQ) local_irq_disable();
  else if (how === IRQSAVE) act.n = local_irq_save();
  else if (how === BH) local_bh_disable();
  preempt_disable();
  k.charge(k.costs.step);
  act.phase = 1;
  return PARK;
}

/**
 * A spinning lock's way out after its release, as the matching lock entered: interrupts back on
 * or as saved, bottom halves on (which may run softirqs), preemption on, and the preempt point.
 * spin_unlock_irqrestore with interrupts on in the flags has two interleaving points
 * (local_irq_restore's, then preempt_enable's); unlock_resume() goes on after each.
 */
export function unlock_exit(k: Kernel, how: number, flags: irqflags_t, act: Activation): unknown {
  const hw = k.this_cpu().hw;
  switch (how) {
    case IRQ:
      hw.irqs_enabled = true;
      break;
    case IRQSAVE:
      // local_irq_restore(flags): an interleaving point when it turns interrupts on.
      if (irq_restore_in_op(act, flags, BETWEEN) === PARK) return PARK;
      break;
    case BH:
      k.this_cpu().preempt_count -= 1;
      act.x = local_bh_enable();
      return BECOME;
  }
  preempt_enable_no_resched();
  return resched_op(act);
}

/** An unlocking op resumed (phase other than 0) after one of unlock_exit()'s interleaving points. */
export function unlock_resume(act: Activation): unknown {
  if (act.phase === DONE) return undefined;
  preempt_enable_no_resched(); // BETWEEN: after local_irq_restore's interleaving point
  return resched_op(act);
}

/** The unlocking ops' phases after the release: done (resched_op parks in phase 1), and between spin_unlock_irqrestore's two interleaving points. */
const DONE = 1;
const BETWEEN = 2;
