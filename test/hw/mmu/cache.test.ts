// MESI between two CPUs' caches, with costs from DEFAULT_CACHE_COSTS (hit 1, memory 80,
// transfer 40, invalidate 20) and the default geometry (32 KiB, 8-way, 64-byte lines: 64 sets).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Caches, E, I, M, S } from "../../../src/hw/mmu/cache.ts";

test("read miss from memory (Exclusive), then a hit", () => {
  const c = new Caches(2);
  assert.equal([c.access(0, 0x1000, 4, false), c.state(0, 0x1000)], [80, E]);
  assert.is(c.access(0, 0x1004, 4, false), 1);
  assert.equal([c.counters(0).hits, c.counters(0).misses], [1, 1]);
});

test("sharing, an upgrade that invalidates, and a Modified line handed back", () => {
  const c = new Caches(2);
  c.access(0, 0x1000, 4, false);
  assert.is(c.access(1, 0x1000, 4, false), 40); // served by CPU0's copy
  assert.equal([c.state(0, 0x1000), c.state(1, 0x1000), c.counters(1).bounces], [S, S, 1]);
  assert.is(c.access(0, 0x1000, 4, true), 1 + 20); // S -> M, CPU1's copy invalidated
  assert.equal([c.state(0, 0x1000), c.state(1, 0x1000), c.counters(1).invalidations], [M, I, 1]);
  assert.is(c.access(1, 0x1000, 4, false), 40); // CPU0 writes back, both Shared
  assert.equal([c.state(0, 0x1000), c.state(1, 0x1000), c.counters(0).writebacks], [S, S, 1]);
});

test("false sharing: two CPUs writing different words of one line bounce it every time", () => {
  const c = new Caches(2);
  let cost = 0;
  for (let i = 0; i < 10; i++) {
    cost += c.access(0, 0x2000, 8, true);
    cost += c.access(1, 0x2008, 8, true);
  }
  // First write: memory (80). Every later write misses and takes the line from the other CPU
  // with an invalidation: 19 * (40 + 20).
  assert.is(cost, 80 + 19 * 60);
  assert.equal([c.counters(0).false_sharing + c.counters(1).false_sharing, c.counters(1).bounces + c.counters(0).bounces], [19, 19]);
  // Padded to separate lines: each CPU keeps its own line Modified after the first write.
  const p = new Caches(2);
  let padded = 0;
  for (let i = 0; i < 10; i++) padded += p.access(0, 0x2000, 8, true) + p.access(1, 0x2040, 8, true);
  assert.is(padded, 2 * 80 + 18 * 1);
});

test("a ninth line in an 8-way set evicts the least recently used, written back if Modified", () => {
  const c = new Caches(1);
  // 64 sets of 64-byte lines: addresses 4096 apart share a set.
  c.access(0, 0, 4, true);
  for (let i = 1; i <= 8; i++) c.access(0, i * 4096, 4, false);
  assert.equal([c.state(0, 0), c.counters(0).writebacks], [I, 1]);
  assert.is(c.state(0, 8 * 4096), E);
});

test("write-through: every write also pays for memory, and no line is ever Modified", () => {
  const c = new Caches(1, { size: 32 * 1024, ways: 8, line: 64, policy: "write-through" });
  assert.is(c.access(0, 0x40, 4, true), 80 + 80);
  assert.is(c.access(0, 0x40, 4, true), 1 + 80);
  assert.is(c.state(0, 0x40), E);
});

test("a shared last-level cache: a line one CPU evicted comes back at llc_hit, not from memory", () => {
  const c = new Caches(2, { size: 32 * 1024, ways: 8, line: 64, policy: "write-back", llc_size: 1 << 20, llc_ways: 16 });
  assert.is(c.access(0, 0, 4, false), 80); // memory, now in CPU0's cache and the LLC
  for (let i = 1; i <= 8; i++) c.access(0, i * 4096, 4, false); // evicts line 0 from CPU0's 8-way set
  assert.is(c.access(0, 0, 4, false), 12);
  assert.equal([c.counters(0).llc_hits, c.counters(0).llc_misses], [1, 9]);
  assert.throws(() => new Caches(1, { size: 32 * 1024, ways: 8, line: 64, policy: "write-back", llc_size: 1000 }), /last-level cache cannot be 16-way/);
});

test("64 CPUs: a line shared by all, a write by CPU 40 invalidates the other 63, a read takes it back from CPU 40", () => {
  const c = new Caches(64);
  // CPU 0 from memory (80), each of the 63 others from a copy (40).
  let cost = 0;
  for (let cpu = 0; cpu < 64; cpu++) cost += c.access(cpu, 0x3000, 4, false);
  assert.is(cost, 80 + 63 * 40);
  assert.equal([c.state(0, 0x3000), c.state(33, 0x3000), c.state(63, 0x3000)], [S, S, S]);
  // An upgrade: a hit (1) plus one invalidation round (20); every other copy goes.
  assert.is(c.access(40, 0x3000, 4, true), 1 + 20);
  let invalidated = 0;
  for (let cpu = 0; cpu < 64; cpu++) invalidated += c.counters(cpu).invalidations;
  assert.equal([invalidated, c.counters(40).invalidations, c.state(40, 0x3000), c.state(0, 0x3000), c.state(63, 0x3000)], [63, 0, M, I, I]);
  // CPU 63 (the high word of the mask) reads: served by CPU 40, which writes back; both Shared.
  assert.is(c.access(63, 0x3000, 4, false), 40);
  assert.equal([c.state(40, 0x3000), c.state(63, 0x3000), c.counters(40).writebacks], [S, S, 1]);
  // CPU 5 writes a different word than CPU 40 last wrote: false sharing, both copies invalidated.
  assert.is(c.access(5, 0x3008, 4, true), 40 + 20);
  assert.equal([c.counters(5).false_sharing, c.state(40, 0x3000), c.state(63, 0x3000)], [1, I, I]);
});

test.run();
