// Shrinking: the shrunk schedule still fails the same way, is no bigger than the seed's run in
// any measure, and is 1-minimal (taking out any one decision left loses the failure).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { shrink, failure_kinds } from "../../src/harness/shrink.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";
import type { Script } from "../../src/sim/script.ts";

/** Every script with one decision of the shrunk one taken out. */
function oneLess(s: Script): Script[] {
  const out: Script[] = [];
  s.delays.forEach((_, i) => out.push({ ...s, delays: s.delays.filter((_, j) => j !== i) }));
  s.picks.forEach((_, i) => out.push({ ...s, picks: s.picks.filter((_, j) => j !== i) }));
  for (const [d, ts] of Object.entries(s.arrivals)) ts.forEach((_, i) => out.push({ ...s, arrivals: { ...s.arrivals, [d]: ts.filter((_, j) => j !== i) } }));
  return out;
}

test("irq-lock-deadlock seed 3 (2 CPUs, a spinlock taken by a task with interrupts on and by the NIC's handler): one CPU and the interrupts that matter", () => {
  const scn = findScenario("irq-lock-deadlock")!;
  const s = shrink(scn, { seed: 3 });
  assert.is(s.target, "spinlock");
  assert.is(s.before.cpus, 2);
  // The recursion needs one CPU: the handler interrupts the lock's holder on its own CPU.
  assert.is(s.after.cpus, 1);
  for (const k of ["delays", "picks", "interrupts", "steps"] as const) assert.ok(s.after[k] <= s.before[k], k);
  // The least there can be: one interrupt, landing while the task holds dev_lock; no delay or
  // tie-break (on one CPU there are no ties), however the seed's run got there.
  assert.equal([s.after.interrupts, s.after.delays, s.after.picks], [1, 0, 0]);
  // The shrunk schedule replays to the same run, which still fails the same way.
  const again = runScenario(scn, { seed: 3, cpus: s.cpus, script: s.script, replay: s.draws, ...(s.stepLimit !== undefined ? { stepLimit: s.stepLimit } : {}) });
  assert.is(again.traceHash, s.result.traceHash);
  assert.ok(failure_kinds(again).includes("spinlock"));
  // 1-minimal: without any one of its decisions the run no longer reports spinlock recursion.
  for (const fewer of oneLess(s.script)) {
    const r = runScenario(scn, { seed: 3, cpus: s.cpus, script: fewer, replay: s.draws });
    assert.not.ok(failure_kinds(r).includes("spinlock"), JSON.stringify(fewer));
  }
  // The last decision is the interrupt that lands while the task holds the lock.
  const last = [...s.result.decisions!].sort((a, b) => a.time - b.time).at(-1)!;
  assert.match(last.text, /^CPU0 takes IRQ 11 \(eth0\) in update_stats-2 holding dev_lock/);
});

test("bug-atomic-unchecked: the injected failslab fault moves to the first interrupt (the draws before it are shrunk away)", () => {
  const scn = findScenario("bug-atomic-unchecked")!;
  const s = shrink(scn, { seed: 6, strategy: { name: "pct", depth: 3, steps: 2000 } });
  assert.is(s.target, "bug");
  assert.is(s.after.interrupts, 1);
  assert.ok(s.before.interrupts > 1);
});

test("a seed that does not fail has nothing to shrink", () => {
  assert.throws(() => shrink(findScenario("bug-abba-fixed")!, { seed: 1 }), /seed 1 does not fail \(no report, every expectation met\): nothing to shrink/);
});

test("the budget bounds the candidate runs", () => {
  const s = shrink(findScenario("irq-lock-deadlock")!, { seed: 3 }, 3);
  assert.is(s.runs, 3);
  assert.ok(s.exhausted);
});

test.run();
