// Every detector can be switched off, per machine (scenario or machine file) and on the command
// line (--no-detect), as its Linux switch does: CONFIG_DEBUG_ATOMIC_SLEEP, CONFIG_DEBUG_SPINLOCK,
// kernel.watchdog, hung_task_timeout_secs = 0. Off, the run goes on as the machine would.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../helpers.ts";
import { parseMachineFile } from "../../src/harness/machine_file.ts";
import { findScenario } from "../../scenarios/index.ts";
import { sleepInAtomic } from "../../scenarios/teach/sleep-in-atomic.ts";

test("debug_atomic_sleep off: mutex_lock under spin_lock is not reported, and the run is the same otherwise", () => {
  const on = run(sleepInAtomic);
  const off = run(sleepInAtomic, { machine: { debug_atomic_sleep: false } });
  assert.equal(on.reports.map((x) => x.kind), ["might_sleep"]);
  assert.equal(off.reports, []);
  assert.is(off.steps, on.steps);
});

test("debug_spinlock and watchdog off: irq-lock-deadlock's recursion is neither reported nor caught; the CPU spins until the time limit", () => {
  const s = findScenario("irq-lock-deadlock")!;
  const r = run(s, { seed: 3, machine: { debug_spinlock: false, watchdog: false }, timeLimitMs: 20_000 });
  assert.equal(r.reports, []);
  assert.is(r.stop, "time-limit: the run reached 20 s of virtual time without finishing");
  // The spinning CPU0 spent nearly all of it spinning.
  assert.ok(r.stats.cpus[0]!.spin_ns > 19.9e9, String(r.stats.cpus[0]!.spin_ns));
  // With the watchdog on (spinlock debug off) the same deadlock is a hard lockup at 12 s.
  const w = run(s, { seed: 3, machine: { debug_spinlock: false } });
  assert.equal(w.reports.map((x) => x.kind), ["hard_lockup"]);
});

test("machine files carry the switches, checked", () => {
  assert.equal(parseMachineFile({ debug_spinlock: false, debug_atomic_sleep: false, watchdog: false, hung_task_timeout_secs: 0 }), { debug_spinlock: false, debug_atomic_sleep: false, watchdog: false, hung_task_timeout_secs: 0 });
  assert.throws(() => parseMachineFile({ watchdog: "off" }), /"watchdog" must be true or false/);
  assert.throws(() => parseMachineFile({ hung_task_timeout_secs: -1 }), /"hung_task_timeout_secs" must be an integer from 0 to 86400, got -1/);
});

test.run();
