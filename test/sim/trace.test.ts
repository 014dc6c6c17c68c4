// The numeric trace: the ring (capacity, wrap-around, oldest first), the hash (pinned for a fixed
// sequence, checked against a reference implementation written from the spec in trace.ts's
// header, sensitive to order, arguments and strings, not to interning order), the whole-run log
// and the ftrace line format.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Trace, TraceEvent, TraceLog, define_trace_event, format_trace_record, trace_event_type } from "../../src/sim/trace.ts";

// Test-only event types (the kernel defines the real ones).
const T_PAIR = define_trace_event("test_pair", { x: "num", y: "num" }, (e) => `x=${e.a0} y=${e.a1}`);
const T_NAMED = define_trace_event("test_named", { name: "str", n: "num" }, (e, s) => `name=${s.str(e.a0)} n=${e.a1}`);
const T_TEXT = define_trace_event("test_text", { msg: "text" }, (e) => e.text ?? "");
const T_SIX = define_trace_event("test_six", { a: "num", b: "num", c: "num", d: "num", e: "num", f: "num" }, (e) => [e.a0, e.a1, e.a2, e.a3, e.a4, e.a5].join(","));

test("the ring keeps the newest `capacity` events, oldest first, across wrap-around", () => {
  const t = new Trace(3);
  assert.equal(t.recent(), []);
  const who = t.intern("w-1");
  for (let i = 1; i <= 7; i++) t.emit(T_PAIR, i * 10, i % 2, who, i, -i);
  assert.is(t.count, 7);
  assert.is(t.retained, 3);
  assert.equal(
    t.recent().map((r) => [r.ts, r.cpu, r.who, r.name, r.detail]),
    [
      [50, 1, "w-1", "test_pair", "x=5 y=-5"],
      [60, 0, "w-1", "test_pair", "x=6 y=-6"],
      [70, 1, "w-1", "test_pair", "x=7 y=-7"],
    ],
  );
  const e = t.event(0);
  assert.equal([e.type, e.ts, e.a0, e.a1], [T_PAIR, 50, 5, -5]);
  assert.throws(() => t.event(3), /not retained/);
  // Not yet full: what was emitted, in order; no CPU is "<event>".
  const u = new Trace(4);
  u.emit(T_NAMED, 5, -1, -1, u.intern("eth0"), 2);
  u.emit(T_TEXT, 6, 0, u.intern("t-3"), 0, 0, 0, 0, 0, 0, "hello");
  assert.equal(u.recent(), [
    { ts: 5, cpu: -1, who: "<event>", name: "test_named", detail: "name=eth0 n=2" },
    { ts: 6, cpu: 0, who: "t-3", name: "test_text", detail: "hello" },
  ]);
  assert.throws(() => new Trace(0), /positive integer/);
});

// ---- the hash, written again from the spec (trace.ts's header), independently of Trace.
function reference(events: readonly { ts: number; cpu: number; type: string; who: string | null; fields: readonly (number | string)[]; text?: string }[]): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  const word = (x: number) => {
    h1 = Math.imul(h1 ^ x, 0x9e3779b1);
    h2 = Math.imul(h2 ^ x, 0x85ebca77);
  };
  const num = (n: number) => {
    word(n | 0);
    word(Math.floor(n / 2 ** 32) | 0);
  };
  const str = (s: string) => {
    let a = 0x2f1a3c5d;
    let b = 0x6b43a9b5;
    for (const c of s.split("").map((ch) => ch.charCodeAt(0))) {
      a = Math.imul(a ^ c, 0x9e3779b1);
      b = Math.imul(b ^ c, 0x85ebca77);
    }
    a = Math.imul(a ^ s.length, 0x9e3779b1);
    b = Math.imul(b ^ s.length, 0x85ebca77);
    word(a ^ (a >>> 16));
    word(b ^ (b >>> 16));
  };
  for (const e of events) {
    num(e.ts);
    word(e.cpu);
    str(e.type);
    if (e.who === null) {
      word(-1);
      word(-1);
    } else str(e.who);
    for (const f of e.fields) typeof f === "string" ? str(f) : num(f);
    if (e.text !== undefined) str(e.text);
  }
  const n = events.length;
  let a = h1 ^ n;
  let b = h2 ^ Math.imul(n, 0x27d4eb2f);
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 15;
  b ^= b >>> 15;
  return (b >>> 0).toString(16).padStart(8, "0") + (a >>> 0).toString(16).padStart(8, "0");
}

/** A fixed sequence: numbers past 32 bits, negative ones, strings, text, no CPU. */
const SEQ = [
  { ts: 0, cpu: 0, type: "test_pair", who: "swapper/0-0", fields: [1, 2] },
  { ts: 12_000_345_678, cpu: 3, type: "test_named", who: "worker/1-4", fields: ["&zone->lock", -1] },
  { ts: 12_000_345_679, cpu: -1, type: "test_pair", who: null, fields: [2 ** 40 + 5, -(2 ** 33)] },
  { ts: 12_000_345_680, cpu: 1, type: "test_text", who: "t-3", fields: [], text: "BUG: something" },
  { ts: 12_000_345_681, cpu: 1, type: "test_six", who: "t-3", fields: [1, 2, 3, 4, 5, 0xffff888003c00788 % 2 ** 53] },
] as const;

