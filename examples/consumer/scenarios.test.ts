// The scenarios as tests (node:test here; uvu, vitest and jest work the same way: the helpers
// throw an Error that names the seed, the report and the command that replays it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectClean, expectFails } from "mmsim/testing";
import { rxTaskletAtomic, rxTaskletKernel } from "./scenarios.js";

test("GFP_ATOMIC in the tasklet is clean on every seed", () => {
  expectClean(rxTaskletAtomic, { seeds: "1..50" });
});

test("GFP_KERNEL in the tasklet sleeps in softirq context", () => {
  const run = expectFails(rxTaskletKernel, { seeds: "1..50", kind: "might_sleep" });
  assert.equal(run.seed, 1);
  assert.match(run.reports[0]!.title, /^BUG: sleeping function called from invalid context at /);
  assert.match(run.reports[0]!.text, /in_atomic\(\): 1, irqs_disabled\(\): 0, non_block: 0, pid: \d+, name: /);
});
