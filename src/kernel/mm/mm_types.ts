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
