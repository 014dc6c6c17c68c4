// x86 interrupt vectors (arch/x86/include/asm/irq_vectors.h, 2.6.34): device IRQ n arrives on
// vector IRQ0_VECTOR + n; the local timer and the inter-processor interrupts have fixed vectors.
export const FIRST_EXTERNAL_VECTOR = 0x20;
export const IRQ0_VECTOR = 0x30;
export const LOCAL_TIMER_VECTOR = 0xef;
export const CALL_FUNCTION_SINGLE_VECTOR = 0xfb;
export const CALL_FUNCTION_VECTOR = 0xfc;
export const RESCHEDULE_VECTOR = 0xfd;
/** Device IRQ lines the interrupt controller routes (vectors 0x30..0xee). */
export const NR_IRQS = LOCAL_TIMER_VECTOR - IRQ0_VECTOR;

export function irq_to_vector(irq: number): number {
  return IRQ0_VECTOR + irq;
}

export function vector_to_irq(vector: number): number {
  return vector >= IRQ0_VECTOR && vector < LOCAL_TIMER_VECTOR ? vector - IRQ0_VECTOR : -1;
}
