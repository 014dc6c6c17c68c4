// The interrupt controller (an IO-APIC with local APICs, reduced to routing): each IRQ line has
// an affinity mask; a raised line goes to one CPU of its mask, fixed (the lowest) or rotating
// round-robin ("lowest priority" delivery reduced to rotation). IPIs go straight to a CPU.
import type { Cpu } from "./cpu.ts";
import { irq_to_vector, NR_IRQS } from "./vectors.ts";
import { ScenarioError } from "../sim/errors.ts";

export type Delivery = "fixed" | "round-robin";

interface Line {
  cpus: number[];
  delivery: Delivery;
  next: number;
  count: number;
}

export class IrqChip {
  private readonly lines = new Map<number, Line>();

  constructor(private readonly cpus: readonly Cpu[]) {}

  /** Routes `irq` to the CPUs in `cpus` (all CPUs if empty). */
  route(irq: number, cpus: readonly number[], delivery: Delivery = "fixed"): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS) throw new ScenarioError(`irq ${irq} out of range 0..${NR_IRQS - 1}`);
    const set = cpus.length > 0 ? [...cpus] : this.cpus.map((c) => c.id);
    for (const c of set) if (c < 0 || c >= this.cpus.length) throw new ScenarioError(`irq ${irq} routed to CPU ${c}, but the machine has ${this.cpus.length} CPU${this.cpus.length > 1 ? "s" : ""}`);
    this.lines.set(irq, { cpus: set, delivery, next: 0, count: 0 });
  }

  /** Asserts line `irq` at virtual time `t`; returns the CPU it was delivered to. */
  raise(irq: number, t: number): number {
    let line = this.lines.get(irq);
    if (line === undefined) {
      this.route(irq, [0]);
      line = this.lines.get(irq)!;
    }
    const cpu = line.cpus[line.delivery === "fixed" ? 0 : line.next++ % line.cpus.length]!;
    line.count++;
    this.cpus[cpu]!.raise(irq_to_vector(irq), t);
    return cpu;
  }

  /** An inter-processor interrupt: `vector` on CPU `cpu`. */
  send_ipi(cpu: number, vector: number, t: number): void {
    this.cpus[cpu]!.raise(vector, t);
  }

  /** Interrupts delivered per line, in line order. */
  counts(): Array<{ irq: number; count: number; cpus: number[] }> {
    return [...this.lines.entries()].sort((a, b) => a[0] - b[0]).map(([irq, l]) => ({ irq, count: l.count, cpus: l.cpus }));
  }
}
