// mm/page_alloc.c (2.6.34 control flow, the chosen era's watermark check): the zone allocator in
// front of the buddy lists. Order-0 pages go through the per-CPU pagesets with local interrupts
// off (rmqueue_bulk / free_pcppages_bulk take zone->lock), larger orders take zone->lock with
// spin_lock_irqsave. The slow path wakes kswapd, retries at the min watermark with the caller's
// reductions, lets PF_MEMALLOC / TIF_MEMDIE callers ignore watermarks (6.x: an OOM victim gets
// ALLOC_OOM, down to half of min), fails a caller that cannot sleep (allocation-failure warning +
// Mem-Info), and otherwise does direct reclaim, calls the OOM killer when reclaim made no
// progress, and sleeps in congestion_wait(HZ/50) before reclaiming again. Kernel 6 keeps that
// flow but with 6.x's steps where they differ: alloc flags as 6.3+'s gfp_to_alloc_flags (only
// __GFP_HIGH reaches below min; kswapd woken only for __GFP_KSWAPD_RECLAIM), a freelist try at
// each retry, and direct reclaim's drain-and-retry of the pcp lists (2.6.34 drains only for
// order > 0, before its one try).
// A `page` is its pfn (struct page * in Linux); null is NULL. No migrate types, no compaction
// (2.6.35+), no highatomic reserve, no cpusets or mempolicies: every node is allowed; no rt tasks
// (2.6.34's ALLOC_HARDER, 6.x's ALLOC_MIN_RESERVE for them). Each zone counts its allocated pages
// (nr_allocated) where alloc_order is set and cleared, for verify mode's per-step conservation check.
// The entry points (alloc_pages_node, __free_pages, free_pages_prepared) and their order-0 pcp
// cases are ops in page_alloc_fast.ts; this file holds what they continue into.
import { kmem_cache_init } from "./kmalloc.ts";
import * as Effect from "effect/Effect";
import { with_frames } from "../frames.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { cond_resched, current, in_interrupt, preempt_count } from "../sched/core.ts";
import { PF_MEMALLOC } from "../sched/task.ts";
import { SOFTIRQ_OFFSET } from "../preempt.ts";
import { local_irq_restore, local_irq_save } from "../irqflags.ts";
import { spin_lock, spin_lock_init, spin_unlock, spinlock_t } from "../locking/spinlock.ts";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../locking/spinlock.ts";
import { dump_stack } from "../dumpstack.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { wait_event_timeout } from "../sched/wait.ts";
import { MAX_ORDER, __free_one_page, __rmqueue_smallest } from "./buddy.ts";
import * as G from "./gfp.ts";
import { build_memory, node_fallback, ZONE_NAMES, type MemorySpec, type Zone } from "./mmzone.ts";
import { MmState } from "./mm_state.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "./watermarks.ts";
import { trace_mm_page_alloc } from "./trace.ts";
import { try_to_free_pages, wakeup_kswapd, kswapd_run } from "./vmscan.ts";
import { out_of_memory } from "./oom_kill.ts";
import { show_mem } from "./show_mem.ts";
import { writeback_init } from "./page-writeback.ts";
import * as P from "./page.ts";
import * as F from "./page-flags.ts";
import type { kaddr_t } from "./page.ts";
import { kasan_unpoison_pages } from "./kasan.ts";

/** A page frame (struct page * in Linux), represented by its pfn; NULL is null. */
export type page = number;
export { MmState };
// The entry points are ops (page_alloc_fast.ts); kernel code imports them from here.
export { alloc_pages_node, alloc_pages, alloc_page, __free_pages, __free_page, free_pages_prepared } from "./page_alloc_fast.ts";
import { alloc_pages, __free_pages } from "./page_alloc_fast.ts";
import { gen_fn } from "../gen_fn.ts";

export const ALLOC_WMARK_MIN = 0x00;
export const ALLOC_WMARK_LOW = 0x01;
export const ALLOC_WMARK_HIGH = 0x02;
export const ALLOC_NO_WATERMARKS = 0x04;
/** 6.x: an OOM victim's access to part of the reserves (mm/internal.h). */
export const ALLOC_OOM = 0x08;
/** 2.6.34: the caller cannot sleep (or is rt). Its 6.3+ successor ALLOC_NON_BLOCK has the same bit. */
export const ALLOC_HARDER = 0x10;
export const ALLOC_NON_BLOCK = 0x10;
/** 2.6.34: __GFP_HIGH. Its 6.3+ successor ALLOC_MIN_RESERVE has the same bit. */
export const ALLOC_HIGH = 0x20;
export const ALLOC_MIN_RESERVE = 0x20;
/** 6.x: a non-blocking order > 0 request (may use the highatomic reserve, which mmsim does not keep). */
export const ALLOC_HIGHATOMIC = 0x200;
/** 6.x: the slow path wakes kswapd (__GFP_KSWAPD_RECLAIM). */
export const ALLOC_KSWAPD = 0x800;
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** mem_init(): builds the nodes and zones (every page free), their locks, and starts kswapd. */
export function mem_init(k: Kernel, mem: MemorySpec): MmState {
  const layout = build_memory(mem, k.percpu.length);
  for (const z of layout.zones) {
    // Empty zones get locks that nothing takes, kept out of the lock statistics.
    z.lock = z.populated ? spin_lock_init("&zone->lock") : new spinlock_t("&zone->lock");
    z.lru_lock = z.populated ? spin_lock_init("&zone->lru_lock") : new spinlock_t("&zone->lru_lock");
  }
  const mm = new MmState(layout, k.percpu.length, k);
  k.mm = mm;
  const kb = (p: number) => p << (PAGE_SHIFT - 10);
  const total = layout.zones.reduce((s, z) => s + z.managed_pages, 0);
  k.printk(`Memory: ${kb(total)}k available, min_free_kbytes ${layout.min_free_kbytes}`);
  writeback_init(k, mm, mem.writeback_us ?? 5000);
  kmem_cache_init(k, mm, mem.slab_colouring ?? true, mem.debug_slab ?? false);
  for (const n of layout.nodes) kswapd_run(mm, n.node_id);
  return mm;
}

