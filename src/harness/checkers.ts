// Whole-system checkers for verify mode, run after every step: the page allocator's books must
// balance. For every zone: the free lists hold well-formed blocks (PG_buddy head, order in
// page->private, aligned, inside the zone, no page allocated) and agree with nr_free and the
// zone's free count; every pcp list agrees with its count; and free (buddy) + pcp + allocated
// pages = managed pages. A violation is a simulator bug (SimError naming the zone and numbers).
import { SimError } from "../sim/errors.ts";
import type { MmState } from "../kernel/mm/mm_state.ts";
import type { Zone } from "../kernel/mm/mmzone.ts";
import { MAX_ORDER } from "../kernel/mm/buddy.ts";

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

/** Checks every zone of `mm`; throws SimError on the first violation. */
export function verify_mm(mm: MmState): void {
  for (const z of mm.zones) {
    if (!z.populated) continue;
    const free = check_free_lists(mm, z);
    const pcp = check_pcp(mm, z);
    const used = allocated_pages(mm, z);
    if (free + pcp + used !== z.managed_pages) fail(z, `pages not conserved: ${free} free + ${pcp} on pcp lists + ${used} allocated != ${z.managed_pages} managed`);
  }
}
