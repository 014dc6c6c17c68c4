// The scheduling strategies with scripted draws: PCT's change points, priorities and hold-backs
// worked out by hand; the preemption bound; the random walk's draws unchanged by the lane-aware
// interface; and PCT and pb end to end (sweeps, replays).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Pct, PreemptionBounded, RandomWalk, check_strategy, type StrategyLane } from "../../src/sim/strategy.ts";
import type { Rng } from "../../src/sim/rng.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

/** An Rng serving the given draws in order. */
function scripted(draws: number[]): Rng & { used: number } {
  const r = {
    used: 0,
    next() {
      if (r.used >= draws.length) throw new Error("out of scripted draws");
      return draws[r.used++]!;
    },
    int(n: number) {
      return (r.next() * n) | 0;
    },
  };
  return r;
}
const lane = (id: number, clock: number, runnable = true): StrategyLane => ({ id, clock, runnable: () => runnable });

test("PCT depth 3 over k = 10: change points at steps 1 + int(10 u); priorities a shuffle from d; the preempted lane waits for the others", () => {
  // Change points: u = 0.05 -> step 1 (index 1), u = 0.55 -> step 6 (index 2). Then, at the
  // first call, the shuffle of lanes [0, 1, 2]: i = 2, j = int(3 * 0.9) = 2 (stays); i = 1,
  // j = int(2 * 0.1) = 0 (swap): order [1, 0, 2] -> priorities lane1 3, lane0 4, lane2 5.
  const rng = scripted([0.05, 0.55, 0.9, 0.1, 0.5, 0.25]);
  const pct = new Pct(rng, { depth: 3, steps: 10 });
  const lanes = [lane(0, 100), lane(1, 100), lane(2, 250)];
  assert.is(pct.pick([lanes[0]!, lanes[1]!], lanes), 0); // lane0 (4) over lane1 (3)
  // Step 1 is a change point: lane0 drops to priority 1 and waits until lane2 (150 ns ahead)
  // has caught up, plus 1 + int(10000 * 0.5) ns.
  assert.is(pct.delay(lanes[0]!, lanes), 150 + 1 + 5000);
  assert.is(pct.pick([lanes[0]!, lanes[1]!], lanes), 1); // lane1 (3) now over lane0 (1)
  for (let s = 2; s <= 5; s++) assert.is(pct.delay(lanes[1]!, lanes), 0);
  // Step 6, the second change point: lane2 drops to 2; nobody runnable is ahead of it.
  assert.is(pct.delay(lanes[2]!, lanes), 1 + 2500);
  assert.is(pct.pick([lanes[0]!, lanes[2]!], lanes), 1); // lane2 (2) over lane0 (1)
  assert.is(rng.used, 6); // no other draws: PCT is deterministic between its change points
});

test("pb: the random walk's delays, no more than the bound", () => {
  // A draw of 0 gives a gap of 0 (every step delayed) and a delay of 1 ns.
  const pb = new PreemptionBounded({ next: () => 0, int: () => 0 }, 3);
  let delayed = 0;
  for (let i = 0; i < 100; i++) if (pb.delay() > 0) delayed++;
  assert.is(delayed, 3);
});

test("the random walk draws as before the lane-aware interface: a tie of n lanes costs one draw, int(n)", () => {
  const rng = scripted([0.99, 0.7]);
  const rw = new RandomWalk(rng); // the first gap: one draw
  const lanes = [lane(0, 0), lane(1, 0), lane(2, 0)];
  assert.is(rw.pick(lanes, lanes), 2); // int(3 * 0.7)
  assert.is(rw.pick([lanes[0]!], lanes), 0); // no tie: no draw
  assert.is(rng.used, 2);
});

test("strategy specs are checked, with what is accepted", () => {
  assert.is(check_strategy({ name: "pct", depth: 3, steps: 100 }), null);
  assert.is(check_strategy({ name: "pct", depth: 0, steps: 100 }), `"strategy" pct needs "depth" (1..100) and "steps" (1..1000000000)`);
  assert.is(check_strategy({ name: "fifo" }), `"strategy.name" must be "random", "pct" or "pb"`);
});

test("counter-nolock under PCT: seeds find the lost update, and a PCT run replays from its schedule", () => {
  const scn = findScenario("counter-nolock")!;
  const strategy = { name: "pct", depth: 3, steps: 128 } as const;
  let seed = 1;
  let r = runScenario(scn, { seed, strategy });
  while (!r.failed && seed < 50) r = runScenario(scn, { seed: ++seed, strategy });
  assert.ok(r.failed, "no failing seed in 1..50");
  const again = runScenario(scn, { seed: 0, strategy, replay: r.recording });
  assert.is(again.traceHash, r.traceHash);
});

test.run();