export function mm_of(k: Kernel): MmState {
  if (k.mm === null) throw new ScenarioError("this machine has no memory configured (machine.memory or --machine FILE)");
  return k.mm;
}

/** The zone types gfp_zone() picks from, per arch: __GFP_DMA32's, __GFP_HIGHMEM's, with __GFP_MOVABLE, and the default. */
interface GfpZones {
  readonly dma32: number;
  readonly highmem: number;
  readonly movable: number;
  readonly normal: number;
}
const gfp_zones = (arch: keyof typeof ZONE_NAMES): GfpZones => {
  const idx = (n: string) => ZONE_NAMES[arch].indexOf(n);
  return { dma32: arch === "x86_64" ? idx("DMA32") : idx("Normal"), highmem: arch === "i386" ? idx("HighMem") : idx("Normal"), movable: idx("Movable"), normal: idx("Normal") };
};
const GFP_ZONES = { i386: gfp_zones("i386"), x86_64: gfp_zones("x86_64") };

/** gfp_zone(): the highest zone type the mask may use. */
export function gfp_zone(mm: MmState, gfp: G.gfp_t): number {
  const t = GFP_ZONES[mm.arch];
  if (gfp & G.__GFP_DMA) return 0;
  if (gfp & G.__GFP_DMA32) return t.dma32;
  if (gfp & G.__GFP_HIGHMEM) return gfp & G.__GFP_MOVABLE ? t.movable : t.highmem;
  return t.normal;
}

/**
 * 2.6.34 default_zonelist_order(): zone order (keeping DMA/DMA32 for last) when the low zones
 * are small against the rest, node order when there are none, they are more than half of
 * memory, or they make up more than 70 % of a larger-than-average node. 4.14+ always uses node
 * order.
 */
function zone_order(mm: MmState): boolean {
  if (mm.era !== "2.6" || mm.nodes.length === 1) return false;
  const normal = ZONE_NAMES[mm.arch].indexOf("Normal");
  let low = 0;
  let total = 0;
  for (const n of mm.nodes) {
    for (const z of n.node_zones) {
      if (!z.populated) continue;
      if (z.idx < normal) low += z.present_pages;
      total += z.present_pages;
    }
  }
  if (low === 0 || low > total / 2) return false;
  const with_memory = mm.nodes.filter((n) => n.node_zones.some((z) => z.populated)).length;
  const average = Math.floor(total / (with_memory + 1));
  for (const n of mm.nodes) {
    const l = n.node_zones.filter((z) => z.populated && z.idx < normal).reduce((s, z) => s + z.present_pages, 0);
    const t = n.node_zones.filter((z) => z.populated).reduce((s, z) => s + z.present_pages, 0);
    if (l > 0 && t > average && l > Math.floor((t * 70) / 100)) return false;
  }
  return true;
}

/**
 * The zonelist of node `nid` for allocations up to zone type `high_zoneidx`, populated zones
 * only: built on first use and kept in the node (pg_data_t.node_zonelists, one per zone type).
 */
export function zonelist(mm: MmState, nid: number, high_zoneidx: number): Zone[] {
  const lists = mm.nodes[nid]!.node_zonelists;
  return lists[high_zoneidx] ?? (lists[high_zoneidx] = build_zonelist(mm, nid, high_zoneidx));
}

function build_zonelist(mm: MmState, nid: number, high_zoneidx: number): Zone[] {
  const order = node_fallback(mm.nodes.length, nid);
  const types = Array.from({ length: high_zoneidx + 1 }, (_, i) => high_zoneidx - i);
  const zl = zone_order(mm)
    ? types.flatMap((t) => order.map((n) => mm.nodes[n]!.node_zones[t]!))
    : order.flatMap((n) => types.map((t) => mm.nodes[n]!.node_zones[t]!));
  return zl.filter((z) => z.populated);
}

