import { test } from "uvu";
import * as assert from "uvu/assert";
import { Trace, format_trace_record } from "../../src/sim/trace.ts";

test("the hash depends on every event and its order; the ring keeps the newest", () => {
  const a = new Trace(2);
  const b = new Trace(2);
  a.emit(1, 0, "t-1", "x", "1");
  a.emit(2, 1, "t-1", "y", "2");
  b.emit(2, 1, "t-1", "y", "2");
  b.emit(1, 0, "t-1", "x", "1");
  assert.is.not(a.hash(), b.hash());
  assert.match(a.hash(), /^[0-9a-f]{16}$/);
  const c = new Trace(2);
  c.emit(1, 0, "t-1", "x", "1");
  c.emit(2, 1, "t-1", "y", "2");
  assert.is(c.hash(), a.hash());
  a.emit(3, 0, "t-1", "z", "3");
  assert.equal(a.recent().map((r) => r.name), ["y", "z"]);
  assert.is(a.count, 3);
});

test("format_trace_record prints as ftrace does", () => {
  assert.is(
    format_trace_record({ ts: 12_000_345_678, cpu: 1, who: "worker/1-4", name: "irq_handler_entry", detail: "irq=11 name=eth0" }),
    "          worker/1-4 [001]    12.000345678: irq_handler_entry: irq=11 name=eth0",
  );
});

test.run();
