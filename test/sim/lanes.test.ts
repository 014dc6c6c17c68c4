// The lane queue: the earliest runnable lanes (ties by id) after reported changes, against a scan
// of every lane, over a long seeded sequence of clock and runnability changes; a change that is
// not reported is caught by check().
import { test } from "uvu";
import * as assert from "uvu/assert";
import seedrandom from "seedrandom";
import { LaneQueue, type QueuedLane } from "../../src/sim/lanes.ts";

class L implements QueuedLane {
  lane_index = -1;
  lane_dirty = false;
  constructor(
    readonly id: number,
    public clock: number,
    public run: boolean,
  ) {}
  runnable(): boolean {
    return this.run;
  }
}

/** The earliest runnable lanes by a scan, ids in order. */
function scan(lanes: readonly L[]): number[] {
  let best = Infinity;
  for (const l of lanes) if (l.run && l.clock < best) best = l.clock;
  return lanes.filter((l) => l.run && l.clock === best).map((l) => l.id);
}

test("earliest(): the runnable lanes at the earliest clock, by id, on a single lane and on ties", () => {
  const lanes = [new L(0, 30, true), new L(1, 10, true), new L(2, 10, false), new L(3, 10, true), new L(4, 20, true)];
  const q = new LaneQueue(lanes);
  assert.equal(
    q.earliest().map((l) => l.id),
    [1, 3],
  );
  lanes[1]!.clock = 25;
  q.touch(lanes[1]!);
  assert.equal(
    q.earliest().map((l) => l.id),
    [3],
  );
  lanes[2]!.run = true;
  q.touch(lanes[2]!);
  assert.equal(
    q.earliest().map((l) => l.id),
    [2, 3],
  );
  for (const l of lanes) {
    l.run = false;
    q.touch(l);
  }
  assert.equal(q.earliest().length, 0);
});

test("earliest() agrees with a scan over 20000 seeded changes of 1 to 64 lanes", () => {
  const rng = seedrandom.alea("lanes");
  for (const n of [1, 2, 3, 8, 64]) {
    const lanes = Array.from({ length: n }, (_, i) => new L(i, Math.floor(rng() * 50), rng() < 0.7));
    const q = new LaneQueue(lanes);
    for (let step = 0; step < 4000; step++) {
      // Several lanes change before the next choice (as a step and the events it causes do).
      const changes = 1 + Math.floor(rng() * 3);
      for (let c = 0; c < changes; c++) {
        const l = lanes[Math.floor(rng() * n)]!;
        if (rng() < 0.6) l.clock += Math.floor(rng() * 20);
        if (rng() < 0.3) l.run = !l.run;
        q.touch(l);
      }
      // first(): the one earliest lane, null on a tie, undefined when none is runnable.
      const want = scan(lanes);
      const one = q.first();
      assert.is(one === undefined ? "none" : one === null ? "tie" : one.id, want.length === 0 ? "none" : want.length > 1 ? "tie" : want[0], `first(), ${n} lanes, step ${step}`);
      assert.equal(
        q.earliest().map((l) => l.id),
        want,
        `${n} lanes, step ${step}`,
      );
      assert.is(q.check(), null);
    }
  }
});

test("check() names a lane whose clock changed without being reported", () => {
  const lanes = [new L(0, 10, true), new L(1, 20, true)];
  const q = new LaneQueue(lanes);
  q.earliest();
  lanes[0]!.clock = 30;
  assert.is(q.check(), "lane 0 is queued at 10 ns but its clock is 30 ns (a clock change was not reported)");
  const r = [new L(0, 10, true)];
  const q2 = new LaneQueue(r);
  q2.earliest();
  r[0]!.run = false;
  assert.is(q2.check(), "lane 0 is not runnable but is queued (a change to it was not reported)");
});

const ids = (ls: readonly L[]): number[] => ls.map((l) => l.id);

test("ties at the earliest clock come back by id, wherever they sit in the heap", () => {
  const lanes = [5, 3, 3, 7, 3, 9].map((c, i) => new L(i, c, true));
  const q = new LaneQueue(lanes);
  assert.equal(ids(q.earliest()), [1, 2, 4]);
  lanes[2]!.run = false;
  q.touch(lanes[2]!);
  assert.equal(ids(q.earliest()), [1, 4]);
  for (const l of lanes) {
    l.clock = 10 - l.id;
    q.touch(l);
  }
  assert.equal(ids(q.earliest()), [5]);
  lanes[5]!.run = false;
  q.touch(lanes[5]!);
  assert.equal(ids(q.earliest()), [4]);
});

test("against a scan over 2000 random changes to 64 lanes with few distinct clocks", () => {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const lanes = Array.from({ length: 64 }, (_, i) => new L(i, next(4), true));
  const q = new LaneQueue(lanes);
  let bad = 0;
  let ties = 0;
  for (let step = 0; step < 2000; step++) {
    for (let j = next(4); j >= 0; j--) {
      const l = lanes[next(64)]!;
      const r = next(6);
      if (r === 0) l.run = !l.run;
      else if (r === 1) l.clock = Math.min(...lanes.map((x) => x.clock)); // catch up to the earliest: a tie
      else l.clock += next(3);
      q.touch(l);
    }
    const got = ids(q.earliest());
    const want = lanes.some((l) => l.run) ? scan(lanes) : [];
    if (got.join() !== want.join()) bad++;
    if (want.length > 1) ties++;
  }
  assert.is(bad, 0);
  assert.ok(ties > 1000, `ties were exercised (${ties} turns)`);
});

test("ties come back by id when the lanes are not given in id order, few and many, scanned and in the heap", () => {
  for (const n of [5, 40]) {
    // Ids n-1 .. 0: the slots run against the ids.
    const lanes = Array.from({ length: n }, (_, i) => new L(n - 1 - i, i % 3 === 0 ? 7 : 9, true));
    const q = new LaneQueue(lanes);
    const want = lanes.filter((l) => l.clock === 7).map((l) => l.id).sort((a, b) => a - b);
    assert.equal(ids(q.earliest()), want);
    assert.is(q.check(), null);
  }
});

test.run();
