// Trace events as numbers. An event is a type id (a Linux tracepoint the domain defines with
// define_trace_event: its name, its fields, and a formatter giving the detail text as the
// kernel's TP_printk does) and up to six numeric arguments; strings (names, comms, call sites)
// are interned once per run and travel as ids. Every event feeds a running 64-bit hash (the
// run's fingerprint) and the newest ones stay in a ring of preallocated typed arrays; a sink
// (a whole-run trace file, the decision labeller) can watch every event as it is emitted. Text
// is built only when something prints or writes an event (record(), recent()). The engine knows
// no domain: the kernel defines its tracepoints (src/kernel/trace.ts) and calls emit().
//
// The hash, in 32-bit words (Math.imul arithmetic), starts at h1 = 0x811c9dc5,
// h2 = 0x01000193 ^ 0x5bd1e995 and takes each word x as
//   h1 = imul(h1 ^ x, 0x9e3779b1);  h2 = imul(h2 ^ x, 0x85ebca77)
// (each step a bijection of the state, so two sequences differing in one word always differ).
// A number n is two words, n | 0 and floor(n / 2^32) | 0. A string is two words, its own hash
// (string_hash below). An event is: ts, cpu (one word), its type's name (a string), who (the
// interned "comm-pid" string, or the words -1, -1 when no task runs), each of its fields in
// order (a number, or the string an interned id stands for), and its text when it has one. The
// hash of the run finalises (h1, h2) with the event count. So the hash depends on the events
// as printed, not on ids: not on the order strings were interned nor on the order types were
// defined.

export interface TraceRecord {
  readonly ts: number;
  readonly cpu: number;
  /** Who was running ("comm-pid" for the kernel), as ftrace's first column. */
  readonly who: string;
  readonly name: string;
  readonly detail: string;
}

/** Field kinds: a number, an interned string id, or the event's free text (at most one). */
export type TraceFieldKind = "num" | "str" | "text";

/** One event, numerically. Sinks get one object reused for every event: copy what you keep. */
export class TraceEvent {
  type = 0;
  ts = 0;
  cpu = 0;
  /** The interned "comm-pid" of the running task, or -1 (no CPU: "<event>"). */
  who = -1;
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  a4 = 0;
  a5 = 0;
  text: string | null = null;

  copy(o: TraceEvent): this {
    this.type = o.type;
    this.ts = o.ts;
    this.cpu = o.cpu;
    this.who = o.who;
    this.a0 = o.a0;
    this.a1 = o.a1;
    this.a2 = o.a2;
    this.a3 = o.a3;
    this.a4 = o.a4;
    this.a5 = o.a5;
    this.text = o.text;
    return this;
  }
}

/** What a formatter may ask of the trace: the string an interned id stands for. */
export interface TraceStrings {
  str(id: number): string;
}

export interface TraceEventType {
  readonly id: number;
  /** The Linux tracepoint's name ("lock_acquire"). */
  readonly name: string;
  /** Field names and kinds; "num" and "str" fields are a0, a1, ... in this order. */
  readonly fields: Readonly<Record<string, TraceFieldKind>>;
  /** The detail text, as Linux's TP_printk prints it. */
  readonly format: (e: TraceEvent, s: TraceStrings) => string;
}

const MAX_TRACE_ARGS = 6;

/** The types, by id, shared by every copy of this module (a scenario file loaded as CommonJS loads a second one). */
interface Registry {
  readonly types: TraceEventType[];
  readonly byName: Map<string, TraceEventType>;
  /** Per type: how many a-fields, which are strings (bit i: a_i), whether it has text, its name's hash. */
  arity: Uint8Array;
  strings: Uint8Array;
  text: Uint8Array;
  h1: Int32Array;
  h2: Int32Array;
}
const REGISTRY = Symbol.for("mmsim.trace-event-types");
const slot = globalThis as unknown as { [REGISTRY]?: Registry };
const registry: Registry = (slot[REGISTRY] ??= {
  types: [],
  byName: new Map(),
  arity: new Uint8Array(64),
  strings: new Uint8Array(64),
  text: new Uint8Array(64),
  h1: new Int32Array(64),
  h2: new Int32Array(64),
});

