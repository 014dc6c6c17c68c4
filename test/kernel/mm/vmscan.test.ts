// Reclaim: kswapd balances a node to its high watermarks; dirty pages cost writeback time; aging
// by mark_page_accessed; the verify-mode checker catches broken books.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { mark_page_accessed, msleep, page_cache_fill, alloc_page, GFP_KERNEL, vm_events } from "../../../src/kernel/index.ts";
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE } from "../../../src/kernel/mm/mmzone.ts";
import { PG_active, PG_referenced } from "../../../src/kernel/mm/page-flags.ts";
import type { MachineSpec } from "../../../src/harness/scenario.ts";

// 64 MiB i386: DMA 4096 pages (min/low/high 64/80/96), Normal 12288 (192/240/288); DMA's
// protection against Normal allocations is 12288 / 256 = 48.
const M64: MachineSpec = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } };

test("kswapd reclaims clean page cache until every zone is above its high watermark", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const got = yield* page_cache_fill(16000);
        yield* msleep(300); // kswapd finishes its work and sleeps
        const [dma, normal] = kernel().mm!.zones;
        const ev = vm_events();
        seen.push(got.length, normal!.free_pages > 288 ? 1 : 0, dma!.free_pages > 96 ? 1 : 0, ev.pageoutrun > 0 ? 1 : 0, ev.kswapd_steal > 0 ? 1 : 0);
      }),
    M64,
  );
  assert.equal(r.reports, []);
  // Every page was read in (the oldest were reclaimed to make room), both zones end above high.
  assert.equal(seen, [16000, 1, 1, 1, 1]);
});

function fill_time(dirty: boolean): { ms: number; written: number; rotated: number } {
  const out = { ms: 0, written: 0, rotated: 0 };
  inTask(
    () =>
      Effect.gen(function* () {
        const t0 = kernel().now();
        yield* page_cache_fill(9000, { dirty });
        out.ms = (kernel().now() - t0) / 1e6;
        out.written = kernel().mm!.zones.reduce((s, z) => s + z.stat.nr_vmscan_write, 0);
        out.rotated = vm_events().pgrotated;
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 } },
  );
  return out;
}

test("dirty pages are freed only after writeback (2.5 to 7.5 ms a page here); clean ones at once", () => {
  const clean = fill_time(false);
  const dirty = fill_time(true);
  assert.is(clean.written, 0);
  assert.ok(dirty.written > 0, "reclaim wrote no dirty page");
  assert.ok(dirty.rotated > 0, "no written page was rotated to the inactive tail");
  // At least one writeback (>= 2.5 ms) stands between the dirty fill and its first reclaimed page.
  assert.ok(dirty.ms > clean.ms + 2.5, `dirty fill ${dirty.ms} ms, clean fill ${clean.ms} ms`);
});

test("mark_page_accessed: referenced, then active; the active list gets the page", () => {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const pages = yield* page_cache_fill(10);
        const mm = kernel().mm!;
        const p = pages[0]!;
        yield* mark_page_accessed(p);
        seen.push(mm.mem_map.test(p, PG_referenced), mm.mem_map.test(p, PG_active));
        yield* mark_page_accessed(p);
        seen.push(mm.mem_map.test(p, PG_referenced), mm.mem_map.test(p, PG_active));
        const z = mm.page_zone(p)!;
        seen.push(z.lru[LRU_INACTIVE_FILE]!.count, z.lru[LRU_ACTIVE_FILE]!.count, vm_events().pgactivate);
      }),
    M64,
  );
  assert.equal(r.reports, []);
  assert.equal(seen, [true, false, false, true, 9, 1, 1]);
});

test("verify mode: a free list that disagrees with nr_free stops the run with the numbers", () => {
  // The first order-0 allocation splits an order-10 block; three pages go to the pcp list and
  // the split leaves one order-0 block on the free list.
  assert.throws(
    () =>
      inTask(
        () =>
          Effect.gen(function* () {
            yield* alloc_page(GFP_KERNEL);
            kernel().mm!.zones[1]!.free_area[0]!.nr_free++;
            yield* msleep(1);
          }),
        M64,
        { verify: true },
      ),
    (e: Error) => e.name === "SimError" && e.message.startsWith("verify: node 0 zone Normal: order-0 free list has 1 blocks, nr_free says 2"),
  );
});

test("verify mode passes a run that reclaims, writes back and frees", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        yield* page_cache_fill(3000, { dirty: true });
        yield* page_cache_fill(6000);
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 } },
    { verify: true },
  );
  assert.equal(r.reports, []);
});

test.run();
