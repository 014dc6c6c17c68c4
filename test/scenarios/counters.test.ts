// Scenarios 1 and 2: the counter with and without its lock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../helpers.ts";
import counterSpinlock, { ITERATIONS as LOCKED } from "../../scenarios/teach/counter-spinlock.ts";
import counterNolock, { ITERATIONS as UNLOCKED } from "../../scenarios/teach/counter-nolock.ts";

test("counter-spinlock: 4 x 200 increments, never a lost update, over 25 seeds", () => {
  for (let seed = 1; seed <= 25; seed++) {
    const r = run(counterSpinlock, { seed });
    assert.is(r.failed, false, `seed ${seed}: ${r.expectations.join("; ")}`);
    const lock = r.stats.locks.find((l) => l.name === "counter_lock")!;
    assert.is(lock.acquisitions, 4 * LOCKED);
  }
});

test("counter-nolock: some seed in 1..20 loses updates, and not every seed does", () => {
  const failing = [];
  for (let seed = 1; seed <= 20; seed++) {
    const r = run(counterNolock, { seed });
    if (r.failed) {
      failing.push(seed);
      assert.match(r.expectations[0]!, new RegExp(`^counter \\(lost updates\\): expected ${4 * UNLOCKED}, got \\d+$`));
    }
  }
  assert.ok(failing.length > 0, "no seed lost an update");
  assert.ok(failing.length < 20, "every seed lost an update");
});

test.run();
