// The vmalloc address space as the seeds describe it (mm/vmalloc.c __get_vm_area_node before
// 2.6.28's vmap_area tree): an address-sorted list of vm_structs between VMALLOC_START and
// VMALLOC_END, searched first fit; every area is one guard page longer than asked, so an overrun
// hits an unmapped page. i386: VMALLOC_START = high_memory + VMALLOC_OFFSET (8 MiB gap),
// VMALLOC_END = PKMAP_BASE - 2 pages (pgtable_32_types.ts). x86_64 (both
// eras, 4-level paging): 0xffffc90000000000 to 0xffffe8ffffffffff. This file is only the address
// allocator; vmalloc.ts maps the pages into init_mm.
import type { DirectMap, kaddr_t } from "./page.ts";
import { vmalloc_total_kb } from "./page.ts";
import type { Era } from "./gfp.ts";

export { VMALLOC_OFFSET } from "./pgtable_32_types.ts";
import { VMALLOC_OFFSET } from "./pgtable_32_types.ts";
const PAGE_SIZE = 4096;

export interface vm_struct {
  readonly addr: kaddr_t;
  /** Bytes, the guard page included (as Linux's vm_struct->size). */
  readonly size: number;
  readonly flags: number;
  /** The caller for /proc/vmallocinfo: the name of the function that called vmalloc or vmap. */
  readonly caller: string;
}

export const VM_IOREMAP = 0x1;
export const VM_ALLOC = 0x2;
export const VM_MAP = 0x4;

/** VMALLOC_START and VMALLOC_END as stored kernel addresses. */
export function vmalloc_range(dm: DirectMap, _era: Era): { start: kaddr_t; end: kaddr_t } {
  if (dm.arch === "i386") {
    const high_memory = dm.page_offset + dm.max_low_pfn * PAGE_SIZE;
    const start = high_memory + VMALLOC_OFFSET;
    return { start, end: start + vmalloc_total_kb(dm) * 1024 };
  }
  // Stored relative to 0xffff800000000000: 0xffffc90000000000 is 0x490000000000 above it.
  const start = 0x490000000000;
  return { start, end: start + 32 * 2 ** 40 - 1 };
}

/** The vmlist: address-sorted areas, allocated first fit. */
export class VmList {
  readonly areas: vm_struct[] = [];

  constructor(
    readonly start: kaddr_t,
    readonly end: kaddr_t,
  ) {}

  /** __get_vm_area(): an area for `size` bytes (rounded up to pages) plus a guard page, or null. */
  get_vm_area(size: number, flags: number, caller: string): vm_struct | null {
    if (!(size > 0)) return null;
    const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE;
    let addr = this.start;
    let i = 0;
    for (; i < this.areas.length; i++) {
      const a = this.areas[i]!;
      if (addr + bytes <= a.addr) break;
      addr = Math.max(addr, a.addr + a.size);
    }
    if (addr + bytes > this.end) return null;
    const area: vm_struct = { addr, size: bytes, flags, caller };
    this.areas.splice(i, 0, area);
    return area;
  }

  /** remove_vm_area(): unlinks the area starting at `addr`, or returns null if there is none. */
  remove_vm_area(addr: kaddr_t): vm_struct | null {
    const i = this.areas.findIndex((a) => a.addr === addr);
    if (i < 0) return null;
    return this.areas.splice(i, 1)[0]!;
  }

  /** The area containing `addr` (its guard page excluded), or undefined. */
  find(addr: kaddr_t): vm_struct | undefined {
    return this.areas.find((a) => addr >= a.addr && addr < a.addr + a.size - PAGE_SIZE);
  }

  /** get_vmalloc_info(): bytes in use (guard pages included) and the largest free gap. */
  info(): { used: number; largest_chunk: number } {
    let used = 0;
    let largest = 0;
    let prev = this.start;
    for (const a of this.areas) {
      used += a.size;
      largest = Math.max(largest, a.addr - prev);
      prev = a.addr + a.size;
    }
    largest = Math.max(largest, this.end - prev);
    return { used, largest_chunk: largest };
  }
}