/** 2.6.34: ALLOC_HIGH takes half of min off, ALLOC_HARDER a quarter of what is left. */
function reserve_min_26(mark: number, alloc_flags: number): number {
  let min = mark;
  if (alloc_flags & ALLOC_HIGH) min -= Math.floor(min / 2);
  if (alloc_flags & ALLOC_HARDER) min -= Math.floor(min / 4);
  return min;
}

/**
 * 6.3+: only ALLOC_MIN_RESERVE (__GFP_HIGH) reaches below min, half of it, and a further quarter
 * if it also cannot block (GFP_ATOMIC: 3/8 left; GFP_NOWAIT: no cut); ALLOC_OOM halves what is left.
 */
function reserve_min_6(mark: number, alloc_flags: number): number {
  let min = mark;
  if (alloc_flags & ALLOC_MIN_RESERVE) {
    min -= Math.floor(min / 2);
    if (alloc_flags & ALLOC_NON_BLOCK) min -= Math.floor(min / 4);
  }
  if (alloc_flags & ALLOC_OOM) min -= Math.floor(min / 2);
  return min;
}

/** __zone_watermark_ok(): 2.6 walks the lower orders; 4.x+ asks for any free block big enough. */
export function zone_watermark_ok(era: G.Era, z: Zone, order: number, mark: number, classzone_idx: number, alloc_flags: number): boolean {
  let min = era === "2.6" ? reserve_min_26(mark, alloc_flags) : reserve_min_6(mark, alloc_flags);
  let free_pages = z.free_pages - (1 << order) + 1;
  if (free_pages <= min + (z.lowmem_reserve[classzone_idx] ?? 0)) return false;
  if (era === "2.6") {
    for (let o = 0; o < order; o++) {
      free_pages -= z.free_area[o]!.nr_free << o;
      min >>= 1;
      if (free_pages <= min) return false;
    }
    return true;
  }
  if (order === 0) return true;
  for (let o = order; o < MAX_ORDER; o++) if (z.free_area[o]!.nr_free > 0) return true;
  return false;
}

/**
 * gfp_to_alloc_flags(): watermark min and the mask's claim on the reserves. 2.6.34: __GFP_HIGH ->
 * ALLOC_HIGH, cannot sleep -> ALLOC_HARDER. 6.3+: __GFP_HIGH -> ALLOC_MIN_RESERVE,
 * __GFP_KSWAPD_RECLAIM -> ALLOC_KSWAPD, cannot sleep and not __GFP_NOMEMALLOC -> ALLOC_NON_BLOCK
 * (and ALLOC_HIGHATOMIC for order > 0).
 */
export function gfp_to_alloc_flags(era: G.Era, gfp: G.gfp_t, order = 0): number {
  let f = ALLOC_WMARK_MIN;
  if (gfp & G.__GFP_HIGH) f |= ALLOC_HIGH;
  const blocking = G.gfpflags_allow_blocking(gfp);
  if (era === "2.6") return blocking ? f : f | ALLOC_HARDER;
  if (gfp & G.__GFP_KSWAPD_RECLAIM) f |= ALLOC_KSWAPD;
  if (!blocking && !(gfp & G.__GFP_NOMEMALLOC)) f |= ALLOC_NON_BLOCK | (order > 0 ? ALLOC_HIGHATOMIC : 0);
  return f;
}

/**
 * The reserves the current context may use whatever its mask (2.6.34's tail of
 * gfp_to_alloc_flags, 6.x's __gfp_pfmemalloc_flags); never with __GFP_NOMEMALLOC. 2.6.34:
 * outside interrupts, a PF_MEMALLOC or TIF_MEMDIE task ignores the watermarks. 6.x: so do
 * __GFP_MEMALLOC and a softirq serving a PF_MEMALLOC task; an OOM victim gets ALLOC_OOM.
 */
export function gfp_pfmemalloc_flags(era: G.Era, gfp: G.gfp_t): number {
  if (gfp & G.__GFP_NOMEMALLOC) return 0;
  const p = current();
  if (era === "6") {
    if (gfp & G.__GFP_MEMALLOC) return ALLOC_NO_WATERMARKS;
    if ((preempt_count() & SOFTIRQ_OFFSET) !== 0 && p.flags & PF_MEMALLOC) return ALLOC_NO_WATERMARKS; // in_serving_softirq()
  }
  if (in_interrupt()) return 0;
  if (p.flags & PF_MEMALLOC) return ALLOC_NO_WATERMARKS;
  if (p.memdie) return era === "2.6" ? ALLOC_NO_WATERMARKS : ALLOC_OOM;
  return 0;
}

/** The slow path's flags: 2.6.34 adds the context's reserves to the mask's; 6.x replaces them (keeping ALLOC_KSWAPD). */
function slowpath_alloc_flags(mm: MmState, base: number, gfp: G.gfp_t): number {
  const reserve = gfp_pfmemalloc_flags(mm.era, gfp);
  if (reserve === 0) return base;
  return mm.era === "2.6" ? base | reserve : reserve | (base & ALLOC_KSWAPD);
}

const mark_of = (z: Zone, f: number): number => ((f & 3) === ALLOC_WMARK_LOW ? z.watermark.low : (f & 3) === ALLOC_WMARK_HIGH ? z.watermark.high : z.watermark.min);

