// Every nanosecond of every CPU is accounted to exactly one of task, softirq, hardirq, spin or
// idle: for each shipped scenario the five add up to the run's virtual time on every CPU.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { scenarios } from "../../scenarios/index.ts";
import { runScenario } from "../../src/harness/run.ts";
import { DEFINE_SPINLOCK, kthread_run, ndelay, spin_lock } from "../../src/kernel/index.ts";
import { inline } from "../helpers.ts";

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

test("a run a lockup or a panic halts accounts every CPU up to its end, a CPU still running a task included", () => {
  const sums = (r: ReturnType<typeof runScenario>): number[] => r.stats.cpus.map((c) => c.task_ns + c.softirq_ns + c.hardirq_ns + c.spin_ns + c.idle_ns - r.virtualTimeNs);
  // A panic (scheduling in interrupt context) and a hard lockup, from the shipped pairs.
  for (const [name, seed] of [["semaphore-tasklet", 6], ["rwlock-irq-deadlock", 1]] as const) {
    const r = runScenario(scenarios.find((x) => x.name === name)!, { seed });
    assert.ok(r.stop.startsWith("stopped: "), `${name} seed ${seed} halts (${r.stop})`);
    assert.equal(sums(r), [0, 0], `${name} seed ${seed}`);
  }
  // CPU0 spins on a lock it holds (a soft lockup halts the machine) while CPU1 runs a task.
  const busy = inline(() => {
    const l = DEFINE_SPINLOCK("l");
    kthread_run(function* stuck() { yield* spin_lock(l); yield* spin_lock(l); }, null, "stuck", { cpus: [0] });
    kthread_run(function* busy() { for (;;) yield* ndelay(100_000); }, null, "busy", { cpus: [1] });
  });
  const r = runScenario(busy, { seed: 1 });
  assert.ok(r.stop.startsWith("stopped: "), r.stop);
  assert.equal(sums(r), [0, 0]);
  assert.ok(r.stats.cpus[1]!.task_ns > 19e9, "CPU1 ran its task until the halt");
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