function emitAll(t: Trace, seq: readonly (typeof SEQ)[number][]): void {
  const id: Record<string, number> = { test_pair: T_PAIR, test_named: T_NAMED, test_text: T_TEXT, test_six: T_SIX };
  for (const e of seq) {
    const f = e.fields.map((x) => (typeof x === "string" ? t.intern(x) : x));
    t.emit(id[e.type]!, e.ts, e.cpu, e.who === null ? -1 : t.intern(e.who), f[0], f[1], f[2], f[3], f[4], f[5], "text" in e ? e.text : null);
  }
}

test("the hash of a fixed sequence: pinned, and equal to the reference implementation's", () => {
  const t = new Trace(2);
  emitAll(t, SEQ);
  assert.is(t.hash(), reference(SEQ));
  assert.is(t.hash(), "60ccdba588c1bd65");
  assert.is(new Trace().hash(), reference([]));
});

test("the hash changes with the order, an argument, a string, who, the time or the CPU; not with interning order", () => {
  const hash = (seq: readonly (typeof SEQ)[number][], prep?: (t: Trace) => void) => {
    const t = new Trace(8);
    prep?.(t);
    emitAll(t, seq);
    return t.hash();
  };
  const base = hash(SEQ);
  const variants = [
    [SEQ[1], SEQ[0], ...SEQ.slice(2)],
    [{ ...SEQ[0], fields: [1, 3] }, ...SEQ.slice(1)],
    [{ ...SEQ[0], fields: [2, 1] }, ...SEQ.slice(1)],
    [SEQ[0], { ...SEQ[1], fields: ["&zone->lru_lock", -1] }, ...SEQ.slice(2)],
    [SEQ[0], { ...SEQ[1], who: "worker/1-5" }, ...SEQ.slice(2)],
    [{ ...SEQ[0], ts: 1 }, ...SEQ.slice(1)],
    [{ ...SEQ[0], cpu: 1 }, ...SEQ.slice(1)],
    [...SEQ.slice(0, 3), { ...SEQ[3], text: "BUG: something else" }, SEQ[4]],
    [...SEQ.slice(0, 2), { ...SEQ[2], fields: [2 ** 40 + 5 + 2 ** 32, -(2 ** 33)] }, ...SEQ.slice(3)],
    SEQ.slice(0, 4),
  ] as (typeof SEQ)[number][][];
  const hashes = variants.map((v) => hash(v));
  for (const [i, h] of hashes.entries()) {
    assert.is.not(h, base, `variant ${i}`);
    assert.is(h, reference(variants[i]!), `variant ${i} against the reference`);
  }
  assert.is(new Set(hashes).size, hashes.length);
  // Strings interned earlier, in another order, give the same hash.
  assert.is(hash(SEQ, (t) => ["zzz", "t-3", "&zone->lock", "worker/1-4"].forEach((s) => t.intern(s))), base);
});

test("a sink sees every event, numerically, as it is emitted; the whole-run log keeps them all", () => {
  const t = new Trace(1);
  const log = new TraceLog();
  const seen: number[] = [];
  t.sink = (e) => {
    seen.push(e.a0);
    log.push(e);
  };
  const who = t.intern("t-1");
  for (let i = 0; i < 20_000; i++) t.emit(T_PAIR, i, i % 4, who, i, 2 * i);
  t.emit(T_TEXT, 20_000, 0, who, 0, 0, 0, 0, 0, 0, "last");
  assert.is(seen.length, 20_001);
  assert.is(log.length, 20_001);
  assert.equal(log.get(12_345).a1, 24_690);
  const all = log.records(t);
  assert.equal(all[0], { ts: 0, cpu: 0, who: "t-1", name: "test_pair", detail: "x=0 y=0" });
  assert.equal(all[20_000], { ts: 20_000, cpu: 0, who: "t-1", name: "test_text", detail: "last" });
  assert.equal(t.recent(), [all[20_000]]);
  const copy = new TraceEvent().copy(log.get(7));
  assert.equal([copy.ts, copy.cpu, copy.a0, copy.text], [7, 3, 7, null]);
});

test("an event type is defined once per name; its fields are checked", () => {
  assert.is(define_trace_event("test_pair", { x: "num", y: "num" }, () => ""), T_PAIR);
  assert.is(trace_event_type(T_PAIR).name, "test_pair");
  assert.throws(() => define_trace_event("test_pair", { x: "num" }, () => ""), /different fields/);
  assert.throws(() => define_trace_event("test_seven", { a: "num", b: "num", c: "num", d: "num", e: "num", f: "num", g: "num" }, () => ""), /at most 6/);
});

test("format_trace_record prints as ftrace does", () => {
  assert.is(
    format_trace_record({ ts: 12_000_345_678, cpu: 1, who: "worker/1-4", name: "irq_handler_entry", detail: "irq=11 name=eth0" }),
    "          worker/1-4 [001]    12.000345678: irq_handler_entry: irq=11 name=eth0",
  );
});

test.run();
