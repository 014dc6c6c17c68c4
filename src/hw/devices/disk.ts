// A disk-like completion source: a submitted request completes after a latency drawn uniformly
// from [minNs, maxNs] (the device's own seeded stream) and asserts the device's IRQ line; the
// driver's handler reaps completed request tags in completion order.
import type { Engine } from "../../sim/engine.ts";
import type { Rng } from "../../sim/rng.ts";
import type { IrqChip } from "../irqchip.ts";

export interface DiskConfig {
  readonly name: string;
  readonly irq: number;
  readonly minNs: number;
  readonly maxNs: number;
}

export class Disk {
  private readonly done: number[] = [];
  /** Tags submitted and not yet completed. */
  private readonly queued = new Set<number>();
  inflight = 0;
  completed = 0;
  /** The completion event's label, made once. */
  private label: string | undefined;

  constructor(readonly config: DiskConfig, private readonly engine: Engine, private readonly chip: IrqChip, private readonly rng: Rng) {}

  /** Submits request `tag` at the current virtual time. */
  submit(tag: number): void {
    const { minNs, maxNs } = this.config;
    const latency = minNs + this.rng.int(Math.max(1, maxNs - minNs + 1));
    this.inflight++;
    this.queued.add(tag);
    this.engine.at(this.engine.now + latency, 1, (this.label ??= `disk/${this.config.name}`), () => {
      this.inflight--;
      this.queued.delete(tag);
      this.completed++;
      this.done.push(tag);
      this.chip.raise(this.config.irq, this.engine.now);
    });
  }

  /** The tags the device holds: in flight, or completed and not yet reaped (the request queue). */
  tags(): number[] {
    return [...this.queued, ...this.done];
  }

  /** Takes the tags of all completed requests, in completion order. */
  reap(): number[] {
    return this.done.splice(0, this.done.length);
  }
}
