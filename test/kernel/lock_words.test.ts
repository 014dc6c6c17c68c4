// mmu.detail "locks": spinlocks write their lock word through the cache, so a lock taken in turn
// by 4 CPUs moves its line on (almost) every acquisition; the run stays deterministic.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { parseMachineFile } from "../../src/harness/machine_file.ts";
import counterSpinlock from "../../scenarios/teach/counter-spinlock.ts";
import { zoneLock, zoneLockNopcp } from "../../scenarios/mm/zone-lock.ts";

const withLocks = { ...counterSpinlock, machine: { ...counterSpinlock.machine, mmu: { detail: "locks" as const } } };

test("a contended lock's line bounces; off by default", () => {
  const off = runScenario(counterSpinlock, { seed: 1 });
  assert.ok(off.stats.cpus.every((c) => c.cache.misses === 0));
  const on = runScenario(withLocks, { seed: 1 });
  const acquisitions = on.stats.locks.reduce((a, l) => a + l.acquisitions, 0);
  const bounces = on.stats.cpus.reduce((a, c) => a + c.cache.bounces, 0);
  assert.ok(bounces > 0.9 * acquisitions && bounces <= acquisitions, `${bounces} bounces for ${acquisitions} acquisitions`);
  assert.is(runScenario(withLocks, { seed: 1 }).traceHash, on.traceHash);
});

test("machine file: tlb, cache and mmu_detail are checked and passed on", () => {
  const m = parseMachineFile({ arch: "i386", tlb: { entries: 16, ways: 4 }, cache: { size: 8192, policy: "write-through" }, mmu_detail: "locks" });
  assert.equal(m.mmu, { tlb: { entries: 16, ways: 4 }, cache: { size: 8192, policy: "write-through" }, detail: "locks" });
  assert.throws(() => parseMachineFile({ tlb: { sets: 4 } }), /tlb: unknown field "sets" \(accepted: entries, ways, large_entries, large_ways\)/);
  assert.throws(() => parseMachineFile({ mmu_detail: "every" }), /"mmu_detail" must be "off", "locks" or "all", got "every"/);
});

test("detail all: without pcp lists the zone's free-list head and lock word bounce on every page", () => {
  const bounces = (s: typeof zoneLock) => {
    const r = runScenario({ ...s, machine: { ...s.machine, mmu: { detail: "all" as const } } }, { seed: 1 });
    assert.is(r.failed, false);
    return r.stats.cpus.reduce((a, c) => a + c.cache.bounces, 0);
  };
  const pcp = bounces(zoneLock);
  const nopcp = bounces(zoneLockNopcp);
  // 30720 zone->lock acquisitions without pcp, each moving the lock word and the list head.
  assert.ok(nopcp > 2 * 30720 && nopcp > 50 * pcp, `${pcp} bounces with pcp, ${nopcp} without`);
});

test.run();
