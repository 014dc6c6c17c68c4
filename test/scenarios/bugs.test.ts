// The planted-bug suite: PCT finds every bug within a few seeds, with the report the bug is
// known by, and the fixed twins stay clean over the same seeds under both strategies.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { BUGS } from "../../scenarios/bugs/index.ts";
import type { StrategySpec } from "../../src/sim/strategy.ts";

const SEEDS = 10;

const kind = (r: ReturnType<typeof runScenario>): string => r.reports[0]?.kind ?? (r.expectations.length > 0 ? "expectation" : r.stop);

test("ten planted bugs, each a distinct kernel bug pattern with a fixed twin", () => {
  assert.is(BUGS.length, 10);
  assert.is(new Set(BUGS.map((b) => b.pattern)).size, 10);
  for (const b of BUGS) assert.is(b.fixed.name, `${b.name}-fixed`);
});

for (const b of BUGS) {
  test(`${b.name}: PCT finds it within ${SEEDS} seeds (${b.detected_by}); ${b.name}-fixed is clean on them`, () => {
    const steps = runScenario(b.bug, { seed: 1 }).steps;
    const pct: StrategySpec = { name: "pct", depth: 3, steps };
    let found: ReturnType<typeof runScenario> | undefined;
    for (let seed = 1; seed <= SEEDS && found === undefined; seed++) {
      const r = runScenario(b.bug, { seed, strategy: pct });
      if (r.failed) found = r;
    }
    assert.ok(found !== undefined, `${b.name}: no seed in 1..${SEEDS} failed under PCT`);
    assert.is(kind(found!), b.detected_by);
    for (let seed = 1; seed <= SEEDS; seed++) {
      for (const strategy of [undefined, pct]) {
        const r = runScenario(b.fixed, { seed, strategy });
        assert.is(r.failed, false, `${b.fixed.name} seed ${seed} (${strategy?.name ?? "random"}): ${[...r.reports.map((x) => x.title), ...r.expectations].join("; ")}`);
      }
    }
  });
}

test.run();
