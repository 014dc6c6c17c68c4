// include/linux/preempt.h (4.19 layout): the preempt_count bit fields and the context
// predicates built on them. irqs_disabled() is the CPU's interrupt flag, not part of the count.
export const PREEMPT_BITS = 8;
export const SOFTIRQ_BITS = 8;
export const HARDIRQ_BITS = 4;
export const NMI_BITS = 1;

export const PREEMPT_SHIFT = 0;
export const SOFTIRQ_SHIFT = PREEMPT_SHIFT + PREEMPT_BITS; // 8
export const HARDIRQ_SHIFT = SOFTIRQ_SHIFT + SOFTIRQ_BITS; // 16
export const NMI_SHIFT = HARDIRQ_SHIFT + HARDIRQ_BITS; // 20

const mask = (bits: number, shift: number): number => ((1 << bits) - 1) << shift;
export const PREEMPT_MASK = mask(PREEMPT_BITS, PREEMPT_SHIFT); // 0x000000ff
export const SOFTIRQ_MASK = mask(SOFTIRQ_BITS, SOFTIRQ_SHIFT); // 0x0000ff00
export const HARDIRQ_MASK = mask(HARDIRQ_BITS, HARDIRQ_SHIFT); // 0x000f0000
export const NMI_MASK = mask(NMI_BITS, NMI_SHIFT); // 0x00100000

export const PREEMPT_OFFSET = 1 << PREEMPT_SHIFT;
export const SOFTIRQ_OFFSET = 1 << SOFTIRQ_SHIFT;
export const HARDIRQ_OFFSET = 1 << HARDIRQ_SHIFT;
export const NMI_OFFSET = 1 << NMI_SHIFT;
/** local_bh_disable() adds this; serving a softirq adds SOFTIRQ_OFFSET. */
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;

export const hardirq_count = (pc: number): number => pc & HARDIRQ_MASK;
export const softirq_count = (pc: number): number => pc & SOFTIRQ_MASK;
export const irq_count = (pc: number): number => pc & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK);

/** The kind of context a preempt_count describes, for accounting and reports. */
export type ContextKind = "hardirq" | "softirq" | "task";

export function context_kind(pc: number): ContextKind {
  if (hardirq_count(pc) !== 0 || (pc & NMI_MASK) !== 0) return "hardirq";
  if ((pc & SOFTIRQ_OFFSET) !== 0) return "softirq";
  return "task";
}