/** rmqueue_bulk(): `count` order-0 pages onto a pcp list under zone->lock (interrupts already off). */
function* rmqueue_bulk(z: Zone, count: number, cold: boolean, pcp: Zone["pageset"][number]): Effect.fn.Return<void> {
  yield* spin_lock(z.lock);
  const k = kernel();
  for (let i = 0; i < count; i++) {
    const p = __rmqueue_smallest(z, 0);
    if (p < 0) break;
    buddy_op(k, z, p);
    // As 2.6.34 links them: hot pages in ascending order from the head (the head is taken
    // first), cold ones descending towards the tail (the tail is taken first).
    if (cold) pcp.list.add(p);
    else pcp.list.add_tail(p);
    pcp.count++;
  }
  yield* spin_unlock(z.lock);
}

// The allocator's own memory traffic, with machine.mmu.detail "all": the zone's free-list heads
// (one line per zone, what zone->lock protects), this CPU's pcp list head, and the struct page
// moved (32 bytes each in a mem_map at a pseudo-physical base). Plain runs charge flat costs.
const FREE_AREA_BASE = 0x48000000;
const PCP_BASE = 0x48100000;
const MEM_MAP_BASE = 0x50000000;

/** A buddy list operation on page `p` (-1: a page whose pfn is not at hand). */
export function buddy_op(k: Kernel, z: Zone, p: number): void {
  k.charge(k.costs.buddyOp);
  if (!k.config.page_touches) return;
  const cpu = k.this_cpu().id;
  let ns = k.machine.caches.access(cpu, FREE_AREA_BASE + zone_id(k, z) * 64, 8, true);
  if (p >= 0) ns += k.machine.caches.access(cpu, MEM_MAP_BASE + p * 32, 32, true);
  k.charge(ns);
}

/** A pcp list operation on page `p`. */
export function pcp_op(k: Kernel, z: Zone, p: number): void {
  k.charge(k.costs.pcpOp);
  if (!k.config.page_touches) return;
  const cpu = k.this_cpu().id;
  k.charge(k.machine.caches.access(cpu, PCP_BASE + (zone_id(k, z) * k.percpu.length + cpu) * 64, 8, true) + k.machine.caches.access(cpu, MEM_MAP_BASE + p * 32, 32, true));
}

const zone_id = (k: Kernel, z: Zone): number => mm_of(k).zones.indexOf(z);

/** Freeing into a zone clears its all_unreclaimable state (free_pcppages_bulk, free_one_page). */
export function zone_freed(z: Zone): void {
  z.all_unreclaimable = false;
  z.pages_scanned = 0;
}

/** free_pcppages_bulk(): `count` pages from the cold end of a pcp list back to the buddy lists. */
export const free_pcppages_bulk = gen_fn(function* free_pcppages_bulk(z: Zone, count: number, pcp: Zone["pageset"][number]): Effect.fn.Return<void> {
  yield* spin_lock(z.lock);
  zone_freed(z);
  const k = kernel();
  for (let i = 0; i < count && pcp.count > 0; i++) {
    __free_one_page(z, pcp.list.pop(), 0);
    pcp.count--;
    buddy_op(k, z, -1);
  }
  yield* spin_unlock(z.lock);
});

/** The block at `p` leaves the free structures: allocated, and counted in the zone's nr_allocated. */
export function set_allocated(mm: MmState, z: Zone, p: number, order: number): void {
  mm.alloc_order[p] = order;
  z.nr_allocated += 1 << order;
}

/** The block at `p` (allocated with `order`) goes back to a pcp list or the buddy lists. */
export function clear_allocated(mm: MmState, z: Zone, p: number, order: number): void {
  mm.alloc_order[p] = -1;
  z.nr_allocated -= 1 << order;
}

/** buffered_rmqueue(): one block from `z`, or -1. */
function* buffered_rmqueue(mm: MmState, z: Zone, order: number, gfp: G.gfp_t): Effect.fn.Return<number> {
  const k = kernel();
  if (order === 0 && mm.pcp) {
    const cold = (gfp & G.__GFP_COLD) !== 0;
    const flags = local_irq_save();
    const pcp = z.pageset[k.this_cpu().id]!;
    if (pcp.count === 0) yield* rmqueue_bulk(z, pcp.batch, cold, pcp);
    let p = -1;
    if (pcp.count > 0) {
      p = cold ? pcp.list.pop() : pcp.list.shift();
      pcp.count--;
      pcp_op(k, z, p);
      set_allocated(mm, z, p, 0); // off the free structures: allocated from here on
    }
    yield* local_irq_restore(flags);
    return p;
  }
  return yield* buddy_rmqueue(k, mm, z, order);
}

/** One block of `order` straight from the buddy lists under zone->lock, or -1. */
export const buddy_rmqueue = (k: Kernel, mm: MmState, z: Zone, order: number): Effect.Effect<number> =>
  Effect.flatMap(spin_lock_irqsave(z.lock), (flags) => {
    const p = __rmqueue_smallest(z, order);
    buddy_op(k, z, p);
    if (p >= 0) set_allocated(mm, z, p, order);
    return Effect.as(spin_unlock_irqrestore(z.lock, flags), p);
  });

