// Whole-system checkers for verify mode: the memory manager's books must balance. For every
// zone: the free lists hold well-formed blocks (PG_buddy head, order in page->private, aligned,
// inside the zone, no page allocated) and agree with nr_free and the zone's free count; every
// pcp list agrees with its count; free (buddy) + pcp + allocated pages = managed pages; every
// LRU list holds allocated pages of its zone flagged for that list; nr_file_pages,
// nr_anon_pages, nr_dirty and nr_writeback match the pages themselves. A violation is a
// simulator bug (SimError naming the zone and numbers). The harness runs the counter identities
// (verify_mm_quick: nr_free sums, list counts, and pages conserved by the zone's counts, with
// the allocated pages from the allocator's own nr_allocated) after every step, and the full
// walk, which recounts the allocated pages from mem_map and costs time in proportion to memory,
// every pages/1024 steps (every 4 steps on 16 MiB, 16 on 64 MiB) and once more at the end.
import { SimError } from "../sim/errors.ts";
import type { MmState } from "../kernel/mm/mm_state.ts";
import type { Zone } from "../kernel/mm/mmzone.ts";
import { MAX_ORDER } from "../kernel/mm/buddy.ts";
import { PG_dirty, PG_lru, PG_writeback } from "../kernel/mm/page-flags.ts";
import { page_lru } from "../kernel/mm/swap.ts";

function fail(z: Zone, what: string): never {
  throw new SimError(`verify: node ${z.node} zone ${z.name}: ${what}`);
}

function check_free_lists(mm: MmState, z: Zone): number {
  const map = mm.mem_map;
  let free = 0;
  for (let o = 0; o < MAX_ORDER; o++) {
    const area = z.free_area[o]!;
    let n = 0;
    for (const pfn of area.free_list) {
      n++;
      if (!z.contains(pfn)) fail(z, `order-${o} free list holds pfn ${pfn}, outside the zone`);
      if (!map.isBuddy(pfn) || map.private_[pfn] !== o) fail(z, `pfn ${pfn} on the order-${o} free list is not marked as an order-${o} buddy`);
      if ((pfn & ((1 << o) - 1)) !== 0) fail(z, `order-${o} free block at pfn ${pfn} is not aligned`);
      for (let i = 0; i < 1 << o; i++) if (mm.alloc_order[pfn + i] !== -1) fail(z, `pfn ${pfn + i} is both free (order-${o} block at ${pfn}) and allocated`);
      if (n > z.spanned_pages) fail(z, `order-${o} free list loops`);
    }
    if (n !== area.nr_free || n !== area.free_list.count) fail(z, `order-${o} free list has ${n} blocks, nr_free says ${area.nr_free}`);
    free += n << o;
  }
  if (free !== z.free_pages) fail(z, `free lists hold ${free} pages, NR_FREE_PAGES says ${z.free_pages}`);
  return free;
}

function check_pcp(mm: MmState, z: Zone): number {
  let total = 0;
  z.pageset.forEach((pcp, cpu) => {
    let n = 0;
    for (const pfn of pcp.list) {
      n++;
      if (!z.contains(pfn)) fail(z, `CPU${cpu} pcp list holds pfn ${pfn}, outside the zone`);
      if (mm.alloc_order[pfn] !== -1) fail(z, `pfn ${pfn} is on CPU${cpu}'s pcp list and allocated`);
      if (mm.mem_map.isBuddy(pfn)) fail(z, `pfn ${pfn} is on CPU${cpu}'s pcp list and marked buddy`);
      if (n > z.spanned_pages) fail(z, `CPU${cpu} pcp list loops`);
    }
    if (n !== pcp.count) fail(z, `CPU${cpu} pcp list holds ${n} pages, count says ${pcp.count}`);
    total += n;
  });
  return total;
}

function allocated_pages(mm: MmState, z: Zone): number {
  let n = 0;
  const end = z.zone_start_pfn + z.spanned_pages;
  for (let pfn = z.zone_start_pfn; pfn < end; pfn++) {
    const o = mm.alloc_order[pfn]!;
    if (o >= 0) n += 1 << o;
  }
  return n;
}

