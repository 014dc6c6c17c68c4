// The local APIC timer of each CPU, used in one-shot mode: the kernel's tick code arms it for
// the next tick boundary and re-arms it from the tick handler (so a CPU that goes idle can leave
// it unarmed, as NO_HZ idle does).
import type { Engine } from "../../sim/engine.ts";
import type { SimEvent } from "../../sim/eventq.ts";
import type { Cpu } from "../cpu.ts";
import { LOCAL_TIMER_VECTOR } from "../vectors.ts";

export class LapicTimer {
  private readonly armed: (SimEvent | undefined)[];

  constructor(private readonly engine: Engine, private readonly cpus: readonly Cpu[]) {
    this.armed = cpus.map(() => undefined);
  }

  /** Fires LOCAL_TIMER_VECTOR on `cpu` at virtual time `at` (replacing an earlier arming). */
  arm(cpu: number, at: number): void {
    this.disarm(cpu);
    this.armed[cpu] = this.engine.at(at, 0, `lapic-timer/${cpu}`, () => {
      this.armed[cpu] = undefined;
      this.cpus[cpu]!.raise(LOCAL_TIMER_VECTOR, at);
    }, true);
  }

  disarm(cpu: number): void {
    const ev = this.armed[cpu];
    if (ev !== undefined) this.engine.events.cancel(ev);
    this.armed[cpu] = undefined;
  }

  isArmed(cpu: number): boolean {
    return this.armed[cpu] !== undefined;
  }

  /** When the timer of `cpu` fires (Infinity when it is not armed). */
  armedAt(cpu: number): number {
    return this.armed[cpu]?.time ?? Infinity;
  }
}
