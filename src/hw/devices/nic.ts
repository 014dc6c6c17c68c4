// A NIC-like interrupt source: packets arrive as a Poisson process at `rate` per second of
// virtual time (exponential gaps drawn from the device's own seeded stream) into a bounded
// receive ring; each arrival asserts the device's IRQ line. The driver's handler reaps the ring.
// Arrival times can be listened to; given a script of them (src/sim/script.ts), the NIC raises exactly
// those and draws nothing.
import type { Engine } from "../../sim/engine.ts";
import type { Rng } from "../../sim/rng.ts";
import type { IrqChip } from "../irqchip.ts";

export interface NicConfig {
  readonly name: string;
  readonly irq: number;
  /** Mean arrivals per second of virtual time. */
  readonly rate: number;
  /** Receive ring size; arrivals into a full ring are dropped. */
  readonly ring?: number;
}

export class Nic {
  private readonly ring: number[] = [];
  private next = 0;
  private running = false;
  rx_packets = 0;
  rx_dropped = 0;
  /** Told of every arrival as it is scheduled (virtual ns), when a run records them. */
  onArrival: ((at: number) => void) | null = null;
  private scheduled = 0;
  /** The arrival event's label and action, made once (an arrival allocates only its event). */
  private readonly label: string;
  private readonly fire = (): void => this.arrive();

  constructor(readonly config: NicConfig, private readonly engine: Engine, private readonly chip: IrqChip, private readonly rng: Rng, private readonly script?: readonly number[]) {
    this.label = `nic/${config.name}`;
  }

  start(): void {
    if (this.running || this.config.rate <= 0) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
  }

  private schedule(): void {
    let at: number;
    if (this.script !== undefined) {
      const next = this.script[this.scheduled];
      if (next === undefined) return;
      at = Math.max(next, this.engine.now);
    } else at = this.engine.now + Math.max(1, Math.round((-Math.log(1 - this.rng.next()) / this.config.rate) * 1e9));
    this.scheduled++;
    this.onArrival?.(at);
    this.engine.at(at, 1, this.label, this.fire, true);
  }

  private arrive(): void {
    if (!this.running) return;
    if (this.ring.length >= (this.config.ring ?? 256)) this.rx_dropped++;
    else {
      this.ring.push(this.next++);
      this.rx_packets++;
    }
    this.chip.raise(this.config.irq, this.engine.now);
    this.schedule();
  }

  /** Takes up to `budget` received packet ids, oldest first. */
  reap(budget = Infinity): number[] {
    const ring = this.ring;
    if (!(budget >= ring.length)) return ring.splice(0, budget);
    // All of them: copied out, and the ring emptied with pop() (splice or `length = 0` would give
    // its store back, and the next arrival's push would allocate a new one).
    const out = ring.slice();
    while (ring.length > 0) ring.pop();
    return out;
  }

  get pending(): number {
    return this.ring.length;
  }
}
