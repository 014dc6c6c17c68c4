// mm/page_alloc.c, the buddy allocator proper (2.6.34): __rmqueue_smallest, expand,
// __free_one_page. Plain synchronous functions over mem_map and a zone's free_area; the caller
// holds zone->lock with interrupts off. Migrate types are not modelled: one free list per order.
import { MemMap, PageList } from "./mm_types.ts";
import { PG_buddy } from "./page-flags.ts";

export const MAX_ORDER = 11;

export interface FreeArea {
  readonly free_list: PageList;
  /** Free blocks of this order. */
  nr_free: number;
}

export interface BuddyZone {
  readonly mm: MemMap;
  readonly zone_start_pfn: number;
  readonly spanned_pages: number;
  readonly free_area: FreeArea[];
  /** NR_FREE_PAGES: free pages in the buddy lists. */
  free_pages: number;
}

export function make_free_area(mm: MemMap): FreeArea[] {
  return Array.from({ length: MAX_ORDER }, () => ({ free_list: new PageList(mm), nr_free: 0 }));
}

function set_page_order(z: BuddyZone, pfn: number, order: number): void {
  z.mm.private_[pfn] = order;
  z.mm.set(pfn, PG_buddy);
}

function rmv_page_order(z: BuddyZone, pfn: number): void {
  z.mm.clear(pfn, PG_buddy);
  z.mm.private_[pfn] = 0;
}

/**
 * expand(): a block of order `high` at `pfn` serves a request of order `low`; each upper half
 * goes on the free list one order down. The lowest-addressed part is what the caller gets.
 */
export function expand(z: BuddyZone, pfn: number, low: number, high: number): void {
  let size = 1 << high;
  while (high > low) {
    high--;
    size >>= 1;
    const half = pfn + size;
    z.free_area[high]!.free_list.add(half);
    z.free_area[high]!.nr_free++;
    set_page_order(z, half, high);
  }
}

/** __rmqueue_smallest(): the first page of a free block of `order`, or -1. */
export function __rmqueue_smallest(z: BuddyZone, order: number): number {
  for (let current = order; current < MAX_ORDER; current++) {
    const area = z.free_area[current]!;
    if (area.nr_free === 0) continue;
    const pfn = area.free_list.shift();
    rmv_page_order(z, pfn);
    area.nr_free--;
    z.free_pages -= 1 << order;
    expand(z, pfn, order, current);
    return pfn;
  }
  return -1;
}

/** page_is_buddy(): `buddy` is a free block head of exactly `order` in the same zone. */
function page_is_buddy(z: BuddyZone, buddy: number, order: number): boolean {
  if (buddy < z.zone_start_pfn || buddy >= z.zone_start_pfn + z.spanned_pages) return false;
  return z.mm.isBuddy(buddy) && z.mm.private_[buddy] === order;
}

/** __free_one_page(): frees a block, merging with its buddy while the buddy is free. */
export function __free_one_page(z: BuddyZone, pfn: number, order: number): void {
  z.free_pages += 1 << order;
  while (order < MAX_ORDER - 1) {
    const buddy = pfn ^ (1 << order);
    if (!page_is_buddy(z, buddy, order)) break;
    z.free_area[order]!.free_list.del(buddy);
    z.free_area[order]!.nr_free--;
    rmv_page_order(z, buddy);
    pfn &= buddy;
    order++;
  }
  set_page_order(z, pfn, order);
  z.free_area[order]!.free_list.add(pfn);
  z.free_area[order]!.nr_free++;
}