function grow<T extends Uint8Array | Int32Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * Defines a trace event type (once per name: a second definition with the same fields returns
 * the same id). Returns its id, for emit().
 */
export function define_trace_event(name: string, fields: Readonly<Record<string, TraceFieldKind>>, format: (e: TraceEvent, s: TraceStrings) => string): number {
  const old = registry.byName.get(name);
  if (old !== undefined) {
    if (JSON.stringify(old.fields) !== JSON.stringify(fields)) throw new Error(`trace event ${name} defined twice with different fields`);
    return old.id;
  }
  const kinds = Object.values(fields);
  const args = kinds.filter((k) => k !== "text");
  if (args.length > MAX_TRACE_ARGS) throw new Error(`trace event ${name}: at most ${MAX_TRACE_ARGS} numeric or string fields`);
  if (kinds.length - args.length > 1) throw new Error(`trace event ${name}: at most one text field`);
  const id = registry.types.length;
  const t: TraceEventType = { id, name, fields: { ...fields }, format };
  registry.types.push(t);
  registry.byName.set(name, t);
  const r = registry;
  r.arity = grow(r.arity, id + 1);
  r.strings = grow(r.strings, id + 1);
  r.text = grow(r.text, id + 1);
  r.h1 = grow(r.h1, id + 1);
  r.h2 = grow(r.h2, id + 1);
  r.arity[id] = args.length;
  r.strings[id] = args.reduce((m, k, i) => (k === "str" ? m | (1 << i) : m), 0);
  r.text[id] = kinds.length - args.length;
  const [a, b] = string_hash(name);
  r.h1[id] = a;
  r.h2[id] = b;
  return id;
}

export const trace_event_type = (id: number): TraceEventType => {
  const t = registry.types[id];
  if (t === undefined) throw new Error(`no trace event type ${id}`);
  return t;
};

/** Every defined type, by id. */
export const trace_event_types = (): readonly TraceEventType[] => registry.types;

/** A string's two hash words (each lane over the UTF-16 units, then the length). */
function string_hash(s: string): [number, number] {
  let h1 = 0x2f1a3c5d;
  let h2 = 0x6b43a9b5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x9e3779b1);
    h2 = Math.imul(h2 ^ c, 0x85ebca77);
  }
  h1 = Math.imul(h1 ^ s.length, 0x9e3779b1);
  h2 = Math.imul(h2 ^ s.length, 0x85ebca77);
  return [h1 ^ (h1 >>> 16), h2 ^ (h2 >>> 16)];
}

const TWO32 = 4294967296;
const M1 = 0x9e3779b1 | 0;
const M2 = 0x85ebca77 | 0;

export class Trace implements TraceStrings {
  readonly capacity: number;
  /** The ring, column by column (TraceColumns; read with event()). */
  readonly types: Uint16Array;
  readonly tss: Float64Array;
  readonly cpus: Int32Array;
  readonly whos: Int32Array;
  readonly args: Float64Array;
  private readonly texts: (string | null)[];
  private head = 0;
  private h1 = 0x811c9dc5 | 0;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  count = 0;
  /** Receives every event as it is emitted (one reused object), or null. */
  sink: ((e: TraceEvent) => void) | null = null;
  private readonly ev = new TraceEvent();
  private readonly strs: string[] = [];
  private readonly ids = new Map<string, number>();
  private sh1 = new Int32Array(64);
  private sh2 = new Int32Array(64);

