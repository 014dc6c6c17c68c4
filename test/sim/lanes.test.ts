// LaneQueue.earliest(): the runnable lanes at the earliest clock, by id, against a scan of every
// lane, over clock and runnability changes (ties among many lanes included).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LaneQueue, type QueuedLane } from "../../src/sim/lanes.ts";

class L implements QueuedLane {
  lane_index = -1;
  lane_dirty = false;
  lane_key = 0;
  constructor(
    readonly id: number,
    public clock: number,
    public run = true,
  ) {}
  runnable(): boolean {
    return this.run;
  }
}

const ids = (ls: readonly L[]): number[] => ls.map((l) => l.id);

/** The definition: every runnable lane at the smallest clock, by id. */
function scan(lanes: readonly L[]): number[] {
  const r = lanes.filter((l) => l.run);
  const min = Math.min(...r.map((l) => l.clock));
  return r.filter((l) => l.clock === min).map((l) => l.id);
}

test("ties at the earliest clock come back by id, wherever they sit in the heap", () => {
  const lanes = [5, 3, 3, 7, 3, 9].map((c, i) => new L(i, c));
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
  const lanes = Array.from({ length: 64 }, (_, i) => new L(i, next(4)));
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

test.run();
