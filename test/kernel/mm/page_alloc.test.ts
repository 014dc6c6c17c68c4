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
import { vm_events, GFP_ATOMIC, GFP_DMA, GFP_KERNEL, GFP_NOWAIT, __GFP_HIGH, __GFP_MEMALLOC, __GFP_NOMEMALLOC, __GFP_NOWARN, __free_pages, alloc_pages, current, spin_lock, spin_unlock, DEFINE_SPINLOCK } from "../../../src/kernel/index.ts";
import { zone_watermark_ok, gfp_to_alloc_flags, gfp_pfmemalloc_flags, ALLOC_WMARK_LOW, ALLOC_OOM, ALLOC_NO_WATERMARKS } from "../../../src/kernel/mm/page_alloc.ts";
import { PF_MEMALLOC } from "../../../src/kernel/sched/task.ts";
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

test("kernel 6: Bad page state in 6.1's dump_page() form", () => {
  const r = inTaskOn(
    () =>
      Effect.gen(function* () {
        const p = (yield* alloc_pages(GFP_KERNEL, 0))!;
        yield* __free_pages(p, 0);
        yield* __free_pages(p, 0);
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  const lines = r.reports[0]!.text.split("\n");
  assert.is(lines[0], "BUG: Bad page state in process t  pfn:03c00");
  assert.match(lines[1]!, /^page:[0-9a-f]{8} refcount:0 mapcount:0 mapping:00000000 index:0x0 pfn:0x3c00$/);
  assert.equal(lines.slice(2, 4), ["flags: 0x0()", "page dumped because: freeing a page that is not allocated"]);
});

test("watermark check: GFP_ATOMIC digs to 3/8 of min, GFP_KERNEL stops at min", () => {
  // Normal min 192: ALLOC_HIGH halves it (96), ALLOC_HARDER takes a quarter off (72).
  const z = { free_pages: 73, lowmem_reserve: [0, 0], free_area: [] } as never;
  assert.ok(zone_watermark_ok("2.6", z, 0, 192, 1, gfp_to_alloc_flags("2.6", GFP_ATOMIC)));
  assert.not.ok(zone_watermark_ok("2.6", z, 0, 192, 1, gfp_to_alloc_flags("2.6", GFP_KERNEL)));
  const z2 = { free_pages: 72, lowmem_reserve: [0, 0], free_area: [] } as never;
  assert.not.ok(zone_watermark_ok("2.6", z2, 0, 192, 1, gfp_to_alloc_flags("2.6", GFP_ATOMIC)));
  assert.ok(zone_watermark_ok("2.6", { free_pages: 241, lowmem_reserve: [0, 0], free_area: [] } as never, 0, 240, 1, ALLOC_WMARK_LOW));
});

/** The lowest free count at which `flags` still passes a min of `mark` (with `reserve` pages of lowmem_reserve). */
function floor_of(era: "2.6" | "6", mark: number, flags: number, reserve = 0): number {
  let free = 0;
  while (!zone_watermark_ok(era, { free_pages: free, lowmem_reserve: [0, reserve], free_area: [] } as never, 0, mark, 1, flags)) free++;
  return free;
}

test("alloc flags: 2.6.34 by __GFP_HIGH and __GFP_WAIT; 6.3+ adds ALLOC_KSWAPD and ALLOC_NON_BLOCK", () => {
  // 2.6.34: ALLOC_HIGH 0x20 = __GFP_HIGH, ALLOC_HARDER 0x10 for !__GFP_WAIT (GFP_NOWAIT is 0).
  assert.equal([GFP_ATOMIC, GFP_NOWAIT, GFP_KERNEL].map((g) => gfp_to_alloc_flags("2.6", g)), [0x30, 0x10, 0]);
  // 6.3+: ALLOC_MIN_RESERVE 0x20, ALLOC_NON_BLOCK 0x10, ALLOC_KSWAPD 0x800 (= __GFP_KSWAPD_RECLAIM);
  // ALLOC_HIGHATOMIC 0x200 for a non-blocking order > 0; __GFP_NOMEMALLOC withholds NON_BLOCK.
  assert.equal([GFP_ATOMIC, GFP_NOWAIT, GFP_KERNEL, GFP_KERNEL | __GFP_HIGH].map((g) => gfp_to_alloc_flags("6", g)), [0x830, 0x810, 0x800, 0x820]);
  assert.is(gfp_to_alloc_flags("6", GFP_ATOMIC, 1), 0xa30);
  assert.is(gfp_to_alloc_flags("6", GFP_NOWAIT | __GFP_NOMEMALLOC), 0x800);
  assert.is(gfp_to_alloc_flags("6", __GFP_HIGH), 0x30);
});

test("6.3+ watermark cuts: GFP_NOWAIT none, GFP_ATOMIC 3/8 of min left, __GFP_HIGH that may block 1/2", () => {
  // min 192. GFP_NOWAIT: no ALLOC_MIN_RESERVE, so it needs free > 192 (2.6.34 cut a quarter: > 144).
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", GFP_NOWAIT)), 193);
  assert.is(floor_of("2.6", 192, gfp_to_alloc_flags("2.6", GFP_NOWAIT)), 145);
  // GFP_ATOMIC: 192 - 96 = 96, - 24 = 72: free > 72, as in 2.6.34.
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", GFP_ATOMIC)), 73);
  // GFP_KERNEL | __GFP_HIGH (may block): half, 96. A bare __GFP_HIGH cannot block: 3/8 again;
  // with __GFP_NOMEMALLOC it is not ALLOC_NON_BLOCK, so half.
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", GFP_KERNEL | __GFP_HIGH)), 97);
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", __GFP_HIGH)), 73);
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", __GFP_HIGH | __GFP_NOMEMALLOC)), 97);
  assert.is(floor_of("6", 192, gfp_to_alloc_flags("6", GFP_KERNEL)), 193);
  // ALLOC_OOM (an OOM victim's flags replace the mask's): 192 - 96 = 96.
  assert.is(floor_of("6", 192, ALLOC_OOM), 97);
  // The class zone's lowmem_reserve adds on: DMA min 64 with 48 reserved for Normal requests.
  // GFP_NOWAIT fails once free <= 64 + 48; GFP_ATOMIC digs to 64 - 32 - 8 = 24, so free > 72.
  assert.is(floor_of("6", 64, gfp_to_alloc_flags("6", GFP_NOWAIT), 48), 113);
  assert.is(floor_of("6", 64, gfp_to_alloc_flags("6", GFP_ATOMIC), 48), 73);
});

test("6.x reserves by context: PF_MEMALLOC and __GFP_MEMALLOC ignore watermarks, an OOM victim gets ALLOC_OOM", () => {
  let seen: number[] = [];
  inTaskOn(
    () =>
      Effect.sync(() => {
        const me = current();
        const at = (era: "2.6" | "6", g: number) => gfp_pfmemalloc_flags(era, g);
        seen.push(at("6", GFP_KERNEL), at("6", GFP_ATOMIC | __GFP_MEMALLOC), at("2.6", GFP_ATOMIC | __GFP_MEMALLOC));
        me.memdie = true;
        seen.push(at("6", GFP_KERNEL), at("2.6", GFP_KERNEL), at("6", GFP_KERNEL | __GFP_NOMEMALLOC));
        me.memdie = false;
        me.flags |= PF_MEMALLOC;
        seen.push(at("6", GFP_KERNEL), at("2.6", GFP_KERNEL), at("6", GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC));
        me.flags &= ~PF_MEMALLOC;
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  // 2.6.34 has no __GFP_MEMALLOC (3.6) and gives an OOM victim no watermarks at all.
  assert.equal(seen, [0, ALLOC_NO_WATERMARKS, 0, ALLOC_OOM, ALLOC_NO_WATERMARKS, 0, ALLOC_NO_WATERMARKS, ALLOC_NO_WATERMARKS, 0]);
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

test("GFP_NOWAIT against GFP_ATOMIC: 6.3+ gives GFP_NOWAIT no reserve, 2.6.34 a quarter of min", () => {
  // Same 64 MiB machine (kernel 6: the same min 192/64; Normal batch 3, DMA batch 1; DMA's
  // lowmem_reserve[Normal] 12288/256 = 48). Normal refills of 3 pass while free > floor and
  // strand 2 pages on the pcp list; DMA refills of 1 pass while free > floor + 48.
  const drain = (era: "2.6" | "6", gfp: number) => {
    let got = 0;
    const r = inTaskOn(
      () =>
        Effect.gen(function* () {
          while ((yield* alloc_pages(gfp, 0)) !== null) got++;
        }),
      { cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 } },
    );
    return { got, titles: r.reports.map((x) => x.title) };
  };
  // 6, GFP_NOWAIT (0x2800, __GFP_NOWARN included): Normal to 192, DMA to 64 + 48; no warning.
  assert.equal(drain("6", GFP_NOWAIT), { got: 12288 - 192 - 2 + (4096 - 112), titles: [] });
  // 6, GFP_ATOMIC: Normal to 72 (3/8 of 192), DMA to 24 + 48.
  assert.equal(drain("6", GFP_ATOMIC), { got: 12288 - 72 - 2 + (4096 - 72), titles: ["t: page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null)"] });
  // 2.6.34, GFP_NOWAIT (0): ALLOC_HARDER alone, Normal to 192 - 48 = 144, DMA to 48 + 48.
  assert.equal(drain("2.6", GFP_NOWAIT), { got: 12288 - 144 - 2 + (4096 - 96), titles: ["t: page allocation failure. order:0, mode:0x0"] });
});

test("kernel 6 wakes kswapd only for __GFP_KSWAPD_RECLAIM; 2.6.34 for every slow-path allocation", () => {
  // A bare __GFP_HIGH cannot block: 3/8 of min in both eras, so the same 12214 + 4024 pages as
  // GFP_ATOMIC; but 6.x's gfp_to_alloc_flags() sets ALLOC_KSWAPD from __GFP_KSWAPD_RECLAIM only.
  const drain = (era: "2.6" | "6") => {
    const out = { got: 0, woken: 0 };
    inTaskOn(
      () =>
        Effect.gen(function* () {
          while ((yield* alloc_pages(__GFP_HIGH | __GFP_NOWARN, 0)) !== null) out.got++;
          out.woken = vm_events().kswapd_wakeups;
        }),
      { cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 } },
    );
    return out;
  };
  const six = drain("6");
  const old = drain("2.6");
  assert.equal(six, { got: 12214 + 4024, woken: 0 });
  assert.is(old.got, 12214 + 4024);
  assert.ok(old.woken > 0, "2.6.34 never woke kswapd");
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
