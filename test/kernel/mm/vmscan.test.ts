// Reclaim: kswapd balances a node to its high watermarks; dirty pages cost writeback time; aging
// by mark_page_accessed; the verify-mode checker catches broken books.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { mark_page_accessed, msleep, page_cache_fill, alloc_page, GFP_KERNEL, vm_events } from "../../../src/kernel/index.ts";
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE } from "../../../src/kernel/mm/mmzone.ts";
import { try_to_free_pages } from "../../../src/kernel/mm/vmscan.ts";
import { gfp_zone, zonelist } from "../../../src/kernel/mm/page_alloc.ts";
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

/**
 * One direct reclaim on the 64 MiB machine after reading `cached` clean pages (all in Normal, on
 * its inactive file list), with `prepare` run first; what try_to_free_pages returned, the
 * pages it freed and how many are left on Normal's inactive list.
 */
function direct_reclaim(cached: number, prepare: () => void = () => {}): number[] {
  const out: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        yield* page_cache_fill(cached);
        const mm = kernel().mm!;
        prepare();
        const ret = yield* try_to_free_pages(mm, zonelist(mm, 0, gfp_zone(mm, GFP_KERNEL)), 0, GFP_KERNEL);
        out.push(ret, mm.zones[1]!.ev.pgsteal, mm.zones[1]!.lru[LRU_INACTIVE_FILE]!.count);
      }),
    M64,
  );
  return out;
}

// 2.6.34 do_try_to_free_pages(): ret = nr_reclaimed once it reaches nr_to_reclaim (32); after
// priority 0, ret = nr_reclaimed if the last shrink_zones() found a zone that is not
// all_unreclaimable (sc->all_unreclaimable == 0), else ret stays 0. The "return 1 if a zone is
// still reclaimable" rule is 2.6.35's (bb21c7ce) and 2.6.36's all_unreclaimable(); 2.6.34 has
// neither.
test("try_to_free_pages (2.6.34): fewer than 32 reclaimed and zones reclaimable: returns what it freed", () => {
  // 20 pages: the inactive scan count is 20 >> priority, batched until 32 (nr_scan_try_batch):
  // 1 at priority 4, 3, 8, 18, then 38 at priority 0, which scans all 20 and frees them.
  assert.equal(direct_reclaim(20), [20, 20, 0]);
});

test("try_to_free_pages (2.6.34): nothing reclaimable but no zone all_unreclaimable: 0, not 1", () => {
  // No page cache: nothing to scan at any priority. 2.6.35+ would return 1 here (no OOM).
  assert.equal(direct_reclaim(0), [0, 0, 0]);
});

test("try_to_free_pages (2.6.34): every zone all_unreclaimable: 0 even with pages freed at priority 12", () => {
  // kswapd gave up on both zones, and earlier passes left Normal's batched scan count at 32:
  // priority 12 scans them anyway (priority == DEF_PRIORITY) and frees all 10 pages, which stay
  // on the pcp list (2 + 10 < high 18, so no free_pcppages_bulk clears all_unreclaimable);
  // priorities 11..0 skip both zones, so the last pass leaves sc->all_unreclaimable set.
  const ret = direct_reclaim(10, () => {
    for (const z of kernel().mm!.zones) z.all_unreclaimable = true;
    kernel().mm!.zones[1]!.nr_saved_scan[LRU_INACTIVE_FILE] = 32;
  });
  assert.equal(ret, [0, 10, 0]);
});

test.run();
