// include/asm-generic/kmap_types.h (2.6.11 list, as the reference gives it) and the per-CPU
// kmap_atomic slots of 2.6: slot = type + KM_TYPE_NR * cpu, one fixmap page each. This file is
// the slot bookkeeping: which slot is in use on which CPU, by whom, and what it maps; a second
// user of a slot still in use on the same CPU (an interrupt taking the task's KM_USER0) is what
// the kernel side will report. Preemption, the pte and the TLB flush are the caller's.

/**
 * enum km_type's names in order (the 2.6.11 list, KM_TYPE_NR = 13): the kmap_atomic slots each
 * CPU has, one per use. 2.6.34's enum adds a few more (KM_SYNC_ICACHE, KM_NMI, ...), which mmsim
 * leaves out; 6.1 has no km_type.
 */
export const KM_TYPES = [
  "KM_BOUNCE_READ",
  "KM_SKB_SUNRPC_DATA",
  "KM_SKB_DATA_SOFTIRQ",
  "KM_USER0",
  "KM_USER1",
  "KM_BIO_SRC_IRQ",
  "KM_BIO_DST_IRQ",
  "KM_PTE0",
  "KM_PTE1",
  "KM_IRQ0",
  "KM_IRQ1",
  "KM_SOFTIRQ0",
  "KM_SOFTIRQ1",
] as const;
/**
 * km_type: a kmap_atomic slot ("KM_USER0", "KM_IRQ0", ...). 2.6: kmap_atomic(page, type) uses
 * fixmap slot type + KM_TYPE_NR * cpu; a slot still in use on the CPU (an interrupt taking the
 * task's KM_USER0) is a kernel BUG, as BUG_ON(!pte_none(...)) in kmap_atomic_prot. Kernel 6
 * ignores it.
 */
export type km_type = (typeof KM_TYPES)[number];
export const KM_TYPE_NR = KM_TYPES.length;

export interface SlotUse {
  readonly pfn: number;
  /** Who took the slot (a context name), for the report. */
  readonly by: string;
}

export class KmapAtomicSlots {
  private readonly uses: (SlotUse | null)[];

  constructor(readonly ncpus: number) {
    this.uses = Array.from({ length: KM_TYPE_NR * ncpus }, () => null);
  }

  /** The fixmap slot index of `type` on `cpu` (FIX_KMAP_BEGIN + idx in Linux). */
  static idx(type: km_type, cpu: number): number {
    return KM_TYPES.indexOf(type) + KM_TYPE_NR * cpu;
  }

  /** Takes the slot; returns the previous user if the slot was still in use (the bug to report). */
  map(type: km_type, cpu: number, use: SlotUse): SlotUse | null {
    const i = KmapAtomicSlots.idx(type, cpu);
    const prev = this.uses[i]!;
    this.uses[i] = use;
    return prev;
  }

  /** Releases the slot; false if it was not in use (an unbalanced kunmap_atomic). */
  unmap(type: km_type, cpu: number): boolean {
    const i = KmapAtomicSlots.idx(type, cpu);
    const was = this.uses[i] !== null;
    this.uses[i] = null;
    return was;
  }

  in_use(type: km_type, cpu: number): SlotUse | null {
    return this.uses[KmapAtomicSlots.idx(type, cpu)]!;
  }
}