/** get_page_from_freelist(): the first zone of the zonelist that passes its watermark and has pages. */
export function* get_page_from_freelist(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number, alloc_flags: number): Effect.fn.Return<page | null> {
  const classzone_idx = zones[0]?.idx ?? 0;
  for (const z of zones) {
    if (!(alloc_flags & ALLOC_NO_WATERMARKS) && !zone_watermark_ok(mm.era, z, order, mark_of(z, alloc_flags), classzone_idx, alloc_flags)) continue;
    const p = yield* buffered_rmqueue(mm, z, order, gfp);
    if (p >= 0) {
      if (mm.nodes.length > 1) zone_statistics(mm, zones[0]!, z);
      prep_new_page(kernel(), mm, z, p, order, gfp);
      return p;
    }
  }
  return null;
}

/** zone_statistics(): NUMA hit/miss against the preferred zone's node, local/other against this CPU's. */
export function zone_statistics(mm: MmState, preferred: Zone, z: Zone): void {
  if (z.node === preferred.node) z.numa.hit++;
  else {
    z.numa.miss++;
    preferred.numa.foreign++;
  }
  if (z.node === mm.cpu_to_node[kernel().this_cpu().id]) z.numa.local++;
  else z.numa.other++;
}

export function prep_new_page(k: Kernel, mm: MmState, z: Zone, p: number, order: number, gfp: G.gfp_t): void {
  const map = mm.mem_map;
  map._count[p] = 1;
  map.flags[p] = 0;
  map.mapping[p] = 0;
  map.index[p] = 0;
  z.ev.pgalloc += 1 << order;
  // clear_highpage() for __GFP_ZERO: about 8 bytes a ns.
  if (gfp & G.__GFP_ZERO) k.charge(((PAGE_SIZE << order) / 8) | 0);
  trace_mm_page_alloc(p, order, gfp, mm.era);
  kasan_unpoison_pages(k, mm.dm, p, order); // post_alloc_hook()
}

/** The allocation failure warning (2.6.34 format; 4.19+ from kernel "6"), then show_mem(). */
function warn_alloc_failed(k: Kernel, mm: MmState, gfp: G.gfp_t, order: number): void {
  mm.ev.pgalloc_fail++;
  if (G.gfp_nowarn(gfp, mm.era)) return;
  if (!(mm.era === "2.6" ? k.printk_ratelimit() : mm.ratelimit(mm.nopage_rs, "warn_alloc"))) return;
  const comm = current().comm;
  const head =
    mm.era === "2.6"
      ? `${comm}: page allocation failure. order:${order}, mode:0x${G.gfp_value(gfp, "2.6").toString(16)}`
      : `${comm}: page allocation failure: order:${order}, mode:0x${G.gfp_value(gfp, "6").toString(16)}(${G.format_gfp(gfp, "6")}), nodemask=(null)`;
  k.report("alloc_failure", [head, ...dump_stack(k.this_ctx(), ["warn_alloc_failed"]), ...show_mem(k, mm)].join("\n"));
}

/** should_alloc_retry() (2.6.34). */
function should_alloc_retry(gfp: G.gfp_t, order: number, pages_reclaimed: number): boolean {
  if (gfp & G.__GFP_NORETRY) return false;
  if (order <= PAGE_ALLOC_COSTLY_ORDER) return true;
  if (gfp & G.__GFP_REPEAT && pages_reclaimed < 1 << order) return true;
  return (gfp & G.__GFP_NOFAIL) !== 0;
}

/**
 * congestion_wait(BLK_RW_ASYNC, timeout): sleeps until pages are freed or written back, or for
 * `timeout` jiffies. (2.6.34 waits for a congested queue to clear, which with no congestion
 * means the whole timeout; waking on freed memory is mmsim's simplification.)
 */
export const congestion_wait = (mm: MmState, timeout: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const gen = mm.freed_generation;
    return Effect.asVoid(wait_event_timeout(mm.congestion_wait, () => mm.freed_generation !== gen, Math.max(1, timeout)));
  });

const lowmem_only = (mm: MmState, high_zoneidx: number): boolean => high_zoneidx < ZONE_NAMES[mm.arch].indexOf("Normal");

/** __alloc_pages_may_oom(): one more try at the high watermark, then the OOM killer. */
function* alloc_pages_may_oom(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number, high_zoneidx: number): Effect.fn.Return<page | null> {
  const p = yield* get_page_from_freelist(mm, zones, gfp | G.__GFP_HARDWALL, order, ALLOC_WMARK_HIGH);
  if (p !== null) return p;
  if (!(gfp & G.__GFP_NOFAIL)) {
    if (order > PAGE_ALLOC_COSTLY_ORDER) return null;
    // 2.6.36+: the OOM killer does not needlessly kill tasks for lowmem (2.6.34 does).
    if (mm.era === "6" && lowmem_only(mm, high_zoneidx)) return null;
  }
  yield* out_of_memory(mm, gfp, order);
  return null;
}

