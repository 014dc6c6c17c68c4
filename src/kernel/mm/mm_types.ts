// include/linux/mm_types.h: struct page for every page frame, as a struct of arrays indexed by
// pfn (mem_map), not one object per page: 32 bytes a page. The lru field is a pair of pfn links
// (prev/next, -1 for none), used by the buddy free lists, the pcp lists and the LRU lists; a
// page is on at most one of them. `mapping` holds a small integer id (0 = NULL) into a table the
// owner keeps; `virtual` is not stored (lowmem pages derive it, highmem ones use kmap's table).
import { PG_buddy } from "./page-flags.ts";

export class MemMap {
  readonly flags: Uint32Array;
  readonly _count: Int32Array;
  readonly _mapcount: Int32Array;
  readonly private_: Int32Array;
  readonly mapping: Int32Array;
  readonly index: Int32Array;
  readonly lru_next: Int32Array;
  readonly lru_prev: Int32Array;

  constructor(readonly nr_pages: number) {
    this.flags = new Uint32Array(nr_pages);
    this._count = new Int32Array(nr_pages);
    this._mapcount = new Int32Array(nr_pages).fill(-1);
    this.private_ = new Int32Array(nr_pages);
    this.mapping = new Int32Array(nr_pages);
    this.index = new Int32Array(nr_pages);
    this.lru_next = new Int32Array(nr_pages).fill(-1);
    this.lru_prev = new Int32Array(nr_pages).fill(-1);
  }

  test(pfn: number, bit: number): boolean {
    return (this.flags[pfn]! & (1 << bit)) !== 0;
  }
  set(pfn: number, bit: number): void {
    this.flags[pfn]! |= 1 << bit;
  }
  clear(pfn: number, bit: number): void {
    this.flags[pfn]! &= ~(1 << bit);
  }

  /** PageBuddy(): the head of a free block in the buddy allocator. */
  isBuddy(pfn: number): boolean {
    return this.test(pfn, PG_buddy);
  }
}

/**
 * A list_head of pages: a doubly linked list through mem_map's lru links. Adding at the head
 * and taking from the head or the tail are O(1); `count` is kept.
 */
export class PageList {
  head = -1;
  tail = -1;
  count = 0;

  constructor(private readonly mm: MemMap) {}

  add(pfn: number): void {
    const { lru_next, lru_prev } = this.mm;
    lru_prev[pfn] = -1;
    lru_next[pfn] = this.head;
    if (this.head >= 0) lru_prev[this.head] = pfn;
    else this.tail = pfn;
    this.head = pfn;
    this.count++;
  }

  add_tail(pfn: number): void {
    const { lru_next, lru_prev } = this.mm;
    lru_next[pfn] = -1;
    lru_prev[pfn] = this.tail;
    if (this.tail >= 0) lru_next[this.tail] = pfn;
    else this.head = pfn;
    this.tail = pfn;
    this.count++;
  }

  del(pfn: number): void {
    const { lru_next, lru_prev } = this.mm;
    const n = lru_next[pfn]!;
    const p = lru_prev[pfn]!;
    if (p >= 0) lru_next[p] = n;
    else this.head = n;
    if (n >= 0) lru_prev[n] = p;
    else this.tail = p;
    lru_next[pfn] = -1;
    lru_prev[pfn] = -1;
    this.count--;
  }

  /** Removes and returns the first page, or -1. */
  shift(): number {
    const h = this.head;
    if (h >= 0) this.del(h);
    return h;
  }

  /** Removes and returns the last page, or -1. */
  pop(): number {
    const t = this.tail;
    if (t >= 0) this.del(t);
    return t;
  }

  *[Symbol.iterator](): Generator<number> {
    for (let p = this.head; p >= 0; p = this.mm.lru_next[p]!) yield p;
  }
}

/** struct vm_area_struct reduced to its range: a private, read-write, anonymous mapping. */
export interface vm_area_struct {
  vm_start: number;
  vm_end: number;
}

/**
 * struct mm_struct reduced: the page table (pgd, and PAE's preallocated PMDs), the anonymous
 * mappings, the counters the OOM killer and /proc read, and mm_cpumask (the CPUs whose CR3 holds
 * this page table, so whose TLB may cache its translations). User addresses are numbers below
 * TASK_SIZE (exact on x86_64 too: the user half is below 2^47).
 */
export class mm_struct {
  /** The top-level table's frame, or null before pgd_alloc. */
  pgd: number | null = null;
  /** PAE: the three user PMD frames pgd_alloc preallocates (preallocate_pmds). */
  pmds: number[] = [];
  /** The mappings, sorted by vm_start (mm->mmap). */
  readonly mmap: vm_area_struct[] = [];
  /** total_vm: pages mapped. */
  total_vm = 0;
  /** MM_ANONPAGES (2.6.34's anon_rss): anonymous pages faulted in. */
  rss = 0;
  /** 2.6.34 mm->nr_ptes: PTE tables. */
  nr_ptes = 0;
  /** 6.1 mm->pgtables_bytes: the PTE, PMD and PUD tables (mm_inc_nr_ptes/pmds/puds). */
  pgtables_bytes = 0;
  /** mm_cpumask(mm). */
  readonly cpumask = new Set<number>();
  /** 6.1 mm->context.tlb_gen: bumped by every flush of this mm (init_new_context sets 0). */
  tlb_gen = 0;

  /** `mmap_base`: arch_pick_mmap_layout()'s top of the top-down mmap area. */
  constructor(readonly mmap_base: number) {}
}
