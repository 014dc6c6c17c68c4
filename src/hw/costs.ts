// Virtual-time costs of the machine's basic operations, in ns. A first flat model (the cache and
// TLB model of the hardware work will refine memory-touching costs); every figure here is a
// round number of the order measured on a few-GHz x86, not a measurement of any one machine.
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
};
