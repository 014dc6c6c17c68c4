// The page allocator on a 64 MiB i386 machine, kernel 2.6. Worked by hand:
// zones DMA 4096 pages (pfn 0..4095), Normal 12288 (pfn 4096..16383); lowmem 65536 KiB ->
// min_free_kbytes = int_sqrt(65536*16) = 1024, pages_min 256: DMA 64/80/96, Normal 192/240/288.
// Normal pcp: 12288/1024 = 12, /4 = 3, rounddown_pow2(4) - 1 = 3 -> batch 3, high 18.
// Boot frees each zone in order-10 blocks in pfn order, so each order-10 list's head is its
// highest block: Normal 15360, DMA 3072.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask as inTaskOn } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_ATOMIC, GFP_DMA, GFP_KERNEL, __GFP_NOWARN, __free_pages, alloc_pages, spin_lock, spin_unlock, DEFINE_SPINLOCK } from "../../../src/kernel/index.ts";
import { zone_watermark_ok, gfp_to_alloc_flags, ALLOC_WMARK_LOW } from "../../../src/kernel/mm/page_alloc.ts";
import type { MachineSpec } from "../../../src/harness/scenario.ts";

const MACHINE: MachineSpec = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } };

const inTask = (body: () => Effect.Effect<void>) => inTaskOn(body, MACHINE);

test("zones, watermarks and pagesets of the 64 MiB machine", () => {
  let seen: unknown;
  inTask(() =>
    Effect.sync(() => {
      const mm = kernel().mm!;
      seen = mm.zones.filter((z) => z.populated).map((z) => [z.name, z.zone_start_pfn, z.managed_pages, z.free_pages, z.watermark, z.pageset[0]!.batch, z.pageset[0]!.high]);
    }),
  );
  assert.equal(seen, [
    ["DMA", 0, 4096, 4096, { min: 64, low: 80, high: 96 }, 1, 0],
    ["Normal", 4096, 12288, 12288, { min: 192, low: 240, high: 288 }, 3, 18],
  ]);
});

test("order 0 from Normal through the pcp list; order 3 from DMA straight from the buddy lists", () => {
  const out: unknown[] = [];
  const r = inTask(() =>
    Effect.gen(function* () {
      const mm = kernel().mm!;
      const [dma, normal] = mm.zones.filter((z) => z.populated);
      const p = yield* alloc_pages(GFP_KERNEL, 0);
      out.push(p, normal!.free_pages, normal!.pageset[kernel().this_cpu().id]!.count);
      const q = yield* alloc_pages(GFP_KERNEL | GFP_DMA, 3);
      out.push(q, dma!.free_pages);
      yield* __free_pages(p!, 0);
      out.push(normal!.pageset[kernel().this_cpu().id]!.count, normal!.free_pages);
      yield* __free_pages(q!, 3);
      out.push(dma!.free_pages, dma!.free_area[10]!.nr_free);
    }),
  );
  assert.equal(r.reports, []);
  // rmqueue_bulk took 15360..15362; the head (15360) is handed out, 2 stay on the pcp list.
  assert.equal(out, [15360, 12285, 2, 3072, 4088, 3, 12285, 4096, 4]);
});

test("freeing a page twice: BUG: Bad page state", () => {
  const r = inTask(() =>
    Effect.gen(function* () {
      const p = (yield* alloc_pages(GFP_KERNEL, 0))!;
      yield* __free_pages(p, 0);
      yield* __free_pages(p, 0);
    }),
  );
  assert.equal(r.reports.map((x) => x.title), ["BUG: Bad page state in process t  pfn:03c00"]);
});

test("freeing with the wrong order: BUG: Bad page state", () => {
  const r = inTask(() =>
    Effect.gen(function* () {
      const p = (yield* alloc_pages(GFP_KERNEL, 2))!;
      yield* __free_pages(p, 1);
    }),
  );
  assert.is(r.reports.length, 1);
  assert.ok(r.reports[0]!.text.includes("(freed with order 1, allocated with order 2)"));
});

test("watermark check: GFP_ATOMIC digs to 3/8 of min, GFP_KERNEL stops at min", () => {
  // Normal min 192: ALLOC_HIGH halves it (96), ALLOC_HARDER takes a quarter off (72).
  const z = { free_pages: 73, lowmem_reserve: [0, 0], free_area: [] } as never;
  assert.ok(zone_watermark_ok("2.6", z, 0, 192, 1, gfp_to_alloc_flags(GFP_ATOMIC)));
  assert.not.ok(zone_watermark_ok("2.6", z, 0, 192, 1, gfp_to_alloc_flags(GFP_KERNEL)));
  const z2 = { free_pages: 72, lowmem_reserve: [0, 0], free_area: [] } as never;
  assert.not.ok(zone_watermark_ok("2.6", z2, 0, 192, 1, gfp_to_alloc_flags(GFP_ATOMIC)));
  assert.ok(zone_watermark_ok("2.6", { free_pages: 241, lowmem_reserve: [0, 0], free_area: [] } as never, 0, 240, 1, ALLOC_WMARK_LOW));
});

test("an order above MAX_ORDER-1 returns NULL with a warning", () => {
  let got: unknown = "unset";
  const r = inTask(() =>
    Effect.gen(function* () {
      got = yield* alloc_pages(GFP_KERNEL, 11);
    }),
  );
  assert.is(got, null);
  // WARN_ON_ONCE in __alloc_pages_slowpath: "WARNING: at <file>:<line> <function>()" (the line is not known here).
  assert.is(r.reports[0]!.title, "WARNING: at mm/page_alloc.c __alloc_pages_nodemask()");
});

test("GFP_ATOMIC under a spinlock never sleeps; exhausted, it fails with the 2.6 warning", () => {
  let got = 0;
  const r = inTask(() =>
    Effect.gen(function* () {
      const l = DEFINE_SPINLOCK("l");
      yield* spin_lock(l);
      for (;;) {
        const p = yield* alloc_pages(GFP_ATOMIC, 0);
        if (p === null) break;
        got++;
      }
      yield* spin_unlock(l);
    }),
  );
  assert.equal(r.reports.map((x) => x.kind), ["alloc_failure"]);
  assert.is(r.reports[0]!.title, "t: page allocation failure. order:0, mode:0x20");
  // Normal: 3/8 of min 192 is 72. Refills of 3 (free 12288 = 3*4096) pass while free > 72, so the
  // last refill leaves 72 in the buddy lists and the next check fails with 2 pages stranded on
  // the pcp list: 12288 - 72 - 2 = 12214. DMA, with Normal as the class zone: 3/8 of min 64 is 24,
  // plus lowmem_reserve[Normal] = 12288/256 = 48, so it gives pages while free > 72: 4096 - 72.
  assert.is(got, 12214 + 4024);
});

test("__GFP_NOWARN silences the warning", () => {
  const r = inTask(() =>
    Effect.gen(function* () {
      while ((yield* alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0)) !== null);
    }),
  );
  assert.equal(r.reports, []);
});

test.run();
