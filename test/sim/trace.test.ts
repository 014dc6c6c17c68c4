import { test } from "uvu";
import * as assert from "uvu/assert";
import { Trace } from "../../src/sim/trace.ts";

test("the hash depends on every event and its order; the ring keeps the newest", () => {
  const a = new Trace(2);
  const b = new Trace(2);
  a.emit(1, 0, "x", "1");
  a.emit(2, 1, "y", "2");
  b.emit(2, 1, "y", "2");
  b.emit(1, 0, "x", "1");
  assert.is.not(a.hash(), b.hash());
  assert.match(a.hash(), /^[0-9a-f]{16}$/);
  const c = new Trace(2);
  c.emit(1, 0, "x", "1");
  c.emit(2, 1, "y", "2");
  assert.is(c.hash(), a.hash());
  a.emit(3, 0, "z", "3");
  assert.equal(a.recent().map((r) => r.name), ["y", "z"]);
  assert.is(a.count, 3);
});

test.run();
