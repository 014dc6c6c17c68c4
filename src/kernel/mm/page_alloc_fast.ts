// mm/page_alloc.c's entry points as ops (src/sim/op.ts): alloc_pages_node() with the common case
// of __alloc_pages_nodemask() inline (an order-0 page off this CPU's pcp list), and
// __free_pages() / free_hot_cold_page() (an order-0 page onto it). Each does what the Effect code
// it replaced did, step for step: the same charges, trace events and interleaving point
// (local_irq_restore's, when it turns interrupts back on), with no generator or closure per call.
// The rest continues as Effect code, which the op becomes (BECOME) where that code takes over: an
// empty pcp list or no zone above its low watermark (get_page_from_freelist and the slow path in
// page_alloc.ts), order > 0 or pcp off (the buddy lists under zone->lock), a pcp list past its
// high mark (free_pcppages_bulk). What it leaves out of Linux is page_alloc.ts's list.
import * as Effect from "effect/Effect";
import { BECOME, OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { irq_restore_op, local_irq_restore, local_irq_save, type irqflags_t } from "../irqflags.ts";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock.ts";
import { __might_sleep } from "../sched/core.ts";
import { should_fail_alloc_page } from "../fault_inject.ts";
import { MAX_ORDER, __free_one_page } from "./buddy.ts";
import * as G from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import type { Zone, per_cpu_pages } from "./mmzone.ts";
import { trace_mm_page_free } from "./trace.ts";
import { kasan_poison_pages } from "./kasan.ts";
import {
  ALLOC_WMARK_LOW,
  bad_page,
  buddy_op,
  buddy_rmqueue,
  clear_allocated,
  free_pages_check,
  free_pcppages_bulk,
  general_alloc,
  gfp_zone,
  mm_of,
  pcp_op,
  prep_new_page,
  set_allocated,
  warn_max_order,
  zone_freed,
  zone_statistics,
  zone_watermark_ok,
  zonelist,
  type page,
} from "./page_alloc.ts";

/**
 * Order-0 allocations take the pcp list (or, pcp off, the buddy lists) of the first zone above
 * its low watermark here when they can (tests turn this off to compare: every allocation then
 * goes through get_page_from_freelist's Effect code, which takes the same steps).
 */
export const page_fast_paths = { enabled: true };

/**
 * alloc_pages_node(nid, gfp, order) into __alloc_pages_nodemask(): the checks, then for order 0
 * the first zone of the zonelist above its low watermark; a page on this CPU's pcp list there is
 * taken with interrupts off (buffered_rmqueue). Phases: 0 up to local_irq_restore, which parks
 * when it turns interrupts on; 1 after it: zone_statistics and prep_new_page (act.x holds the
 * zonelist, act.n the page).
 */
class AllocPages extends OpClass {
  constructor(
    readonly nid: number,
    readonly gfp: G.gfp_t,
    readonly order: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const mm = mm_of(k);
    if (act.phase !== 0) return alloc_done(k, mm, act.x as Zone[], mm.page_zone(act.n)!, act.n, this.gfp);
    const gfp = this.gfp;
    const order = this.order;
    if (!Number.isInteger(order) || order < 0) throw new ScenarioError(`alloc_pages: order must be a non-negative integer, got ${order}`);
    let nid = this.nid;
    if (nid === -1) nid = mm.cpu_to_node[k.this_cpu().id]!;
    if (!Number.isInteger(nid) || nid < 0 || nid >= mm.nodes.length) throw new ScenarioError(`alloc_pages_node: no node ${nid} (the machine has ${mm.nodes.length})`);
    if (G.gfpflags_allow_blocking(gfp)) __might_sleep("mm/page_alloc.c", 2116, 0);
    if (should_fail_alloc_page(k, gfp, order)) return null;
    if (order >= MAX_ORDER) {
      warn_max_order(k, mm, gfp);
      return null;
    }
    const high_zoneidx = gfp_zone(mm, gfp);
    const zones = zonelist(mm, nid, high_zoneidx);
    // No zone the mask may use (e.g. GFP_DMA on a machine without ZONE_DMA): NULL at once.
    if (zones.length === 0) return null;
    if (order === 0 && page_fast_paths.enabled) {
      const z = first_zone_above_low(mm, zones);
      if (z !== null && !mm.pcp) {
        act.x = buddy_alloc_order0(mm, zones, z, gfp);
        return BECOME;
      }
      if (z !== null) {
        const pcp = z.pageset[k.this_cpu().id]!;
        if (pcp.count > 0) return pcp_alloc(k, mm, zones, z, pcp, gfp, act);
      }
    }
    act.x = general_alloc(mm, zones, gfp, order, high_zoneidx);
    return BECOME;
  }
}

/** get_page_from_freelist()'s order-0 zone at ALLOC_WMARK_LOW: the first of the zonelist passing its low watermark, or null. */
function first_zone_above_low(mm: MmState, zones: Zone[]): Zone | null {
  const classzone_idx = zones[0]!.idx;
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i]!;
    if (zone_watermark_ok(mm.era, z, 0, z.watermark.low, classzone_idx, ALLOC_WMARK_LOW)) return z;
  }
  return null;
}