/**
 * drain_all_pages(): every CPU's pcp lists back to the buddy lists. Linux sends each CPU an IPI
 * to drain its own lists; here the caller drains them all under each zone's lock.
 */
export function* drain_all_pages(mm: MmState): Effect.fn.Return<void> {
  for (const z of mm.zones) {
    for (const pcp of z.pageset) {
      if (pcp.count === 0) continue;
      const flags = local_irq_save();
      yield* free_pcppages_bulk(z, pcp.count, pcp);
      yield* local_irq_restore(flags);
    }
  }
}

/** __alloc_pages_high_priority(): ignoring the watermarks; __GFP_NOFAIL waits and tries until it gets a page. */
function* alloc_pages_high_priority(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number): Effect.fn.Return<page | null> {
  for (;;) {
    const p = yield* get_page_from_freelist(mm, zones, gfp, order, ALLOC_NO_WATERMARKS);
    if (p !== null || !(gfp & G.__GFP_NOFAIL)) return p;
    yield* congestion_wait(mm, Math.floor(kernel().config.hz / 50));
  }
}

/**
 * __alloc_pages_direct_reclaim(): try_to_free_pages() as PF_MEMALLOC, then one try at the
 * allocation if it made progress. 2.6.34 drains the pcp lists first for order > 0; 6.x drains
 * them and tries again when that try fails. Context: may sleep.
 */
function* alloc_pages_direct_reclaim(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number, alloc_flags: number): Effect.fn.Return<{ page: page | null; progress: number }> {
  const me = current();
  yield* cond_resched();
  me.flags |= PF_MEMALLOC;
  const progress = yield* try_to_free_pages(mm, zones, order, gfp);
  me.flags &= ~PF_MEMALLOC;
  yield* cond_resched();
  if (mm.era === "2.6" && order !== 0) yield* drain_all_pages(mm);
  if (progress === 0) return { page: null, progress };
  let p = yield* get_page_from_freelist(mm, zones, gfp, order, alloc_flags);
  if (p === null && mm.era === "6") {
    yield* drain_all_pages(mm);
    p = yield* get_page_from_freelist(mm, zones, gfp, order, alloc_flags);
  }
  return { page: p, progress };
}

/**
 * __alloc_pages_slowpath(), 2.6.34's: `restart` wakes kswapd, sets the flags and tries once;
 * `rebalance` (the inner loop) uses the reserves the context allows, then reclaims directly
 * and, without progress, calls the OOM killer and restarts, or waits in congestion_wait and
 * reclaims again while should_alloc_retry(). Kernel 6 goes back to `restart` instead, as 6.x's
 * `retry` wakes kswapd and tries the freelists before each reclaim.
 */
const alloc_pages_slowpath = gen_fn(function* alloc_pages_slowpath(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number, high_zoneidx: number): Effect.fn.Return<page | null> {
  const k = kernel();
  const wait = G.gfpflags_allow_blocking(gfp);
  let pages_reclaimed = 0;
  restart: for (;;) {
    const base = gfp_to_alloc_flags(mm.era, gfp, order);
    if (mm.era === "2.6" || base & ALLOC_KSWAPD) for (const z of zones) wakeup_kswapd(mm, z, order);
    const alloc_flags = slowpath_alloc_flags(mm, base, gfp);
    // The last chance, in general, before nopage.
    let p = yield* get_page_from_freelist(mm, zones, gfp, order, base);
    if (p !== null) return p;
    for (;;) {
      if (alloc_flags & ALLOC_NO_WATERMARKS) p = yield* alloc_pages_high_priority(mm, zones, gfp, order);
      else if (alloc_flags !== base) p = yield* get_page_from_freelist(mm, zones, gfp, order, alloc_flags); // 6.x ALLOC_OOM
      if (p !== null) return p;
      const me = current();
      if (!wait || me.flags & PF_MEMALLOC || (me.memdie && !(gfp & G.__GFP_NOFAIL))) break restart;
      const r = yield* alloc_pages_direct_reclaim(mm, zones, gfp, order, alloc_flags);
      if (r.page !== null) return r.page;
      if (r.progress === 0 && gfp & G.__GFP_FS && !(gfp & G.__GFP_NORETRY)) {
        p = yield* alloc_pages_may_oom(mm, zones, gfp, order, high_zoneidx);
        if (p !== null) return p;
        if (!(gfp & G.__GFP_NOFAIL)) {
          if (order > PAGE_ALLOC_COSTLY_ORDER) break restart;
          // 6.x: no OOM kill for lowmem, so no progress: nopage (2.6.34 killed and retried).
          if (mm.era === "6" && lowmem_only(mm, high_zoneidx)) break restart;
        }
        continue restart;
      }
      pages_reclaimed += r.progress;
      if (!should_alloc_retry(gfp, order, pages_reclaimed)) break restart;
      yield* congestion_wait(mm, Math.floor(k.config.hz / 50));
      if (mm.era === "6") continue restart;
    }
  }
  warn_alloc_failed(k, mm, gfp, order);
  return null;
});

