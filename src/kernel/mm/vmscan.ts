// mm/vmscan.c (2.6.34) reduced: kswapd per node (woken below the low watermark, balancing its
// zones up to the high watermark), direct reclaim (try_to_free_pages with the priority loop),
// shrink_zone over the file LRU lists (get_scan_count with no swap: anonymous pages are never
// scanned), shrink_active_list deactivation, shrink_inactive_list + shrink_page_list with
// page_check_references, pageout of dirty pages and the all_unreclaimable heuristic.
// Not modelled: swap, lumpy reclaim, slab shrinkers, mapped pages (no rmap), memcg, zone_reclaim.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { cond_resched, current, kthread_run, schedule } from "../sched/core.ts";
import { PF_KSWAPD, PF_MEMALLOC, TASK_INTERRUPTIBLE } from "../sched/task.ts";
import { spin_lock_irq, spin_unlock_irq } from "../locking/spinlock.ts";
import { DEFINE_WAIT, finish_wait, prepare_to_wait, __wake_up } from "../sched/wait.ts";
import { schedule_timeout } from "../time/sleep.ts";
import { __GFP_FS, type gfp_t } from "./gfp.ts";
import { LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, type Zone } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import { PG_active, PG_dirty, PG_lru, PG_referenced, PG_swapbacked, PG_writeback } from "./page-flags.ts";
import { SWAP_CLUSTER_MAX } from "./watermarks.ts";
import { add_page_to_lru_list, is_active_lru, is_file_lru, page_lru } from "./swap.ts";
import { pageout } from "./page-writeback.ts";
import { remove_from_page_cache } from "./filemap.ts";
import { congestion_wait, free_pages_prepared, gfp_zone, zone_watermark_ok, PAGE_ALLOC_COSTLY_ORDER } from "./page_alloc.ts";
import { trace_mm_vmscan_direct_reclaim_begin, trace_mm_vmscan_direct_reclaim_end, trace_mm_vmscan_kswapd_wake, trace_mm_vmscan_wakeup_kswapd } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

export const DEF_PRIORITY = 12;
/** Virtual cost of looking at one page on an LRU list (isolate + check), ns. */
const SCAN_NS = 150;

interface ScanControl {
  readonly gfp_mask: gfp_t;
  readonly order: number;
  readonly nr_to_reclaim: number;
  nr_scanned: number;
  nr_reclaimed: number;
  may_writepage: boolean;
  all_unreclaimable: boolean;
  readonly kswapd: boolean;
}

/** zone_reclaimable_pages(): file LRU pages (anonymous ones need swap, which there is none of). */
export const zone_reclaimable_pages = (z: Zone): number => z.lru[LRU_ACTIVE_FILE]!.count + z.lru[LRU_INACTIVE_FILE]!.count;

/** nr_scan_try_batch(): accumulates small scan counts until they reach SWAP_CLUSTER_MAX. */
function nr_scan_try_batch(nr_to_scan: number, saved: number[], l: number): number {
  const nr = saved[l]! + nr_to_scan;
  if (nr >= SWAP_CLUSTER_MAX) {
    saved[l] = 0;
    return nr;
  }
  saved[l] = nr;
  return 0;
}

/** isolate_lru_pages(): up to `nr` pages from the tail of `lru` (caller holds lru_lock). */
function isolate_lru_pages(mm: MmState, z: Zone, lru: number, nr: number): number[] {
  const list = z.lru[lru]!;
  const out: number[] = [];
  while (out.length < nr && list.count > 0) {
    const p = list.pop();
    mm.mem_map.clear(p, PG_lru);
    out.push(p);
  }
  if (is_file_lru(lru)) z.stat.nr_isolated_file += out.length;
  else z.stat.nr_isolated_anon += out.length;
  return out;
}

function unisolate(z: Zone, lru: number, n: number): void {
  if (is_file_lru(lru)) z.stat.nr_isolated_file -= n;
  else z.stat.nr_isolated_anon -= n;
}

/** shrink_active_list(): moves unreferenced pages from the active list to the inactive one. */
function* shrink_active_list(mm: MmState, nr_pages: number, z: Zone, sc: ScanControl, lru_active: number): Effect.fn.Return<void> {
  yield* spin_lock_irq(z.lru_lock);
  const pages = isolate_lru_pages(mm, z, lru_active, nr_pages);
  z.pages_scanned += pages.length;
  z.ev.pgrefill += pages.length;
  yield* spin_unlock_irq(z.lru_lock);
  kernel().charge(pages.length * SCAN_NS);
  // page_referenced() is 0 for pages no process maps, so every isolated page is deactivated.
  yield* spin_lock_irq(z.lru_lock);
  for (const p of pages) {
    mm.mem_map.clear(p, PG_active);
    add_page_to_lru_list(mm, z, p, lru_active - 1);
  }
  mm.ev.pgdeactivate += pages.length;
  unisolate(z, lru_active, pages.length);
  yield* spin_unlock_irq(z.lru_lock);
}

