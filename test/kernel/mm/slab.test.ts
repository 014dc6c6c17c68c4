// The SLAB allocator at run time on a 64 MiB i386 machine, 2 CPUs, kernel 2.6 (size-128: 30
// objects a slab, limit 120, batchcount 60, shared 8 x 60 = 480, free_limit (1 + 2) * 60 + 30).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { slabinfo } from "../../../src/kernel/proc/slabinfo.ts";
import { meminfo } from "../../../src/kernel/proc/meminfo.ts";
import {
  DEFINE_SPINLOCK, GFP_ATOMIC, GFP_KERNEL, SLAB_HWCACHE_ALIGN, SLAB_PANIC, format_kaddr, kfree, kmalloc, kmem_cache_alloc, kmem_cache_create, kmem_cache_destroy, kmem_cache_free, kmem_cache_shrink, ksize, msleep, spin_lock, spin_unlock, type kmem_cache,
} from "../../../src/kernel/index.ts";

const M = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } } as const;
const row = (name: string): string => slabinfo(kernel().mm!).split("\n").find((l) => l.startsWith(`${name} `))!;
const slab_kb = (): number => Number(/\nSlab: +(\d+) kB/.exec(meminfo(kernel(), kernel().mm!))![1]);

test("kmalloc(100): size-128; the first refill takes 16 (BATCHREFILL_LIMIT), the object popped last-in first", () => {
  const out: unknown[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(100, GFP_KERNEL);
        const b = yield* kmalloc(100, GFP_KERNEL);
        out.push(format_kaddr(a), format_kaddr(b), yield* ksize(a));
      }),
    M,
  );
  // The slab is the first GFP_KERNEL page, pfn 15360 (0xc3c00000), colour 0; struct slab and 30
  // bufctls take 192 bytes; objects from 0xc3c000c0. The refill pushed objects 0..15; the pop
  // gives 15 (0xc3c000c0 + 15 * 128 = 0xc3c00840), then 14.
  assert.equal(out, ["c3c00840", "c3c007c0", 128]);
});

test("31 objects: 16, then the slab's other 14, then a new slab's 30; slabinfo counts objects in arrays as active", () => {
  const out: string[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        for (let i = 0; i < 31; i++) yield* kmalloc(128, GFP_KERNEL);
        out.push(row("size-128"));
        out.push(String(slab_kb()));
      }),
    M,
  );
  assert.equal(out, ["size-128              60     60    128   30    1 : tunables  120   60    8 : slabdata      2      2      0", "8"]);
});

test("freeing 121: the array (limit 120) flushes its oldest 60 to the shared array", () => {
  const out: string[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const objs: number[] = [];
        for (let i = 0; i < 121; i++) objs.push(yield* kmalloc(128, GFP_KERNEL));
        for (const o of objs) yield* kfree(o);
        out.push(row("size-128"));
      }),
    M,
  );
  // 121 allocations grew 5 slabs (16 + 14 + 30 + 30 + 30 + 1 of a fifth: 150 objects out of slabs).
  // The frees fill the array to 120; the 121st moves 60 to the shared array, then is pushed.
  assert.equal(out, ["size-128             150    150    128   30    1 : tunables  120   60    8 : slabdata      5      5     60"]);
});

test("kmem_cache_create, kmem_cache_shrink and kmem_cache_destroy; destroying a cache with objects is a slab error", () => {
  const out: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const c = (yield* kmem_cache_create("foo", 600, 8, 0))!;
        out.push(c.num, c.colour, (yield* kmem_cache_create("foo", 32, 0, 0)) === null);
        const a = yield* kmem_cache_alloc(c, GFP_KERNEL);
        const b = yield* kmem_cache_alloc(c, GFP_KERNEL);
        out.push(row("foo"));
        yield* kmem_cache_free(c, b);
        yield* kmem_cache_destroy(c); // a still out
        out.push(row("foo"), slab_kb());
        yield* kmem_cache_free(c, a);
        out.push(yield* kmem_cache_shrink(c), slab_kb());
        yield* kmem_cache_destroy(c);
        out.push(row("foo") === undefined);
      }),
    M,
  );
  // 600 bytes: 6 objects a slab, 6 colours (see slab_geometry.test.ts); limit 54, batchcount 27.
  // The duplicate name returns NULL with "kmem_cache_create: duplicate cache foo".
  assert.equal(out, [
    6,
    6,
    true,
    "foo                    6      6    600    6    1 : tunables   54   27    8 : slabdata      1      1      0",
    "foo                    1      6    600    6    1 : tunables   54   27    8 : slabdata      1      1      0",
    4,
    0,
    0,
    true,
  ]);
  assert.equal(r.reports.map((x) => x.title), ["slab error in kmem_cache_destroy(): cache `foo': Can't free all objects"]);
  assert.ok(r.log.some((l) => l.endsWith("kmem_cache_create: duplicate cache foo")));
});

test("a sleeping kmalloc under a spinlock is mm/slab.c's might_sleep report; GFP_ATOMIC is not", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const l = DEFINE_SPINLOCK("l");
        yield* spin_lock(l);
        yield* kmalloc(64, GFP_ATOMIC);
        yield* kmalloc(64, GFP_KERNEL);
        yield* spin_unlock(l);
      }),
    M,
  );
  assert.equal(r.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at mm/slab.c:3101"]);
  assert.match(r.reports[0]!.text, /\nin_atomic\(\): 1, irqs_disabled\(\): 0, pid: \d+, name: t\n/);
});

test("cache_reap: an untouched array gives back (limit + 4) / 5 objects a pass; free slabs go at the 4 s pass", () => {
  const seen: string[] = [];
  let c: kmem_cache | null = null;
  inTask(
    () =>
      Effect.gen(function* () {
        c = (yield* kmem_cache_create("bar", 128, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC))!;
        const objs: number[] = [];
        for (let i = 0; i < 60; i++) objs.push(yield* kmem_cache_alloc(c, GFP_KERNEL));
        for (const o of objs) yield* kmem_cache_free(c, o);
        seen.push(row("bar"));
        for (let t = 0; t < 3; t++) {
          yield* msleep(2000);
          seen.push(row("bar"));
        }
      }),
    { ...M, cpus: 1 },
  );
  // One CPU: no shared array; free_limit (1 + 1) * 60 + 30 = 150. 60 objects out (16 + 14 from
  // slab 1, 30 from slab 2), all back on CPU0's array. Reaps at jiffies 250 (round_jiffies(HZ)),
  // then every 2 s rounded: 750, 1250. At 250 the array was touched: only the mark goes; the free
  // list was touched too (refill found no partial slab): only that mark goes; next_reap 1250. At
  // 750 the array gives back 24, (limit + 4) / 5, the oldest freed: slab 1's. At 1250 another 24
  // (slab 1's last 6, so it is free, and 18 of slab 2's), then drain_freelist((150 + 150 - 1) /
  // 150 = 1) destroys slab 1. Rows at 0, 2, 4 and 6 s: [active_objs, num_objs, active_slabs, num_slabs].
  const fields = (l: string) => l.split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
  assert.equal(
    seen.map((l) => { const f = fields(l); return [f[0], f[1], f[f.length - 3], f[f.length - 2]]; }),
    [[60, 60, 2, 2], [60, 60, 2, 2], [36, 60, 2, 2], [12, 30, 1, 1]],
  );
});

test.run();
