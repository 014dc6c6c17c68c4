// mm/page_alloc.c (2.6.34 control flow, the chosen era's watermark check): the zone allocator in
// front of the buddy lists. Order-0 pages go through the per-CPU pagesets with local interrupts
// off (rmqueue_bulk / free_pcppages_bulk take zone->lock), larger orders take zone->lock with
// spin_lock_irqsave. A `page` is its pfn (struct page * in Linux); null is NULL.
// Not yet here (next increment): kswapd, direct reclaim, the OOM killer and the Mem-Info dump;
// a caller that may sleep waits (congestion_wait, HZ/50) and retries until pages are freed.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { __might_sleep, current } from "../sched/core.ts";
import { local_irq_restore, local_irq_save } from "../irqflags.ts";
import { spin_lock, spin_lock_irqsave, spin_lock_init, spin_unlock, spin_unlock_irqrestore } from "../locking/spinlock.ts";
import { dump_stack } from "../dumpstack.ts";
import { SimError } from "../../sim/errors.ts";
import { init_waitqueue_head, wait_event_timeout, wake_up_all, type wait_queue_head_t } from "../sched/wait.ts";
import { MAX_ORDER, __free_one_page, __rmqueue_smallest } from "./buddy.ts";
import { __GFP_COLD, __GFP_DMA, __GFP_DMA32, __GFP_HIGH, __GFP_HIGHMEM, __GFP_NOFAIL, __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO, format_gfp, gfp_value, gfpflags_allow_blocking, type gfp_t } from "./gfp.ts";
import { build_node, type MemorySpec, type NodeMem, type Zone } from "./mmzone.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "./watermarks.ts";
import { trace_mm_page_alloc, trace_mm_page_free } from "./trace.ts";

export type page = number;

export const ALLOC_WMARK_MIN = 0x00;
export const ALLOC_WMARK_LOW = 0x01;
export const ALLOC_WMARK_HIGH = 0x02;
export const ALLOC_HARDER = 0x10;
export const ALLOC_HIGH = 0x20;
const PAGE_ALLOC_COSTLY_ORDER = 3;

/** The running kernel's memory, set up by mem_init. */
export class MmState {
  readonly node: NodeMem;
  /** Allocation order of each allocated block head, -1 when not allocated (for bad-page checks). */
  readonly alloc_order: Int8Array;
  /** Sleeping allocators wait here for pages to be freed (congestion_wait). */
  readonly free_wait: wait_queue_head_t;
  readonly vm = { pgalloc: 0, pgfree: 0, allocstall: 0, pgalloc_fail: 0 };
  constructor(node: NodeMem) {
    this.node = node;
    this.alloc_order = new Int8Array(node.mem_map.nr_pages).fill(-1);
    this.free_wait = init_waitqueue_head("congestion_wait");
  }
}

/** mem_init(): builds the node's zones and their zone->lock; every page starts free. */
export function mem_init(k: Kernel, mem: MemorySpec): MmState {
  const node = build_node(mem, k.percpu.length);
  for (const z of node.zones) z.lock = spin_lock_init("&zone->lock");
  const mm = new MmState(node);
  k.mm = mm;
  const kb = (p: number) => p << (PAGE_SHIFT - 10);
  const total = node.zones.reduce((s, z) => s + z.managed_pages, 0);
  k.printk(`Memory: ${kb(total)}k available, min_free_kbytes ${node.min_free_kbytes}`);
  return mm;
}

function mm_of(k: Kernel): MmState {
  if (k.mm === null) throw new SimError("this machine has no memory configured (machine.memory)");
  return k.mm;
}

/** gfp_zone() and the zonelist: the highest zone the mask allows, then every zone below it. */
export function zonelist(node: NodeMem, gfp: gfp_t): Zone[] {
  const byName = (n: string) => node.zones.find((z) => z.name === n);
  let top: Zone | undefined;
  if (gfp & __GFP_DMA) top = byName("DMA");
  else if (gfp & __GFP_DMA32) top = byName("DMA32") ?? byName("Normal");
  else if (gfp & __GFP_HIGHMEM) top = byName("HighMem") ?? byName("Normal");
  else top = byName("Normal");
  top ??= node.zones[node.zones.length - 1]!;
  return node.zones.filter((z) => z.idx <= top!.idx).reverse();
}