/** WARN_ON_ONCE(!(gfp_mask & __GFP_NOWARN)) in __alloc_pages_slowpath for an order >= MAX_ORDER. */
export function warn_max_order(k: Kernel, mm: MmState, gfp: G.gfp_t): void {
  if (!G.gfp_nowarn(gfp, mm.era) && !mm.warned_max_order) {
    mm.warned_max_order = true;
    k.report("bug", [`WARNING: at mm/page_alloc.c __alloc_pages_nodemask()`, ...dump_stack(k.this_ctx(), ["__alloc_pages_nodemask", "__alloc_pages_slowpath"])].join("\n"));
  }
}

/** get_page_from_freelist() at the low watermark, then the slow path. */
export const general_alloc = gen_fn(function* general_alloc(mm: MmState, zones: Zone[], gfp: G.gfp_t, order: number, high_zoneidx: number): Effect.fn.Return<page | null> {
  const p = yield* get_page_from_freelist(mm, zones, gfp, order, ALLOC_WMARK_LOW);
  return p !== null ? p : yield* with_frame("__alloc_pages_nodemask", alloc_pages_slowpath(mm, zones, gfp, order, high_zoneidx));
});

/** Runs `eff` with `name` on the context's simulated call stack (for backtraces in reports). */
export const with_frame = <A>(name: string, eff: Effect.Effect<A>): Effect.Effect<A> => with_frames([name], eff);

/**
 * Where Linux's struct page for `p` would be: i386 mem_map at 0xc1000000 (32-byte pages),
 * x86_64 vmemmap at 0xffffea0000000000 (56-byte pages in 2.6.34, 64 in 6.1).
 */
export function struct_page_address(mm: MmState, p: number): string {
  if (mm.arch === "i386") return (0xc1000000 + p * 32).toString(16);
  return (0xffffea0000000000n + BigInt(p) * (mm.era === "2.6" ? 56n : 64n)).toString(16);
}

/** PAGE_FLAGS_CHECK_AT_FREE (2.6.34): flags a page being freed must not have. */
const PAGE_FLAGS_CHECK_AT_FREE =
  (1 << F.PG_lru) | (1 << F.PG_locked) | (1 << F.PG_private) | (1 << F.PG_private_2) | (1 << F.PG_buddy) | (1 << F.PG_writeback) |
  (1 << F.PG_reserved) | (1 << F.PG_slab) | (1 << F.PG_swapcache) | (1 << F.PG_active) | (1 << F.PG_unevictable) | (1 << F.PG_mlocked);

/** free_pages_check(): why the page cannot be freed, or null. */
export function free_pages_check(mm: MmState, p: number): string | null {
  const m = mm.mem_map;
  if (m._mapcount[p]! !== -1) return "nonzero mapcount";
  if (m.mapping[p] !== 0) return "non-NULL mapping";
  if (m.flags[p]! & PAGE_FLAGS_CHECK_AT_FREE) return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
  return null;
}

/**
 * bad_page(): 2.6.34's two lines (plus the reason in parentheses, which 2.6.34 does not print and
 * mmsim adds), or 6.1's dump_page(): "page:... refcount mapcount mapping index pfn", "flags:
 * %pGp", "page dumped because: reason" (without 6.1's raw: lines; the page pointer unhashed).
 */
export function bad_page(k: Kernel, mm: MmState, p: number, why: string): void {
  const map = mm.mem_map;
  const ok = p >= 0 && p < map.nr_pages;
  const nul = "0".repeat(mm.arch === "i386" ? 8 : 16);
  const head = `BUG: Bad page state in process ${current().comm}  pfn:${p.toString(16).padStart(5, "0")}`;
  const body = !ok
    ? ["page:(not a page of this machine)", mm.era === "2.6" ? `(${why})` : `page dumped because: ${why}`]
    : mm.era === "2.6"
      ? [`page:${struct_page_address(mm, p)} flags:${map.flags[p]!.toString(16).padStart(nul.length, "0")} count:${map._count[p]} mapcount:${map._mapcount[p]! + 1} mapping:${nul} index:${map.index[p]!.toString(16)}`, `(${why})`]
      : [
          `page:${struct_page_address(mm, p)} refcount:${map._count[p]} mapcount:${map._mapcount[p]! + 1} mapping:${nul} index:0x${map.index[p]!.toString(16)} pfn:0x${p.toString(16)}`,
          `flags: 0x${map.flags[p]!.toString(16)}()`,
          `page dumped because: ${why}`,
        ];
  k.report("bad_page", [head, ...body, ...dump_stack(k.this_ctx(), ["bad_page"])].join("\n"));
}

/** page_count(page): the page's reference count (page->_count; 6.1's _refcount). Context: any; never sleeps. */
export const page_count = (p: page): number => mm_of(kernel()).mem_map._count[p]!;
/** get_page(page): takes a reference on the page (its count + 1). Context: any; never sleeps. */
export const get_page = (p: page): void => {
  mm_of(kernel()).mem_map._count[p]!++;
};
/**
 * put_page(page): drops a reference; the last one frees the page. Context: any; never sleeps.
 * mmsim: __free_pages(page, 0), so the last reference to a block allocated with order > 0 (a
 * compound page in Linux) gets a bad_page report (the orders differ) and the whole block is freed.
 */
