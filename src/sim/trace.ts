// Trace events: every event feeds a running 64-bit hash (the run's fingerprint) and the newest
// ones stay in a bounded ring for the log and the timeline. The engine knows no domain: the
// kernel defines the typed tracepoints (src/kernel/trace.ts) that call emit().

export interface TraceRecord {
  readonly ts: number;
  readonly cpu: number;
  /** Who was running ("comm-pid" for the kernel), as ftrace's first column. */
  readonly who: string;
  readonly name: string;
  readonly detail: string;
}

export class Trace {
  private ring: (TraceRecord | undefined)[];
  private head = 0;
  private h1 = 0x811c9dc5 | 0;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  count = 0;
  /** Receives every record as it is emitted (a whole-run trace file), or null. */
  sink: ((r: TraceRecord) => void) | null = null;

  constructor(readonly capacity = 4096) {
    this.ring = new Array(capacity);
  }

  emit(ts: number, cpu: number, who: string, name: string, detail: string): void {
    this.mixNum(ts);
    this.mixNum(cpu);
    this.mix(who);
    this.mix(name);
    this.mix(detail);
    const r = { ts, cpu, who, name, detail };
    this.ring[this.head] = r;
    if (this.sink !== null) this.sink(r);
    this.head = (this.head + 1) % this.capacity;
    this.count++;
  }

  /** Mixes an integer (virtual ns fit in 53 bits) as two 32-bit words. */
  private mixNum(n: number): void {
    const lo = n | 0;
    const hi = Math.floor(n / 4294967296) | 0;
    this.h1 = Math.imul(Math.imul(this.h1 ^ lo, 0x9e3779b1) ^ hi, 0x9e3779b1);
    this.h2 = Math.imul(Math.imul(this.h2 ^ hi, 0x85ebca77) ^ lo, 0x85ebca77);
  }

  private mix(s: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x9e3779b1);
      h2 = Math.imul(h2 ^ c, 0x85ebca77);
    }
    // A separator, so ("ab", "c") and ("a", "bc") differ.
    this.h1 = Math.imul(h1 ^ 0x1f, 0x9e3779b1);
    this.h2 = Math.imul(h2 ^ 0x1f, 0x85ebca77);
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

/** One record as ftrace prints it: "  comm-pid  [001]  12.000345678: name: detail". */
export function format_trace_record(r: TraceRecord): string {
  const cpu = r.cpu < 0 ? "---" : String(r.cpu).padStart(3, "0");
  const sec = Math.floor(r.ts / 1e9);
  const ns = String(r.ts % 1e9).padStart(9, "0");
  return `${r.who.padStart(20)} [${cpu}] ${String(sec).padStart(5)}.${ns}: ${r.name}: ${r.detail}`;
}
