import { test } from "uvu";
import * as assert from "uvu/assert";
import { Streams, check_stream_draws, draw_count, draws_of, parseSeed } from "../../src/sim/rng.ts";

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

test("a seeded stream is recorded as its starting state and its number of draws; the state regenerates them", () => {
  const a = new Streams(7);
  const s = a.stream("sched");
  const drawn = Array.from({ length: 1000 }, () => s.next());
  a.stream("idle");
  const rec = JSON.parse(JSON.stringify(a.recording()));
  assert.equal(Object.keys(rec.sched), ["alea", "draws"]);
  assert.equal(Object.keys(rec.sched.alea), ["c", "s0", "s1", "s2"]);
  assert.is(rec.sched.draws, 1000);
  assert.is(rec.idle.draws, 0);
  assert.ok(JSON.stringify(rec).length < 300, JSON.stringify(rec));
  assert.equal(draws_of(rec.sched), drawn);
  assert.is(draw_count(rec.sched), 1000);
  // Replayed from the state, without the seed: the same draws, then the end of the recording.
  const r = new Streams("ignored", rec);
  assert.equal(Array.from({ length: 1000 }, () => r.stream("sched").next()), drawn);
  assert.throws(() => r.stream("sched").next(), /replay diverged: stream "sched" ran out of recorded draws after 1000/);
  // A replay records what it served, compactly again.
  assert.equal(r.recording().sched, rec.sched);
});

test("a stream given as a list, and a scripted stream's fallback: recorded as the draws served", () => {
  const r = new Streams(0, { fault: [0.5, 0.25], disk: { alea: { c: 1, s0: 0.5, s1: 0.25, s2: 0.125 }, draws: 1 } }, (label) => (label === "fault" ? 0.99 : 0));
  assert.equal([r.stream("fault").next(), r.stream("fault").next(), r.stream("fault").next()], [0.5, 0.25, 0.99]);
  const d = [r.stream("disk").next(), r.stream("disk").next()];
  assert.is(d[1], 0);
  r.stream("nic/eth0").next();
  assert.equal(r.recording(), { fault: [0.5, 0.25, 0.99], disk: [d[0]!, 0], "nic/eth0": [0] });
  // Only what it served: a list cut at its position, a state with fewer draws.
  const p = new Streams(0, { fault: [0.5, 0.25, 0.75], disk: { alea: { c: 1, s0: 0.5, s1: 0.25, s2: 0.125 }, draws: 9 } });
  p.stream("fault").next();
  p.stream("disk").next();
  assert.equal(p.recording(), { fault: [0.5], disk: { alea: { c: 1, s0: 0.5, s1: 0.25, s2: 0.125 }, draws: 1 } });
});

test("a stream's record from a file is checked", () => {
  assert.is(check_stream_draws([0, 0.5]), null);
  assert.is(check_stream_draws({ alea: { c: 1, s0: 0, s1: 0.5, s2: 0.99 }, draws: 3 }), null);
  for (const bad of [[1], "x", null, { alea: { c: 1, s0: 0, s1: 0.5, s2: 1 }, draws: 3 }, { alea: { c: -1, s0: 0, s1: 0, s2: 0 }, draws: 3 }, { alea: { c: 1, s0: 0, s1: 0, s2: 0 }, draws: 1.5 }, { alea: { c: 1, s0: 0, s1: 0, s2: 0 } }]) {
    assert.ok(check_stream_draws(bad) !== null, JSON.stringify(bad));
  }
});

test("parseSeed keeps 32-bit integers as numbers and anything else as a string", () => {
  assert.is(parseSeed("7"), 7);
  assert.is(parseSeed("-5"), -5);
  assert.is(parseSeed("4294967295"), 4294967295);
  assert.is(parseSeed("4294967296"), "4294967296");
  assert.is(parseSeed("abc"), "abc");
});

test.run();