  constructor(capacity = 4096) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error(`trace capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.types = new Uint16Array(capacity);
    this.tss = new Float64Array(capacity);
    this.cpus = new Int32Array(capacity);
    this.whos = new Int32Array(capacity);
    this.args = new Float64Array(capacity * MAX_TRACE_ARGS);
    this.texts = new Array<string | null>(capacity).fill(null);
  }

  /** The id of `s` in this trace's string table (added the first time). */
  intern(s: string): number {
    const id = this.ids.get(s);
    if (id !== undefined) return id;
    const n = this.strs.length;
    this.strs.push(s);
    this.ids.set(s, n);
    if (n >= this.sh1.length) {
      this.sh1 = grow(this.sh1, n + 1);
      this.sh2 = grow(this.sh2, n + 1);
    }
    const [a, b] = string_hash(s);
    this.sh1[n] = a;
    this.sh2[n] = b;
    return n;
  }

  str(id: number): string {
    const s = this.strs[id];
    if (s === undefined) throw new Error(`no interned string ${id}`);
    return s;
  }

  /** Emits an event of `type` (define_trace_event) at `ts` on `cpu`, by interned `who` (-1: none). */
  emit(type: number, ts: number, cpu: number, who: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, text: string | null = null): void {
    const i = this.head;
    this.types[i] = type;
    this.tss[i] = ts;
    this.cpus[i] = cpu;
    this.whos[i] = who;
    const a = this.args;
    const j = i * MAX_TRACE_ARGS;
    a[j] = a0;
    a[j + 1] = a1;
    a[j + 2] = a2;
    a[j + 3] = a3;
    a[j + 4] = a4;
    a[j + 5] = a5;
    this.texts[i] = text;
    this.head = i + 1 === this.capacity ? 0 : i + 1;
    this.count++;
    // The hash: the words of the header's spec, mixed inline (this runs for every event).
    const r = registry;
    const sh1 = this.sh1;
    const sh2 = this.sh2;
    let h1 = this.h1;
    let h2 = this.h2;
    let x = ts | 0;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    x = ts >= 0 && ts < TWO32 ? 0 : Math.floor(ts / TWO32) | 0;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    h1 = Math.imul(h1 ^ cpu, M1);
    h2 = Math.imul(h2 ^ cpu, M2);
    x = r.h1[type]!;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    x = r.h2[type]!;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    x = who >= 0 ? sh1[who]! : -1;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    x = who >= 0 ? sh2[who]! : -1;
    h1 = Math.imul(h1 ^ x, M1);
    h2 = Math.imul(h2 ^ x, M2);
    const n = r.arity[type]!;
    const strs = r.strings[type]!;
    for (let k = 0; k < n; k++) {
      const v = a[j + k]!;
      let lo: number;
      let hi: number;
      if ((strs >>> k) & 1) {
        lo = sh1[v]!;
        hi = sh2[v]!;
      } else {
        lo = v | 0;
        hi = v >= 0 && v < TWO32 ? 0 : Math.floor(v / TWO32) | 0;
      }
      h1 = Math.imul(h1 ^ lo, M1);
      h2 = Math.imul(h2 ^ lo, M2);
      h1 = Math.imul(h1 ^ hi, M1);
      h2 = Math.imul(h2 ^ hi, M2);
    }
    if (r.text[type] === 1) {
      const [p, q] = string_hash(text ?? "");
      h1 = Math.imul(h1 ^ p, M1);
      h2 = Math.imul(h2 ^ p, M2);
      h1 = Math.imul(h1 ^ q, M1);
      h2 = Math.imul(h2 ^ q, M2);
    }
    this.h1 = h1;
    this.h2 = h2;
    if (this.sink !== null) {
      const e = this.ev;
      e.type = type;
      e.ts = ts;
      e.cpu = cpu;
      e.who = who;
      e.a0 = a0;
      e.a1 = a1;
      e.a2 = a2;
      e.a3 = a3;
      e.a4 = a4;
      e.a5 = a5;
      e.text = text;
      this.sink(e);
    }
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

  /** How many events the ring holds (the newest, up to its capacity). */
  get retained(): number {
    return Math.min(this.count, this.capacity);
  }

  /** The i-th retained event, oldest first, into `out`. */
  event(i: number, out = new TraceEvent()): TraceEvent {
    const n = this.retained;
    if (!(i >= 0 && i < n)) throw new Error(`trace event ${i} is not retained (${n} are)`);
    const k = (this.head - n + i + this.capacity) % this.capacity;
    read_row(this, k, out);
    out.text = this.texts[k]!;
    return out;
  }

  /** An event as text: who, its tracepoint's name and its detail as Linux prints them. */
  record(e: TraceEvent): TraceRecord {
    const t = trace_event_type(e.type);
    return { ts: e.ts, cpu: e.cpu, who: e.who >= 0 ? this.str(e.who) : "<event>", name: t.name, detail: t.format(e, this) };
  }

  /** The retained events as text, oldest first. */
  recent(): TraceRecord[] {
    const out: TraceRecord[] = [];
    const e = new TraceEvent();
    for (let i = 0; i < this.retained; i++) out.push(this.record(this.event(i, e)));
    return out;
  }
}

/** Events stored column by column (the ring and the log's chunks): row k's numbers. */
interface TraceColumns {
  readonly types: Uint16Array;
  readonly tss: Float64Array;
  readonly cpus: Int32Array;
  readonly whos: Int32Array;
  readonly args: Float64Array;
}

/** Row `k`'s numbers into `out` (its text is the caller's). */
function read_row(c: TraceColumns, k: number, out: TraceEvent): void {
  const a = c.args;
  const j = k * MAX_TRACE_ARGS;
  out.type = c.types[k]!;
  out.ts = c.tss[k]!;
  out.cpu = c.cpus[k]!;
  out.who = c.whos[k]!;
  out.a0 = a[j]!;
  out.a1 = a[j + 1]!;
  out.a2 = a[j + 2]!;
  out.a3 = a[j + 3]!;
  out.a4 = a[j + 4]!;
  out.a5 = a[j + 5]!;
}

/** `e`'s numbers into row `k`. */
function write_row(c: TraceColumns, k: number, e: TraceEvent): void {
  const a = c.args;
  const j = k * MAX_TRACE_ARGS;
  c.types[k] = e.type;
  c.tss[k] = e.ts;
  c.cpus[k] = e.cpu;
  c.whos[k] = e.who;
  a[j] = e.a0;
  a[j + 1] = e.a1;
  a[j + 2] = e.a2;
  a[j + 3] = e.a3;
  a[j + 4] = e.a4;
  a[j + 5] = e.a5;
}

/** Every event of a run, numerically, in chunks of typed arrays (a whole-run trace file). */
export class TraceLog {
  private static readonly CHUNK = 8192;
  private readonly chunks: TraceColumns[] = [];
  private readonly texts = new Map<number, string>();
  length = 0;

  push(e: TraceEvent): void {
    const n = this.length++;
    const off = n % TraceLog.CHUNK;
    if (off === 0) {
      const C = TraceLog.CHUNK;
      this.chunks.push({ types: new Uint16Array(C), tss: new Float64Array(C), cpus: new Int32Array(C), whos: new Int32Array(C), args: new Float64Array(C * MAX_TRACE_ARGS) });
    }
    write_row(this.chunks[this.chunks.length - 1]!, off, e);
    if (e.text !== null) this.texts.set(n, e.text);
  }

  /** The i-th event of the run into `out`. */
  get(i: number, out = new TraceEvent()): TraceEvent {
    if (!(i >= 0 && i < this.length)) throw new Error(`trace log has no event ${i} (${this.length})`);
    const c = this.chunks[Math.floor(i / TraceLog.CHUNK)]!;
    read_row(c, i % TraceLog.CHUNK, out);
    out.text = this.texts.get(i) ?? null;
    return out;
  }

  /** Every event as text (the strings of `trace`, which recorded them). */
  records(trace: Trace): TraceRecord[] {
    const out: TraceRecord[] = [];
    const e = new TraceEvent();
    for (let i = 0; i < this.length; i++) out.push(trace.record(this.get(i, e)));
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
