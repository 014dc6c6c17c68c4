// One simulated processor: its interrupt flag (EFLAGS.IF), its local virtual clock and its
// local APIC's pending-vector bitmap. The kernel installs how the CPU runs (its `exec`); the
// hardware itself never imports the kernel.
import type { Engine, Lane } from "../sim/engine.ts";

/** How one CPU runs, installed by the kernel for that CPU. */
export interface CpuExec {
  runnable(): boolean;
  step(): void;
  /** Accounts `ns` the CPU spent before its step (it has been added to its clock). */
  stalled(ns: number): void;
  /** Called when a vector becomes pending at virtual time `t` (the CPU may be idle). */
  interrupted(t: number): void;
}

export class Cpu implements Lane {
  clock = 0;
  lane_index = -1;
  lane_dirty = false;
  private _if = true;
  /** Local time at which IF was last cleared. */
  irqs_off_since = 0;
  /** Called when IF goes from set to clear (the NMI watchdog's hook). */
  onIrqsOff: ((cpu: Cpu) => void) | undefined;

  /** EFLAGS.IF: maskable interrupts are taken only while set. */
  get irqs_enabled(): boolean {
    return this._if;
  }
  set irqs_enabled(v: boolean) {
    if (this._if && !v) {
      this.irqs_off_since = this.clock;
      this._if = false;
      this.onIrqsOff?.(this);
    } else this._if = v;
  }
  /** Pending vectors (local APIC IRR), one bit each. */
  private readonly irr = new Uint32Array(8);
  private npending = 0;
  exec: CpuExec | undefined;

  constructor(
    readonly id: number,
    private readonly engine: Engine | null = null,
  ) {}

  /** Tells the engine this CPU's clock or runnability changed outside its own step. */
  changed(): void {
    this.engine?.touch(this);
  }

  runnable(): boolean {
    return this.exec!.runnable();
  }

  step(): void {
    this.exec!.step();
  }

  stall(ns: number): void {
    this.clock += ns;
    this.exec?.stalled(ns);
  }

  /** Latches `vector` as pending (idempotent, as the IRR is). */
  raise(vector: number, t: number): void {
    const w = vector >> 5;
    const bit = 1 << (vector & 31);
    if ((this.irr[w]! & bit) === 0) {
      this.irr[w]! |= bit;
      this.npending++;
    }
    this.exec?.interrupted(t);
    this.changed();
  }

  hasPending(): boolean {
    return this.npending > 0;
  }

  /** Takes the highest pending vector (x86 serves higher vectors first), or -1. */
  ack(): number {
    if (this.npending === 0) return -1;
    for (let w = 7; w >= 0; w--) {
      const bits = this.irr[w]!;
      if (bits !== 0) {
        const b = 31 - Math.clz32(bits);
        this.irr[w] = bits & ~(1 << b);
        this.npending--;
        return (w << 5) | b;
      }
    }
    return -1;
  }
}
