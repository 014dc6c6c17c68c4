// mm/highmem.c's permanent kmap slots (i386): LAST_PKMAP entries from PKMAP_BASE with
// pkmap_count semantics: 0 free, 1 unmapped but possibly still in some TLB, n > 1 = n - 1 users.
// map_new_virtual() scans round robin from last_pkmap_nr; when the scan wraps to 0,
// flush_all_zero_pkmaps() frees every count-1 entry and flushes the kmap range from the TLBs
// once. This file is the slot bookkeeping; kmap_lock, sleeping on pkmap_map_wait, the page
// table entries and the TLB flush itself are the caller's (the kmap work of issue 4).
import type { kaddr_t } from "./page.ts";
import { PKMAP_BASE } from "./pgtable_32_types.ts";


export class Pkmap {
  readonly count: Int32Array;
  /** The page (pfn) each slot maps, -1 for none. */
  readonly page: Int32Array;
  last_pkmap_nr = 0;
  /** Times the whole kmap range was flushed from the TLBs. */
  flushes = 0;

  /** `on_flush` is called when flush_all_zero_pkmaps() cleared an entry (flush_tlb_kernel_range). */
  /** `base`: PKMAP_BASE (pgtable_32_types.ts). */
  constructor(
    readonly last_pkmap: number = 1024,
    private readonly on_flush: () => void = () => {},
    readonly base: kaddr_t = PKMAP_BASE(false),
  ) {
    this.count = new Int32Array(last_pkmap);
    this.page = new Int32Array(last_pkmap).fill(-1);
  }

  addr(nr: number): kaddr_t {
    return this.base + nr * 4096;
  }

  nr(addr: kaddr_t): number {
    return Math.floor((addr - this.base) / 4096);
  }

  /** flush_all_zero_pkmaps(): slots with count 1 become free; one TLB flush if any did. Returns the pages unmapped. */
  flush_all_zero_pkmaps(): number[] {
    const unmapped: number[] = [];
    for (let i = 0; i < this.last_pkmap; i++) {
      if (this.count[i] !== 1) continue;
      this.count[i] = 0;
      unmapped.push(this.page[i]!);
      this.page[i] = -1;
    }
    if (unmapped.length > 0) {
      this.flushes++;
      this.on_flush();
    }
    return unmapped;
  }

  /**
   * map_new_virtual() without the sleep: the slot now mapping `pfn` (count 1), or -1 when every
   * slot is in use and the caller must wait on pkmap_map_wait and retry. `unmapped` receives the
   * pages a wrap-around flush unmapped (their page_address must be cleared).
   */
  map_new_virtual(pfn: number, unmapped: (pfn: number) => void): number {
    let count = this.last_pkmap;
    for (;;) {
      this.last_pkmap_nr = (this.last_pkmap_nr + 1) & (this.last_pkmap - 1);
      if (this.last_pkmap_nr === 0) {
        for (const p of this.flush_all_zero_pkmaps()) unmapped(p);
        count = this.last_pkmap;
      }
      if (this.count[this.last_pkmap_nr] === 0) break;
      if (--count === 0) return -1;
    }
    const nr = this.last_pkmap_nr;
    this.count[nr] = 1;
    this.page[nr] = pfn;
    return nr;
  }

  /** kmap_high()'s count increment for a mapped slot. */
  get(nr: number): void {
    this.count[nr]!++;
  }

  /** kunmap_high()'s decrement: true when the slot went to 1 (unused, waiters may retry). */
  put(nr: number): boolean {
    const c = --this.count[nr]!;
    if (c <= 0) throw new RangeError(`kunmap: pkmap slot ${nr} was not mapped`);
    return c === 1;
  }
}
