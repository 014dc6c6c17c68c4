import { test } from "uvu";
import * as assert from "uvu/assert";
import { Streams, parseSeed } from "../../src/sim/rng.ts";

test("the same seed and label give the same draws; labels are independent", () => {
  const a = new Streams(42);
  const b = new Streams(42);
  const xa = [a.stream("sched").next(), a.stream("sched").next()];
  // Drawing from another stream first must not shift "sched".
  b.stream("nic/eth0").next();
  b.stream("nic/eth0").next();
  const xb = [b.stream("sched").next(), b.stream("sched").next()];
  assert.equal(xa, xb);
  assert.is.not(new Streams(43).stream("sched").next(), xa[0]);
  assert.is.not(a.stream("other").next(), xa[0]);
});

test("a recording replays exactly and refuses to run past its end", () => {
  const a = new Streams("seed-x");
  const drawn = [a.stream("s").next(), a.stream("s").int(10), a.stream("t").next()];
  const rec = a.recording();
  assert.equal(Object.keys(rec), ["s", "t"]);
  const r = new Streams("ignored", rec);
  assert.equal([r.stream("s").next(), r.stream("s").int(10), r.stream("t").next()], drawn);
  assert.throws(() => r.stream("t").next(), /replay diverged: stream "t" ran out of recorded draws after 1/);
});

test("parseSeed keeps 32-bit integers as numbers and anything else as a string", () => {
  assert.is(parseSeed("7"), 7);
  assert.is(parseSeed("-5"), -5);
  assert.is(parseSeed("4294967295"), 4294967295);
  assert.is(parseSeed("4294967296"), "4294967296");
  assert.is(parseSeed("abc"), "abc");
});

test.run();
