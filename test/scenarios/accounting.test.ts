// Every nanosecond of every CPU is accounted to exactly one of task, softirq, hardirq, spin or
// idle: for each shipped scenario the five add up to the run's virtual time on every CPU.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { scenarios } from "../../scenarios/index.ts";
import { runScenario } from "../../src/harness/run.ts";

// The three longest runs (seconds each under coverage) are checked with one seed, the rest with two.
const LONG = new Set(["atomic-storm", "oom-killer", "zone-lock-nopcp"]);

test("per-CPU times add up to the virtual time, for every shipped scenario", () => {
  for (const scn of scenarios) {
    for (const seed of LONG.has(scn.name) ? [1] : [1, 2]) {
      const r = runScenario(scn, { seed });
      for (const c of r.stats.cpus) {
        const sum = c.task_ns + c.softirq_ns + c.hardirq_ns + c.spin_ns + c.idle_ns;
        assert.is(sum, r.virtualTimeNs, `${scn.name} seed ${seed} CPU${c.cpu}`);
      }
    }
  }
});

test("the demo runs clean on 1, 3 and 8 CPUs", () => {
  const demo = scenarios.find((x) => x.name === "demo")!;
  for (const cpus of [1, 3, 8]) {
    const r = runScenario(demo, { seed: 1, cpus });
    assert.is(r.failed, false, `${cpus} CPUs: ${[...r.expectations, ...r.reports.map((x) => x.title)].join("; ")}`);
    assert.is(r.stats.cpus.length, cpus);
  }
});

test.run();
