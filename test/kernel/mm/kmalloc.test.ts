// kmalloc and friends on both eras: the general caches' choice, ZERO_SIZE_PTR, GFP_DMA, kcalloc's
// overflow, krealloc, 6.1's large kmallocs through the page allocator, and kfree of a non-slab page.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { meminfo } from "../../../src/kernel/proc/meminfo.ts";
import { object_cache } from "../../../src/kernel/mm/slab.ts";
import { GFP_DMA, GFP_KERNEL, __GFP_RECLAIMABLE, __get_free_page, __pa, kcalloc, kfree, kmalloc, krealloc, ksize, kzalloc, ZERO_SIZE_PTR } from "../../../src/kernel/index.ts";

const M26 = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } } as const;
const M6 = { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } } as const;
const cache_of = (p: number) => Effect.map(object_cache(p), (c) => c.name);
const sunreclaim_kb = (): number => Number(/\nSUnreclaim: +(\d+) kB/.exec(meminfo(kernel(), kernel().mm!))![1]);

test("2.6.34: the first size-N at least as big; GFP_DMA its (DMA) twin in ZONE_DMA; 0 and too big", () => {
  const out: unknown[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        for (const n of [1, 33, 96, 129, 193, 5000, 4194304]) out.push(yield* cache_of(yield* kmalloc(n, GFP_KERNEL)));
        const d = yield* kmalloc(100, GFP_KERNEL | GFP_DMA);
        out.push(yield* cache_of(d), __pa(d) < 16 << 20);
        out.push(yield* kmalloc(0, GFP_KERNEL), yield* kmalloc(4194305, GFP_KERNEL));
        yield* kfree(0);
        yield* kfree(ZERO_SIZE_PTR);
      }),
    M26,
  );
  // No size-96 with 64-byte L1 lines: 96 goes to size-128.
  assert.equal(out, ["size-32", "size-64", "size-128", "size-192", "size-256", "size-8192", "size-4194304", "size-128(DMA)", true, 16, 0]);
});

test("kcalloc overflows to NULL; kzalloc zeroes; krealloc keeps the object while ksize allows, else moves it", () => {
  const out: unknown[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        out.push(yield* kcalloc(0x40000000, 8, GFP_KERNEL)); // 2^33 > ULONG_MAX on i386
        const z = yield* kzalloc(40, GFP_KERNEL);
        const p = yield* krealloc(z, 60, GFP_KERNEL); // size-64 holds 60
        out.push(p === z, yield* ksize(p));
        const q = yield* krealloc(p, 200, GFP_KERNEL);
        out.push(q !== p, yield* cache_of(q));
        out.push(yield* krealloc(q, 0, GFP_KERNEL));
      }),
    M26,
  );
  assert.equal(out, [0, true, 64, true, "size-256", ZERO_SIZE_PTR]);
});

test("kfree of a page the slab allocator does not own is page_get_cache's BUG", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        yield* kfree(a);
      }),
    M26,
  );
  assert.equal(r.reports.length, 1);
  assert.match(r.reports[0]!.title, /^kernel BUG at mm\/slab.c: page_get_cache\(\): BUG_ON\(!PageSlab\(page\)\)/);
});

test("6.1: kmalloc-32 is the smallest, kmalloc-96 and kmalloc-192 exist, __GFP_RECLAIMABLE picks kmalloc-rcl", () => {
  const out: unknown[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        for (const n of [8, 65, 100, 150, 8192]) out.push(yield* cache_of(yield* kmalloc(n, GFP_KERNEL)));
        out.push(yield* cache_of(yield* kmalloc(64, GFP_KERNEL | __GFP_RECLAIMABLE)), yield* cache_of(yield* kmalloc(64, GFP_DMA)));
      }),
    M6,
  );
  assert.equal(out, ["kmalloc-32", "kmalloc-96", "kmalloc-128", "kmalloc-192", "kmalloc-8k", "kmalloc-rcl-64", "dma-kmalloc-64"]);
});

test("6.1: above 8 KiB kmalloc takes pages (order get_order(size)), counted in SUnreclaim; kfree gives them back", () => {
  const out: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const p = yield* kmalloc(10000, GFP_KERNEL); // 3 pages -> order 2
        out.push(sunreclaim_kb(), yield* ksize(p));
        yield* kfree(p);
        out.push(sunreclaim_kb());
      }),
    M6,
  );
  assert.equal(out, [16, 16384, 0]);
});

test.run();
