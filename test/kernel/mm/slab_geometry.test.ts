// SLAB geometry worked by hand from 2.6.34's kmem_cache_create / calculate_slab_order /
// cache_estimate (sizeof(struct slab) 28 on i386, 48 on x86_64; bufctl 4 bytes; 64-byte lines;
// slab_break_gfp_order 1), and 6.1's three freelist layouts (one-byte indexes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cache_estimate, cpucache_tunables, kmem_cache_geometry, kmem_cache_geometry_6, SLAB_ABI, SLAB_HWCACHE_ALIGN } from "../../../src/kernel/mm/slab_geometry.ts";

const i386 = SLAB_ABI.i386;
const g26 = (size: number, align: number, flags: number) => {
  const g = kmem_cache_geometry(i386, size, align, flags, 64, 1)!;
  return [g.size, g.align, g.num, g.gfporder, g.left_over, g.colour, g.slab_size, g.off_slab];
};

test("cache_estimate on-slab: (4096 - 28) / (size + 4) objects, less one if the aligned management overflows", () => {
  // 128-byte objects, align 64: 4068 / 132 = 30; management ALIGN(28 + 120, 64) = 192; 192 + 3840 = 4032.
  assert.equal(cache_estimate(i386, 0, 128, 64, false), { num: 30, left_over: 64 });
  // 32-byte objects, align 32: 4068 / 36 = 113; ALIGN(28 + 452, 32) = 480; 480 + 3616 = 4096.
  assert.equal(cache_estimate(i386, 0, 32, 32, false), { num: 113, left_over: 0 });
  // Off-slab: 4096 / 1024 = 4, nothing left.
  assert.equal(cache_estimate(i386, 0, 1024, 64, true), { num: 4, left_over: 0 });
});

test("2.6.34 general caches on i386: objects per slab, order, colour, on/off-slab", () => {
  // [size, align, num, order, left_over, colour, slab_size, off_slab]
  assert.equal(g26(32, 8, SLAB_HWCACHE_ALIGN), [32, 32, 113, 0, 0, 0, 480, false]); // ralign 64 -> 32 (32 <= 32)
  assert.equal(g26(128, 8, SLAB_HWCACHE_ALIGN), [128, 64, 30, 0, 64, 1, 192, false]);
  assert.equal(g26(192, 8, SLAB_HWCACHE_ALIGN), [192, 64, 20, 0, 128, 2, 128, false]); // 4068 / 196 = 20
  // >= PAGE_SIZE / 8 (512): off-slab; 4 * 4 + 28 = 44 bytes of management (kept in size-64).
  assert.equal(g26(1024, 8, SLAB_HWCACHE_ALIGN), [1024, 64, 4, 0, 0, 0, 44, true]);
  // 8192: order 0 holds none, order 1 one object (and order 1 is the break order).
  assert.equal(g26(8192, 8, SLAB_HWCACHE_ALIGN), [8192, 64, 1, 1, 0, 0, 32, true]);
});

test("a caller's cache: word rounding, its own alignment, off-slab moved back on-slab when the waste holds it", () => {
  // 100 bytes, no flags: align 4; 4068 / 104 = 39; ALIGN(28 + 156, 4) = 184; 4096 - 3900 - 184 = 12.
  assert.equal(g26(100, 0, 0), [100, 4, 39, 0, 12, 0, 184, false]);
  // 600 bytes, align 8: off-slab at first: 4096 / 600 = 6, 496 left (496 * 8 <= 4096, order 0).
  // ALIGN(6 * 4 + 28, 8) = 56 <= 496: back on-slab, 440 left: 6 colours of 64 bytes.
  assert.equal(g26(600, 8, 0), [600, 8, 6, 0, 440, 6, 56, false]);
  // x86_64: 48-byte struct slab; 600 bytes: ALIGN(6 * 4 + 48, 8) = 72; 496 - 72 = 424: 6 colours.
  const x = kmem_cache_geometry(SLAB_ABI.x86_64, 600, 8, 0, 64, 1)!;
  assert.equal([x.num, x.left_over, x.colour, x.slab_size, x.off_slab], [6, 424, 6, 72, false]);
});

test("enable_cpucache: limit by object size, batchcount (limit + 1) / 2, shared 8 on SMP up to a page", () => {
  assert.equal(cpucache_tunables(128, 2), { limit: 120, batchcount: 60, shared: 8 });
  assert.equal(cpucache_tunables(1024, 2), { limit: 54, batchcount: 27, shared: 8 });
  assert.equal(cpucache_tunables(4096, 1), { limit: 24, batchcount: 12, shared: 0 });
  assert.equal(cpucache_tunables(8192, 4), { limit: 8, batchcount: 4, shared: 0 });
  assert.equal(cpucache_tunables(262144, 4), { limit: 1, batchcount: 1, shared: 0 });
});

test("6.1: the freelist in a free object when it fits, else off-slab, else on-slab at the slab's end", () => {
  const none = () => null;
  const g6 = (size: number, align: number) => {
    const g = kmem_cache_geometry_6(i386, size, align, SLAB_HWCACHE_ALIGN, 64, 1, false, none)!;
    return [g.size, g.num, g.left_over, g.colour, g.off_slab, g.slab_size];
  };
  // kmalloc-64 (natural align 64): 64 objects, a 64-byte freelist fits in one: OBJFREELIST, nothing else.
  assert.equal(g6(64, 64), [64, 64, 0, 0, false, 0]);
  // kmalloc-32: 128 indexes do not fit in 32 bytes; no off-slab cache yet; on-slab: 4096 / 33 = 124, 4 left.
  assert.equal(g6(32, 32), [32, 124, 4, 0, false, 124]);
  // kmalloc-96: HWCACHE_ALIGN makes it 128 bytes; 32 one-byte indexes fit in the 96-byte object.
  assert.equal(g6(96, 8), [128, 32, 0, 0, false, 0]);
  // kmalloc-192: 4096 / 192 = 21, 64 left: one colour.
  assert.equal(g6(192, 8), [192, 21, 64, 1, false, 0]);
});

test.run();