/** __zone_watermark_ok(): 2.6 walks the lower orders; 4.x+ asks for any free block big enough. */
export function zone_watermark_ok(era: "2.6" | "6", z: Zone, order: number, mark: number, classzone_idx: number, alloc_flags: number): boolean {
  let min = mark;
  let free_pages = z.free_pages - (1 << order) + 1;
  if (alloc_flags & ALLOC_HIGH) min -= Math.floor(min / 2);
  if (alloc_flags & ALLOC_HARDER) min -= Math.floor(min / 4);
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

/** gfp_to_alloc_flags() (2.6.34): watermark min, __GFP_HIGH -> ALLOC_HIGH, cannot sleep -> ALLOC_HARDER. */
export function gfp_to_alloc_flags(gfp: gfp_t): number {
  let f = ALLOC_WMARK_MIN;
  if (gfp & __GFP_HIGH) f |= ALLOC_HIGH;
  if (!gfpflags_allow_blocking(gfp)) f |= ALLOC_HARDER;
  return f;
}

const mark_of = (z: Zone, f: number): number => ((f & 3) === ALLOC_WMARK_LOW ? z.watermark.low : (f & 3) === ALLOC_WMARK_HIGH ? z.watermark.high : z.watermark.min);

/** rmqueue_bulk(): `count` order-0 pages onto a pcp list under zone->lock (interrupts already off). */
const rmqueue_bulk = (z: Zone, count: number, cold: boolean, pcp: Zone["pageset"][number]): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* spin_lock(z.lock);
    for (let i = 0; i < count; i++) {
      const p = __rmqueue_smallest(z, 0);
      if (p < 0) break;
      // As 2.6.34 links them: hot pages in ascending order from the head (the head is taken
      // first), cold ones descending towards the tail (the tail is taken first).
      if (cold) pcp.list.add(p);
      else pcp.list.add_tail(p);
      pcp.count++;
    }
    yield* spin_unlock(z.lock);
  });

/** free_pcppages_bulk(): `count` pages from the cold end of a pcp list back to the buddy lists. */
const free_pcppages_bulk = (z: Zone, count: number, pcp: Zone["pageset"][number]): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* spin_lock(z.lock);
    for (let i = 0; i < count && pcp.count > 0; i++) {
      __free_one_page(z, pcp.list.pop(), 0);
      pcp.count--;
    }
    yield* spin_unlock(z.lock);
  });

/** buffered_rmqueue(): one block from `z`, or -1. */
const buffered_rmqueue = (mm: MmState, z: Zone, order: number, gfp: gfp_t): Effect.Effect<number> =>
  Effect.gen(function* () {
    const k = kernel();
    if (order === 0 && mm.node.pcp) {
      const cold = (gfp & __GFP_COLD) !== 0;
      const flags = local_irq_save();
      const pcp = z.pageset[k.this_cpu().id]!;
      if (pcp.count === 0) yield* rmqueue_bulk(z, pcp.batch, cold, pcp);
      let p = -1;
      if (pcp.count > 0) {
        p = cold ? pcp.list.pop() : pcp.list.shift();
        pcp.count--;
      }
      yield* local_irq_restore(flags);
      return p;
    }
    const flags = yield* spin_lock_irqsave(z.lock);
    const p = __rmqueue_smallest(z, order);
    yield* spin_unlock_irqrestore(z.lock, flags);
    return p;
  });

/** get_page_from_freelist(): the first zone of the zonelist that passes its watermark and has pages. */
const get_page_from_freelist = (mm: MmState, gfp: gfp_t, order: number, alloc_flags: number): Effect.Effect<page | null> =>
  Effect.gen(function* () {
    const zones = zonelist(mm.node, gfp);
    const classzone_idx = zones[0]!.idx;
    for (const z of zones) {
      if (!zone_watermark_ok(mm.node.era, z, order, mark_of(z, alloc_flags), classzone_idx, alloc_flags)) continue;
      const p = yield* buffered_rmqueue(mm, z, order, gfp);
      if (p >= 0) {
        prep_new_page(kernel(), mm, z, p, order, gfp);
        return p;
      }
    }
    return null;
  });

function prep_new_page(k: Kernel, mm: MmState, z: Zone, p: number, order: number, gfp: gfp_t): void {
  const map = mm.node.mem_map;
  map._count[p] = 1;
  map.flags[p] = 0;
  mm.alloc_order[p] = order;
  z.pgalloc += 1 << order;
  mm.vm.pgalloc += 1 << order;
  // clear_highpage() for __GFP_ZERO: about 8 bytes a ns.
  if (gfp & __GFP_ZERO) k.charge(((PAGE_SIZE << order) / 8) | 0);
  trace_mm_page_alloc(p, order, format_gfp(gfp, mm.node.era));
}

/** The allocation failure warning (2.6.34 format; 4.19+ from kernel "6"). */
function warn_alloc_failed(k: Kernel, mm: MmState, gfp: gfp_t, order: number): void {
  mm.vm.pgalloc_fail++;
  if (gfp & __GFP_NOWARN) return;
  const comm = current().comm;
  const head =
    mm.node.era === "2.6"
      ? `${comm}: page allocation failure. order:${order}, mode:0x${gfp_value(gfp, "2.6").toString(16)}`
      : `${comm}: page allocation failure: order:${order}, mode:0x${gfp_value(gfp, "6").toString(16)}(${format_gfp(gfp, "6")}), nodemask=(null)`;
  k.report("alloc_failure", [head, ...dump_stack(k.this_ctx(), ["warn_alloc_failed"])].join("\n"));
}

/**
 * alloc_pages(gfp, order): 2^order contiguous pages, or null. Context: may sleep if the mask
 * allows it (might_sleep is checked then); GFP_ATOMIC never sleeps and may dig into reserves.
 */