function check_lru(mm: MmState, z: Zone): void {
  const m = mm.mem_map;
  z.lru.forEach((list, l) => {
    let n = 0;
    for (const pfn of list) {
      n++;
      if (!z.contains(pfn)) fail(z, `LRU list ${l} holds pfn ${pfn}, outside the zone`);
      if (!m.test(pfn, PG_lru) || page_lru(mm, pfn) !== l) fail(z, `pfn ${pfn} on LRU list ${l} is not flagged for it`);
      if (mm.alloc_order[pfn] !== 0) fail(z, `pfn ${pfn} is on LRU list ${l} but not an allocated page`);
      if (n > z.spanned_pages) fail(z, `LRU list ${l} loops`);
    }
    if (n !== list.count) fail(z, `LRU list ${l} holds ${n} pages, its count says ${list.count}`);
  });
}

function check_counters(mm: MmState, z: Zone): void {
  const m = mm.mem_map;
  let file = 0;
  let anon = 0;
  let dirty = 0;
  let writeback = 0;
  const end = z.zone_start_pfn + z.spanned_pages;
  for (let pfn = z.zone_start_pfn; pfn < end; pfn++) {
    const mapping = m.mapping[pfn]!;
    if (mapping > 0) {
      file++;
      if (m.test(pfn, PG_dirty)) dirty++;
    } else if (mapping < 0) anon++;
    if (m.test(pfn, PG_writeback)) writeback++;
  }
  const s = z.stat;
  const want: [string, number, number][] = [["nr_file_pages", file, s.nr_file_pages], ["nr_anon_pages", anon, s.nr_anon_pages], ["nr_dirty", dirty, s.nr_dirty], ["nr_writeback", writeback, s.nr_writeback]];
  for (const [name, counted, kept] of want) if (counted !== kept) fail(z, `${name} says ${kept}, the pages say ${counted}`);
}

/** Checks every zone of `mm`; throws SimError on the first violation. */
export function verify_mm(mm: MmState): void {
  for (const z of mm.zones) {
    if (!z.populated) continue;
    const free = check_free_lists(mm, z);
    const pcp = check_pcp(mm, z);
    const used = allocated_pages(mm, z);
    if (used !== z.nr_allocated) fail(z, `mem_map holds ${used} allocated pages, nr_allocated says ${z.nr_allocated}`);
    if (free + pcp + used !== z.managed_pages) fail(z, `pages not conserved: ${free} free + ${pcp} on pcp lists + ${used} allocated != ${z.managed_pages} managed`);
    check_lru(mm, z);
    check_counters(mm, z);
  }
}

/** The steps between two full checks: one per 4 MiB of memory, so the walk costs about the same per step. */
export const verify_interval = (mm: MmState): number => Math.max(1, Math.ceil(mm.mem_map.nr_pages / 1024));

/**
 * The counter identities, in time independent of memory size: for after every step. Pages are
 * conserved by the counts alone: NR_FREE_PAGES + the pcp counts + nr_allocated = managed.
 */
export function verify_mm_quick(mm: MmState): void {
  for (const z of mm.zones) {
    if (!z.populated) continue;
    let free = 0;
    z.free_area.forEach((area, o) => {
      if (area.free_list.count !== area.nr_free) fail(z, `order-${o} free list has ${area.free_list.count} blocks, nr_free says ${area.nr_free}`);
      free += area.nr_free << o;
    });
    if (free !== z.free_pages) fail(z, `free lists hold ${free} pages, NR_FREE_PAGES says ${z.free_pages}`);
    let pcp = 0;
    z.pageset.forEach((p, cpu) => {
      if (p.list.count !== p.count) fail(z, `CPU${cpu} pcp list holds ${p.list.count} pages, count says ${p.count}`);
      pcp += p.count;
    });
    if (free + pcp + z.nr_allocated !== z.managed_pages) fail(z, `pages not conserved: ${free} free + ${pcp} on pcp lists + ${z.nr_allocated} allocated != ${z.managed_pages} managed`);
  }
}
