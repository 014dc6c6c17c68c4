// Trace events: every event feeds a running 64-bit hash (the run's fingerprint) and the newest
// ones stay in a bounded ring for the log and the timeline. The engine knows no domain: the
// kernel defines the typed tracepoints (src/kernel/trace.ts) that call emit().

export interface TraceRecord {
  readonly ts: number;
  readonly cpu: number;
  readonly name: string;
  readonly detail: string;
}

export class Trace {
  private ring: (TraceRecord | undefined)[];
  private head = 0;
  private h1 = 0x811c9dc5 | 0;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  count = 0;

  constructor(readonly capacity = 4096) {
    this.ring = new Array(capacity);
  }

  emit(ts: number, cpu: number, name: string, detail: string): void {
    this.mix(`${ts}|${cpu}|${name}|${detail}\n`);
    this.ring[this.head] = { ts, cpu, name, detail };
    this.head = (this.head + 1) % this.capacity;
    this.count++;
  }

  private mix(s: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x9e3779b1);
      h2 = Math.imul(h2 ^ c, 0x85ebca77);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** 16 hex digits over every event emitted so far, in order. */
  hash(): string {
    let h1 = this.h1 ^ this.count;
    let h2 = this.h2 ^ Math.imul(this.count, 0x27d4eb2f);
    h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) ^ Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
    h1 ^= h1 >>> 15;
    h2 ^= h2 >>> 15;
    return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
  }

  /** The retained events, oldest first. */
  recent(): TraceRecord[] {
    const out: TraceRecord[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const r = this.ring[(this.head + i) % this.capacity];
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