export const alloc_pages = (gfp: gfp_t, order: number): Effect.Effect<page | null> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    const ctx = k.this_ctx();
    if (order >= MAX_ORDER) {
      if (!(gfp & __GFP_NOWARN)) k.report("bug", [`WARNING: at mm/page_alloc.c: __alloc_pages_nodemask(): order ${order} >= MAX_ORDER`, ...dump_stack(ctx, ["__alloc_pages_nodemask"])].join("\n"));
      return null;
    }
    const may_sleep = gfpflags_allow_blocking(gfp);
    // might_sleep_if(gfp_mask & __GFP_WAIT) in __alloc_pages_nodemask: line 2116 of the 2.6.32
    // source (RHEL 6) we could check; 2.6.34's exact line is not verified.
    if (may_sleep) __might_sleep("mm/page_alloc.c", 2116, 0);
    let p = yield* get_page_from_freelist(mm, gfp, order, ALLOC_WMARK_LOW);
    if (p !== null) return p;
    // __alloc_pages_slowpath
    const alloc_flags = gfp_to_alloc_flags(gfp);
    for (let tries = 0; ; tries++) {
      p = yield* get_page_from_freelist(mm, gfp, order, alloc_flags);
      if (p !== null) return p;
      if (!may_sleep) break;
      const retry = (gfp & __GFP_NOFAIL) !== 0 || ((gfp & __GFP_NORETRY) === 0 && order <= PAGE_ALLOC_COSTLY_ORDER);
      if (!retry || tries > 0 && (gfp & __GFP_NORETRY) !== 0) break;
      mm.vm.allocstall++;
      // congestion_wait(BLK_RW_ASYNC, HZ/50): sleep until pages are freed or 20 ms pass.
      yield* wait_event_timeout(mm.free_wait, () => false, Math.max(1, Math.floor(k.config.hz / 50)));
    }
    warn_alloc_failed(k, mm, gfp, order);
    return null;
  });

export const alloc_page = (gfp: gfp_t): Effect.Effect<page | null> => alloc_pages(gfp, 0);
export const alloc_pages_node = (nid: number, gfp: gfp_t, order: number): Effect.Effect<page | null> =>
  nid === 0 || nid === -1 ? alloc_pages(gfp, order) : Effect.die(new SimError(`alloc_pages_node: no node ${nid}`));

function bad_page(k: Kernel, mm: MmState, p: number, why: string): void {
  const map = mm.node.mem_map;
  k.report(
    "bad_page",
    [
      `BUG: Bad page state in process ${current().comm}  pfn:${p.toString(16).padStart(5, "0")}`,
      `page:${(0xc1000000 + p * 32).toString(16)} flags:${map.flags[p]!.toString(16).padStart(8, "0")} count:${map._count[p]} mapcount:${map._mapcount[p]! + 1} mapping:00000000 index:${map.index[p]!.toString(16)}`,
      `(${why})`,
      ...dump_stack(k.this_ctx(), ["bad_page"]),
    ].join("\n"),
  );
}

const zone_of = (mm: MmState, p: number): Zone | undefined => mm.node.zones.find((z) => p >= z.zone_start_pfn && p < z.zone_start_pfn + z.spanned_pages);

/** __free_pages(page, order): drops a reference; the last one returns the block. Context: any. */
export const __free_pages = (p: page, order: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    const map = mm.node.mem_map;
    const z = zone_of(mm, p);
    if (z === undefined || map._count[p]! <= 0 || mm.alloc_order[p] === -1) {
      return bad_page(k, mm, p, z === undefined ? "no such page" : "freeing a page that is not allocated");
    }
    if (--map._count[p]! > 0) return;
    if (mm.alloc_order[p] !== order) {
      const had = mm.alloc_order[p]!;
      mm.alloc_order[p] = -1;
      bad_page(k, mm, p, `freed with order ${order}, allocated with order ${had}`);
      order = had; // free what was allocated, so the books stay right
    }
    mm.alloc_order[p] = -1;
    mm.vm.pgfree += 1 << order;
    trace_mm_page_free(p, order);
    if (order === 0 && mm.node.pcp) {
      // free_hot_page(): a freed page is cache-hot, so it goes to the head.
      const flags = local_irq_save();
      const pcp = z.pageset[k.this_cpu().id]!;
      pcp.list.add(p);
      pcp.count++;
      if (pcp.count >= pcp.high) yield* free_pcppages_bulk(z, pcp.batch, pcp);
      yield* local_irq_restore(flags);
    } else {
      const flags = yield* spin_lock_irqsave(z.lock);
      __free_one_page(z, p, order);
      yield* spin_unlock_irqrestore(z.lock, flags);
    }
    wake_up_all(mm.free_wait);
  });

export const __free_page = (p: page): Effect.Effect<void> => __free_pages(p, 0);

export const page_count = (p: page): number => mm_of(kernel()).node.mem_map._count[p]!;
export const get_page = (p: page): void => {
  mm_of(kernel()).node.mem_map._count[p]!++;
};
export const put_page = (p: page): Effect.Effect<void> => __free_pages(p, 0);
export const page_to_pfn = (p: page): number => p;
export const pfn_to_page = (pfn: number): page => pfn;
export const PageHighMem = (p: page): boolean => zone_of(mm_of(kernel()), p)?.is_highmem ?? false;