const PAGEREF_RECLAIM = 0;
const PAGEREF_RECLAIM_CLEAN = 1;

/** shrink_page_list(): frees what it can of `pages`; returns the kept ones. */
function* shrink_page_list(mm: MmState, z: Zone, pages: number[], sc: ScanControl): Effect.fn.Return<{ kept: number[]; freed: number }> {
  const m = mm.mem_map;
  const kept: number[] = [];
  let freed = 0;
  const may_enter_fs = (sc.gfp_mask & __GFP_FS) !== 0;
  for (const p of pages) {
    yield* cond_resched();
    if (m.test(p, PG_writeback)) {
      kept.push(p);
      continue;
    }
    // page_check_references() for a page no process maps.
    const referenced_page = m.test(p, PG_referenced);
    m.clear(p, PG_referenced);
    const refs = sc.order > PAGE_ALLOC_COSTLY_ORDER || !referenced_page ? PAGEREF_RECLAIM : PAGEREF_RECLAIM_CLEAN;
    if (m.test(p, PG_swapbacked)) {
      // Anonymous: add_to_swap() fails without swap, so activate_locked.
      m.set(p, PG_active);
      mm.ev.pgactivate++;
      kept.push(p);
      continue;
    }
    if (m.test(p, PG_dirty)) {
      if (refs === PAGEREF_RECLAIM_CLEAN || !may_enter_fs || !sc.may_writepage) {
        kept.push(p);
        continue;
      }
      pageout(mm, p);
      kept.push(p);
      continue;
    }
    remove_from_page_cache(mm, p);
    m._count[p] = 0;
    yield* free_pages_prepared(mm, z, p, 0, true);
    freed++;
  }
  return { kept, freed };
}

/** shrink_inactive_list(): isolates up to `nr_to_scan` pages from the inactive tail and reclaims them. */
function* shrink_inactive_list(mm: MmState, nr_to_scan: number, z: Zone, sc: ScanControl, lru: number): Effect.fn.Return<number> {
  yield* spin_lock_irq(z.lru_lock);
  const pages = isolate_lru_pages(mm, z, lru, Math.min(nr_to_scan, SWAP_CLUSTER_MAX));
  z.pages_scanned += pages.length;
  if (sc.kswapd) z.ev.pgscan_kswapd += pages.length;
  else z.ev.pgscan_direct += pages.length;
  sc.nr_scanned += pages.length;
  yield* spin_unlock_irq(z.lru_lock);
  kernel().charge(pages.length * SCAN_NS);
  const { kept, freed } = yield* shrink_page_list(mm, z, pages, sc);
  if (sc.kswapd) mm.ev.kswapd_steal += freed;
  z.ev.pgsteal += freed;
  yield* spin_lock_irq(z.lru_lock);
  for (const p of kept) add_page_to_lru_list(mm, z, p, page_lru(mm, p));
  unisolate(z, lru, pages.length);
  yield* spin_unlock_irq(z.lru_lock);
  return freed;
}

/** shrink_list(): active lists are only aged (when the inactive one is low), inactive ones reclaimed. */
function* shrink_list(mm: MmState, l: number, nr_to_scan: number, z: Zone, sc: ScanControl): Effect.fn.Return<number> {
  if (is_active_lru(l)) {
    // inactive_file_is_low(): more active than inactive file pages.
    if (z.lru[l]!.count > z.lru[l - 1]!.count) yield* shrink_active_list(mm, nr_to_scan, z, sc, l);
    return 0;
  }
  return yield* shrink_inactive_list(mm, nr_to_scan, z, sc, l);
}

/** shrink_zone(): get_scan_count() without swap (file lists only), then scan in SWAP_CLUSTER_MAX chunks. */
function* shrink_zone(mm: MmState, priority: number, z: Zone, sc: ScanControl): Effect.fn.Return<void> {
  const nr = [0, 0, 0, 0];
  for (const l of [LRU_INACTIVE_FILE, LRU_ACTIVE_FILE]) nr[l] = nr_scan_try_batch(z.lru[l]!.count >> priority, z.nr_saved_scan, l);
  let nr_reclaimed = sc.nr_reclaimed;
  while (nr[LRU_INACTIVE_ANON]! || nr[LRU_ACTIVE_FILE]! || nr[LRU_INACTIVE_FILE]!) {
    for (const l of [LRU_INACTIVE_FILE, LRU_ACTIVE_FILE]) {
      if (nr[l]! === 0) continue;
      const n = Math.min(nr[l]!, SWAP_CLUSTER_MAX);
      nr[l]! -= n;
      nr_reclaimed += yield* shrink_list(mm, l, n, z, sc);
    }
    if (nr_reclaimed >= sc.nr_to_reclaim && priority < DEF_PRIORITY) break;
  }
  sc.nr_reclaimed = nr_reclaimed;
}

