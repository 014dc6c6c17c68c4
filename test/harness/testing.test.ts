// mmsim/testing: scenarios as assertions in a user's test suite. expectClean throws on the first
// failing seed with the report and the replay command; expectFails returns the first run that
// fails (of the kind asked for) or throws naming the range and the other failures it saw.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { expectClean, expectFails, MmsimAssertionError, seedList } from "../../src/testing.ts";
import { DEFINE_SPINLOCK, kthread_run, msleep, spin_lock, spin_unlock } from "../../src/kernel/index.ts";
import { runScenario } from "../../src/harness/run.ts";
import { inline } from "../helpers.ts";
import counterNolock from "../../scenarios/teach/counter-nolock.ts";

const thrown = (f: () => unknown): MmsimAssertionError => {
  try {
    f();
  } catch (e) {
    if (e instanceof MmsimAssertionError) return e;
    throw e;
  }
  throw new Error("nothing was thrown");
};

/** A task that counts to 2 where the check wants 1: an expectation fails on every seed. */
const miscount = inline(
  () => {
    const st = { n: 0 };
    kthread_run(() => Effect.sync(() => void (st.n += 2)), null, "t");
    return st;
  },
  { cpus: 1 },
  { check: (st, expect) => expect.equal(st.n, 1, "count") },
);

/** msleep() under a spinlock (2.6, the default era: schedule() with preempt_count 1): "scheduling while atomic" on every seed. */
const sleeper = inline(() => {
  const l = DEFINE_SPINLOCK("l");
  kthread_run(function* () {
    yield* spin_lock(l);
    yield* msleep(1);
    yield* spin_unlock(l);
  }, null, "t");
});

const clean = inline(() => void kthread_run(function* () { yield* msleep(1); }, null, "t"));

test("seedList: A..B inclusive, a list, one seed; anything else is refused by name", () => {
  assert.equal(seedList("3..6"), [3, 4, 5, 6]);
  assert.equal(seedList([9, 2]), [9, 2]);
  assert.equal(seedList(7), [7]);
  assert.throws(() => seedList("1-5" as never), /seeds must look like "A\.\.B" \(e\.g\. "1\.\.200"\), a list of integers or one integer, got "1-5"/);
  assert.throws(() => seedList("5..1"), /seeds "5\.\.1": the first seed must not exceed the last/);
  assert.throws(() => seedList([1.5]), /a seed must be an integer, got 1\.5/);
});

test("expectClean passes over clean seeds and throws on the first failing one, with the expectation and the replay command", () => {
  expectClean(clean, { seeds: "1..5" });
  const e = thrown(() => expectClean(miscount, { seeds: "4..9", file: "my.ts" }));
  assert.is(e.message, "inline failed at seed 4 (expectation; done)\n  expectation: count: expected 1, got 2\nreplay: mmsim run my.ts#inline --seed 4");
  assert.is(e.code, "ERR_ASSERTION");
  assert.is(e.run?.seed, 4);
});

test("expectClean's message carries the report as printed, and the options a replay needs", () => {
  const e = thrown(() => expectClean(sleeper, { seeds: [2], cpus: 3, strategy: { name: "pct", depth: 2, steps: 100 } }));
  const lines = e.message.split("\n");
  assert.is(lines[0], "inline failed at seed 2 (scheduling_while_atomic; done)");
  assert.is(lines[1], "  " + e.run!.reports[0]!.text.split("\n")[0]);
  assert.ok(lines[1]!.startsWith("  BUG: scheduling while atomic: t/"));
  assert.is(lines.at(-1), "replay: mmsim run inline --seed 2 --cpus 3 --strategy pct --depth 2 --pct-steps 100");
});

test("expectFails returns the first failing run, of the kind asked for", () => {
  const first = [...Array(40).keys()].map((i) => i + 2).find((seed) => runScenario(counterNolock, { seed }).failed);
  assert.ok(first !== undefined && first > 2, "counter-nolock has clean seeds from 2 before a failing one");
  const r = expectFails(counterNolock, { seeds: "2..41" });
  assert.is(r.seed, first);
  assert.is(expectFails(sleeper, { seeds: "1..3", kind: "scheduling_while_atomic" }).seed, 1);
});

test("expectFails throws when no seed fails as asked, naming the range and the other failures", () => {
  assert.is(thrown(() => expectFails(clean, { seeds: "1..3" })).message, "inline: no run failed over seeds 1..3 (3 runs)");
  assert.is(thrown(() => expectFails(miscount, { seeds: "2..4", kind: "might_sleep" })).message, "inline: no run failed with might_sleep over seeds 2..4 (3 runs); other failures: expectation at seed 2");
});

test.run();