export const put_page = (p: page): Effect.Effect<void> => __free_pages(p, 0);
/** page_to_pfn(page): the page frame number. The identity in mmsim, whose pages are their pfns. */
export const page_to_pfn = (p: page): number => p;
/** pfn_to_page(pfn): the page of a page frame number. The identity in mmsim, whose pages are their pfns. */
export const pfn_to_page = (pfn: number): page => pfn;
/** PageHighMem(page): true if the page is in ZONE_HIGHMEM (i386 only; no permanent kernel address). */
export const PageHighMem = (p: page): boolean => mm_of(kernel()).page_zone(p)?.is_highmem ?? false;
/** page_to_nid(page): the NUMA node the page belongs to (-1 in mmsim for a pfn in no zone). */
export const page_to_nid = (p: page): number => mm_of(kernel()).page_zone(p)?.node ?? -1;
/** numa_node_id(): the node of the current CPU. */
export const numa_node_id = (): number => mm_of(kernel()).cpu_to_node[kernel().this_cpu().id]!;

/** The count of free pages in the buddy lists of every zone (nr_free_pages()). */
export const nr_free_pages = (mm: MmState): number => mm.zones.reduce((s, z) => s + z.free_pages, 0);

/** page_address(): the page's kernel virtual address, or 0 (NULL) for a HighMem page not kmap'ed. */
export const page_address = (p: page): kaddr_t => P.page_address(mm_of(kernel()).dm, p);
/** set_page_address(): records (0: drops) the kmap address of a HighMem page (mm/highmem.c). */
export const set_page_address = (p: page, addr: kaddr_t): void => P.set_page_address(mm_of(kernel()).dm, p, addr);
/** virt_to_page(): the page of a direct-map address. */
export const virt_to_page = (addr: kaddr_t): page => P.virt_to_page(mm_of(kernel()).dm, addr);
/** __pa(addr): the physical address of a kernel direct-map (lowmem) address; mmsim throws a ScenarioError for any other address. */
export const __pa = (addr: kaddr_t): number => P.__pa(mm_of(kernel()).dm, addr);
/** __va(phys): the kernel direct-map address of a lowmem physical address; mmsim throws a ScenarioError for one outside the direct map. */
export const __va = (phys: number): kaddr_t => P.__va(mm_of(kernel()).dm, phys);
/** %p of a kernel address: the real (canonical) address in hex. */
export const format_kaddr = (addr: kaddr_t): string => P.format_kaddr(mm_of(kernel()).dm, addr);

/**
 * __get_free_pages(gfp, order): the address of 2^order contiguous lowmem pages, or 0. The mask
 * must not ask for HighMem (which has no permanent address). Context: as alloc_pages.
 */
export const __get_free_pages = gen_fn(function* __get_free_pages(gfp: G.gfp_t, order: number): Effect.fn.Return<kaddr_t> {
  // VM_BUG_ON((gfp_mask & __GFP_HIGHMEM) != 0)
  if (gfp & G.__GFP_HIGHMEM) throw new ScenarioError("__get_free_pages: the mask includes __GFP_HIGHMEM (use alloc_pages and kmap for HighMem)");
  const p = yield* alloc_pages(gfp, order);
  return p === null ? 0 : page_address(p);
});
/** __get_free_page(gfp): __get_free_pages(gfp, 0): one lowmem page's address, or 0. Context: may sleep if the mask may. */
export const __get_free_page = (gfp: G.gfp_t): Effect.Effect<kaddr_t> => __get_free_pages(gfp, 0);
/** get_zeroed_page(gfp): the address of one zeroed lowmem page (__GFP_ZERO), or 0. Context: may sleep if the mask may. */
export const get_zeroed_page = (gfp: G.gfp_t): Effect.Effect<kaddr_t> => __get_free_pages(gfp | G.__GFP_ZERO, 0);

/** free_pages(addr, order): frees what __get_free_pages returned; 0 is ignored. Context: any. */
export const free_pages = (addr: kaddr_t, order: number): Effect.Effect<void> =>
  addr === 0 ? Effect.void : Effect.suspend(() => __free_pages(virt_to_page(addr), order));
/** free_page(addr): free_pages(addr, 0), for what __get_free_page returned; 0 is ignored. Context: any; never sleeps. */
export const free_page = (addr: kaddr_t): Effect.Effect<void> => free_pages(addr, 0);

/** for_each_populated_zone(): calls `fn` for every zone with pages, node by node. */
export function for_each_populated_zone(fn: (zone: Zone) => void): void {
  for (const z of mm_of(kernel()).zones) if (z.populated) fn(z);
}

/** The vm event counters (/proc/vmstat's events), for scenario checks. */
export const vm_events = (): MmState["ev"] => mm_of(kernel()).ev;