/**
 * try_to_free_pages(): direct reclaim over the zonelist, priority 12 down to 0, until 32 pages
 * are freed. Returns as 2.6.34's do_try_to_free_pages(): the pages freed once they reach 32;
 * otherwise, after priority 0, the pages freed (0 too) if its last pass found a zone that is not
 * all_unreclaimable, else 0 whatever was freed (the allocator's did_some_progress: 0 means the
 * OOM path). Not 2.6.35+'s "1 while any zone is reclaimable". Context: may sleep.
 */
export const try_to_free_pages = gen_fn(function* try_to_free_pages(mm: MmState, zones: Zone[], order: number, gfp: gfp_t): Effect.fn.Return<number> {
  const k = kernel();
  yield* cond_resched();
  const sc: ScanControl = { gfp_mask: gfp, order, nr_to_reclaim: SWAP_CLUSTER_MAX, nr_scanned: 0, nr_reclaimed: 0, may_writepage: true, all_unreclaimable: true, kswapd: false };
  mm.ev.allocstall_zone[gfp_zone(mm, gfp)]!++;
  trace_mm_vmscan_direct_reclaim_begin(k, order);
  let total_scanned = 0;
  let priority = DEF_PRIORITY;
  for (; priority >= 0; priority--) {
    sc.nr_scanned = 0;
    // shrink_zones()
    sc.all_unreclaimable = true;
    for (const z of zones) {
      z.prev_priority = Math.min(z.prev_priority, priority); // note_zone_scanning_priority
      if (z.all_unreclaimable && priority !== DEF_PRIORITY) continue;
      sc.all_unreclaimable = false;
      yield* shrink_zone(mm, priority, z, sc);
    }
    total_scanned += sc.nr_scanned;
    if (sc.nr_reclaimed >= sc.nr_to_reclaim) break;
    if (sc.nr_scanned > 0 && priority < DEF_PRIORITY - 2) yield* congestion_wait(mm, Math.floor(k.config.hz / 10));
  }
  // out: the zones remember the priority this reclaim reached.
  for (const z of zones) z.prev_priority = Math.max(priority, 0);
  trace_mm_vmscan_direct_reclaim_end(k, sc.nr_reclaimed, total_scanned);
  // "top priority shrink_zones still had more to do? don't OOM, then": ret = nr_reclaimed.
  return sc.nr_reclaimed >= sc.nr_to_reclaim || !sc.all_unreclaimable ? sc.nr_reclaimed : 0;
});

const ok_high = (mm: MmState, z: Zone, order: number, classzone: number, mult = 1): boolean =>
  zone_watermark_ok(mm.era, z, order, mult * z.watermark.high, classzone, 0);

/** One pass of balance_pgdat() over the priorities; returns whether every zone is balanced. */
function* balance_pass(mm: MmState, zones: Zone[], order: number, sc: ScanControl): Effect.fn.Return<boolean> {
  const k = kernel();
  let total_scanned = 0;
  let all_zones_ok = true;
  const temp_priority = zones.map(() => DEF_PRIORITY);
  for (let priority = DEF_PRIORITY; priority >= 0; priority--) {
    all_zones_ok = true;
    let has_under_min = false;
    let end_zone = -1;
    // The highest zone that needs balancing, scanning from highmem down.
    for (let i = zones.length - 1; i >= 0; i--) {
      const z = zones[i]!;
      if (!z.populated || (z.all_unreclaimable && priority !== DEF_PRIORITY)) continue;
      if (!ok_high(mm, z, order, 0)) {
        end_zone = i;
        break;
      }
    }
    if (end_zone < 0) break;
    for (let i = 0; i <= end_zone; i++) {
      const z = zones[i]!;
      if (!z.populated || (z.all_unreclaimable && priority !== DEF_PRIORITY)) continue;
      if (!ok_high(mm, z, order, end_zone)) all_zones_ok = false;
      temp_priority[i] = priority;
      z.prev_priority = Math.min(z.prev_priority, priority);
      sc.nr_scanned = 0;
      if (!ok_high(mm, z, order, end_zone, 8)) yield* shrink_zone(mm, priority, z, sc);
      k.charge(1000); // the zone visit itself
      total_scanned += sc.nr_scanned;
      if (z.all_unreclaimable) continue;
      if (z.pages_scanned >= zone_reclaimable_pages(z) * 6) z.all_unreclaimable = true;
      if (!ok_high(mm, z, order, end_zone)) {
        all_zones_ok = false;
        if (!zone_watermark_ok(mm.era, z, order, z.watermark.min, end_zone, 0)) has_under_min = true;
      }
    }
    if (all_zones_ok) break;
    if (total_scanned > 0 && priority < DEF_PRIORITY - 2) {
      if (has_under_min) mm.ev.kswapd_skip_congestion_wait++;
      else yield* congestion_wait(mm, Math.floor(k.config.hz / 10));
    }
    if (sc.nr_reclaimed >= SWAP_CLUSTER_MAX) break;
  }
  zones.forEach((z, i) => (z.prev_priority = temp_priority[i]!));
  return all_zones_ok;
}