/** buffered_rmqueue()'s pcp case with a page there: the head (a cold request: the tail) with interrupts off. */
function pcp_alloc(k: Kernel, mm: MmState, zones: Zone[], z: Zone, pcp: per_cpu_pages, gfp: G.gfp_t, act: Activation): unknown {
  const flags = local_irq_save();
  const p = (gfp & G.__GFP_COLD) !== 0 ? pcp.list.pop() : pcp.list.shift();
  pcp.count--;
  set_allocated(mm, z, p, 0);
  pcp_op(k, z, p);
  if (irq_restore_op(flags)) {
    act.x = zones;
    act.n = p;
    act.phase = 1;
    return PARK;
  }
  return alloc_done(k, mm, zones, z, p, gfp);
}

/** get_page_from_freelist() once the page is off the lists: NUMA statistics, prep_new_page(). */
function alloc_done(k: Kernel, mm: MmState, zones: Zone[], z: Zone, p: page, gfp: G.gfp_t): page {
  if (mm.nodes.length > 1) zone_statistics(mm, zones[0]!, z);
  prep_new_page(k, mm, z, p, 0, gfp);
  return p;
}

/**
 * Order 0 with pcp off: the page straight from the buddy lists of the zone that passed. Another
 * CPU may take the last page while this one waits for zone->lock: then the general path (which
 * goes on to the next zone, then the slow path) takes over.
 */
const buddy_alloc_order0 = (mm: MmState, zones: Zone[], z: Zone, gfp: G.gfp_t): Effect.Effect<page | null> =>
  Effect.flatMap(buddy_rmqueue(kernel(), mm, z, 0), (p) => {
    if (p < 0) return general_alloc(mm, zones, gfp, 0, gfp_zone(mm, gfp));
    alloc_done(kernel(), mm, zones, z, p, gfp);
    return Effect.succeed(p);
  });

/**
 * alloc_pages_node(nid, gfp, order): 2^order contiguous pages, from node `nid` first (-1: the
 * current CPU's node), or null. Context: may sleep if the mask allows it (might_sleep is checked
 * then); GFP_ATOMIC never sleeps and may dig into the reserves.
 */
export const alloc_pages_node = (nid: number, gfp: G.gfp_t, order: number): Effect.Effect<page | null> => op(new AllocPages(nid, gfp, order));
/**
 * alloc_pages(gfp, order): 2^order contiguous pages from the current CPU's node first, or null:
 * alloc_pages_node(-1, gfp, order). Context: may sleep if the mask allows it (might_sleep is
 * checked then); GFP_ATOMIC never sleeps and may dig into the reserves.
 */
export const alloc_pages = (gfp: G.gfp_t, order: number): Effect.Effect<page | null> => op(new AllocPages(-1, gfp, order));
/** alloc_page(gfp): alloc_pages(gfp, 0), one page or null. Context: may sleep if the mask allows it. */
export const alloc_page = (gfp: G.gfp_t): Effect.Effect<page | null> => op(new AllocPages(-1, gfp, 0));

/**
 * __free_pages(page, order): drops a reference; the last one returns the block (the checks of
 * free_pages_check and bad_page, then free_pages_prepared). Phases as FreePagesPrepared's.
 */
