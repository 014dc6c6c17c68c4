// Virtual-time costs of the machine's basic operations, in ns: a flat model, every figure a round
// number of the order measured on a few-GHz x86, not a measurement of any one machine. Memory
// accesses cost what the cache model (mmu/cache.ts) says for each line, plus pageWalk for each
// page walk (its entry reads go through the cache model too).
export interface Costs {
  /** Any interleaving point: the work between two points is at least this. */
  readonly step: number;
  /** An uncontended atomic read-modify-write (taking a free spinlock, atomic_inc). */
  readonly atomic: number;
  /** Handing a contended lock's cache line to the next spinner. */
  readonly lineTransfer: number;
  /** Interrupt entry plus exit (vector dispatch, irq_enter/irq_exit, iret). */
  readonly irqEntry: number;
  /** Entering __do_softirq once. */
  readonly softirqEntry: number;
  /** A context switch (switch_mm + switch_to). */
  readonly contextSwitch: number;
  /** Waking a task (try_to_wake_up). */
  readonly wakeup: number;
  /** Taking a block off, or putting one on, a buddy free list (split/merge included; touches struct pages). */
  readonly buddyOp: number;
  /** Moving one page on or off a per-CPU page list. */
  readonly pcpOp: number;
  /** Sending one inter-processor interrupt (an APIC ICR write and its wait for delivery). */
  readonly ipiSend: number;
  /**
   * One page walk's own latency (the page-miss handler: a TLB miss, or a write re-walking to set
   * Dirty), on top of its entry reads, which the cache model charges. A walk whose entries hit
   * the caches takes some tens of cycles on current x86 (and the paging-structure caches, not
   * modelled, shorten it): 20 ns is a round figure of that order, about 60 cycles at 3 GHz.
   */
  readonly pageWalk: number;
}

export const DEFAULT_COSTS: Costs = {
  step: 50,
  atomic: 20,
  lineTransfer: 100,
  irqEntry: 500,
  softirqEntry: 200,
  contextSwitch: 1500,
  wakeup: 300,
  buddyOp: 100,
  pcpOp: 20,
  ipiSend: 300,
  pageWalk: 20,
};

/** The machine file's / scenario's `costs` keys for the fields above (snake_case, as other machine fields). */
export const COST_KEYS: Readonly<Record<string, keyof Costs>> = {
  step: "step",
  atomic: "atomic",
  line_transfer: "lineTransfer",
  irq_entry: "irqEntry",
  softirq_entry: "softirqEntry",
  context_switch: "contextSwitch",
  wakeup: "wakeup",
  buddy_op: "buddyOp",
  pcp_op: "pcpOp",
  ipi_send: "ipiSend",
  page_walk: "pageWalk",
};