/** balance_pgdat(): reclaims until every zone of the node is above its high watermark. */
function* balance_pgdat(mm: MmState, nid: number, order: number): Effect.fn.Return<number> {
  const zones = mm.nodes[nid]!.node_zones;
  let reclaimed = 0;
  for (;;) {
    const sc: ScanControl = { gfp_mask: 0xffffffff, order, nr_to_reclaim: Number.MAX_SAFE_INTEGER, nr_scanned: 0, nr_reclaimed: 0, may_writepage: true, all_unreclaimable: true, kswapd: true };
    mm.ev.pageoutrun++;
    const ok = yield* balance_pass(mm, zones, order, sc);
    reclaimed += sc.nr_reclaimed;
    if (ok) return reclaimed;
    yield* cond_resched();
    // Fragmentation may keep a high order from balancing: fall back to order 0.
    if (sc.nr_reclaimed < SWAP_CLUSTER_MAX) order = 0;
  }
}

/** sleeping_prematurely(): a zone (not all_unreclaimable) is still below its high watermark. */
function sleeping_prematurely(mm: MmState, nid: number, order: number, remaining: number): boolean {
  if (remaining > 0) return true;
  for (const z of mm.nodes[nid]!.node_zones) {
    if (!z.populated || z.all_unreclaimable) continue;
    if (!ok_high(mm, z, order, 0)) return true;
  }
  return false;
}

/** The kswapd thread of node `nid`. */
const kswapd = gen_fn(function* kswapd(mm: MmState, nid: number): Effect.fn.Return<void> {
  const k = kernel();
  const r = mm.reclaim[nid]!;
  current().flags |= PF_MEMALLOC | PF_KSWAPD;
  let order = 0;
  const wait = DEFINE_WAIT();
  for (;;) {
    prepare_to_wait(r.kswapd_wait, wait, TASK_INTERRUPTIBLE);
    const new_order = r.kswapd_max_order;
    r.kswapd_max_order = 0;
    if (order < new_order) order = new_order;
    else {
      let remaining = 0;
      if (!sleeping_prematurely(mm, nid, order, remaining)) {
        remaining = yield* schedule_timeout(Math.floor(k.config.hz / 10));
        finish_wait(r.kswapd_wait, wait);
        prepare_to_wait(r.kswapd_wait, wait, TASK_INTERRUPTIBLE);
      }
      if (!sleeping_prematurely(mm, nid, order, remaining)) yield* schedule();
      else if (remaining > 0) mm.ev.kswapd_low_wmark_hit_quickly++;
      else mm.ev.kswapd_high_wmark_hit_quickly++;
      order = r.kswapd_max_order;
    }
    finish_wait(r.kswapd_wait, wait);
    trace_mm_vmscan_kswapd_wake(k, nid, order);
    yield* balance_pgdat(mm, nid, order);
  }
});

/** kswapd_run(): starts kswapd<nid> on the node's CPUs (boot). */
export function kswapd_run(mm: MmState, nid: number): void {
  const cpus = mm.nodes[nid]!.cpus;
  mm.reclaim[nid]!.kswapd = kthread_run(() => kswapd(mm, nid), null, `kswapd${nid}`, { kernelThread: true, ...(cpus.length > 0 ? { cpus } : {}) });
}

/** wakeup_kswapd(): called by the allocator for each zone of its zonelist. Context: any. */
export function wakeup_kswapd(mm: MmState, z: Zone, order: number): void {
  if (!z.populated) return;
  if (zone_watermark_ok(mm.era, z, order, z.watermark.low, 0, 0)) return;
  const r = mm.reclaim[z.node]!;
  if (r.kswapd_max_order < order) r.kswapd_max_order = order;
  if (r.kswapd_wait.task_list.length === 0) return;
  mm.ev.kswapd_wakeups++;
  trace_mm_vmscan_wakeup_kswapd(z.node, z.idx, order);
  __wake_up(r.kswapd_wait, TASK_INTERRUPTIBLE, 1);
}