class FreePages extends OpClass {
  constructor(
    readonly p: page,
    readonly order: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const mm = mm_of(k);
    if (act.phase !== 0) return free_done(mm);
    const p = this.p;
    const map = mm.mem_map;
    const z = Number.isInteger(p) ? mm.page_zone(p) : undefined;
    if (z === undefined || map._count[p]! <= 0 || mm.alloc_order[p] === -1) {
      bad_page(k, mm, p, z === undefined ? "no such page" : "freeing a page that is not allocated");
      return undefined;
    }
    if (--map._count[p]! > 0) return undefined;
    // free_pages_check(): a page still mapped, in the page cache or on the LRU is not freed.
    const why = free_pages_check(mm, p);
    if (why !== null) {
      bad_page(k, mm, p, why);
      return undefined;
    }
    let order = this.order;
    if (mm.alloc_order[p] !== order) {
      const had = mm.alloc_order[p]!;
      bad_page(k, mm, p, `freed with order ${order}, allocated with order ${had}`);
      order = had; // free what was allocated, so the books stay right
    }
    return free_prepared(k, mm, z, p, order, false, act);
  }
}

/**
 * free_hot_cold_page() / __free_pages_ok() after the checks: the block goes back to the pcp list
 * (order 0) or the buddy lists. Phases: 0 onto the pcp list with interrupts off, up to
 * local_irq_restore, which parks when it turns interrupts on; 1 after it: congestion_wait
 * sleepers are woken.
 */
class FreePagesPrepared extends OpClass {
  constructor(
    readonly mm: MmState,
    readonly z: Zone,
    readonly p: page,
    readonly order: number,
    readonly cold: boolean,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return free_done(this.mm);
    return free_prepared(kernel(), this.mm, this.z, this.p, this.order, this.cold, act);
  }
}

function free_prepared(k: Kernel, mm: MmState, z: Zone, p: page, order: number, cold: boolean, act: Activation): unknown {
  kasan_poison_pages(k, mm.dm, p, order); // free_pages_prepare()
  mm.mem_map.flags[p] = 0;
  mm.ev.pgfree += 1 << order;
  trace_mm_page_free(p, order);
  if (order !== 0 || !mm.pcp) {
    act.x = free_to_buddy(k, mm, z, p, order);
    return BECOME;
  }
  const flags = local_irq_save();
  const pcp = z.pageset[k.this_cpu().id]!;
  if (cold) pcp.list.add_tail(p);
  else pcp.list.add(p);
  clear_allocated(mm, z, p, 0);
  pcp.count++;
  pcp_op(k, z, p);
  if (pcp.count >= pcp.high) {
    act.x = Effect.flatMap(free_pcppages_bulk(z, pcp.batch, pcp), () => restore_and_wake(mm, flags));
    return BECOME;
  }
  if (irq_restore_op(flags)) {
    act.phase = 1;
    return PARK;
  }
  return free_done(mm);
}

/** Pages came back: congestion_wait sleepers may retry. */
function free_done(mm: MmState): undefined {
  mm.wake_congested();
  return undefined;
}

const restore_and_wake = (mm: MmState, flags: irqflags_t): Effect.Effect<void> => Effect.map(local_irq_restore(flags), () => free_done(mm));

/** __free_pages_ok(): the block back into the buddy lists under zone->lock. */
const free_to_buddy = (k: Kernel, mm: MmState, z: Zone, p: page, order: number): Effect.Effect<void> =>
  Effect.flatMap(spin_lock_irqsave(z.lock), (flags) => {
    zone_freed(z);
    clear_allocated(mm, z, p, order);
    __free_one_page(z, p, order);
    buddy_op(k, z, p);
    return Effect.map(spin_unlock_irqrestore(z.lock, flags), () => free_done(mm));
  });

/** free_hot_cold_page() / __free_pages_ok(): the block at `p` of zone `z` goes back (`cold`: to the pcp list's tail). */
export const free_pages_prepared = (mm: MmState, z: Zone, p: number, order: number, cold: boolean): Effect.Effect<void> => op(new FreePagesPrepared(mm, z, p, order, cold));

/** __free_pages(page, order): drops a reference; the last one returns the block. Context: any. */
export const __free_pages = (p: page, order: number): Effect.Effect<void> => op(new FreePages(p, order));
/** __free_page(page): __free_pages(page, 0): drops a reference; the last one frees the page. Context: any; never sleeps. */
export const __free_page = (p: page): Effect.Effect<void> => op(new FreePages(p, 0));
