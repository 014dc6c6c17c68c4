// mm/memory.c (2.6.34) reduced to private anonymous memory: handle_mm_fault() allocates the
// missing page tables and then
// - do_anonymous_page(): a write fault maps a new zeroed page (GFP_HIGHUSER_MOVABLE | __GFP_ZERO,
//   on the active anon LRU, counted in MM_ANONPAGES), writable and already Dirty (pte_mkdirty);
//   a read fault maps the shared zero page read-only (as 2.6.32+ does);
// - do_wp_page(): a write to the zero page gets a new page; ptep_clear_flush() clears the PTE and
//   flushes it from every CPU that may cache it (flush_tlb_page) before the new one is set.
// zap_page_range() clears PTEs into an mmu_gather: the pages are freed only after the TLB flush
// (tlb_finish_mmu), in batches of FREE_PTE_NR (506) pages on 2.6.34 SMP (one flush per batch),
// at once on a uniprocessor (fast mode). 6.1 (mm/mmu_gather.c) holds MMU_GATHER_BUNDLE (8) pages
// in the gather itself and then up to MAX_GATHER_BATCH_COUNT batch pages of MAX_GATHER_BATCH
// entries each (i386 9 x 1021, x86_64 19 x 510); when the last is full, __tlb_remove_page_size()
// says so and zap_pte_range() flushes (tlb_flush_mmu) before going on: every 9197 pages on i386,
// 9698 on x86_64. mmsim does not allocate the batch pages (Linux takes them with
// __get_free_page(GFP_NOWAIT | __GFP_NOWARN) as needed, and flushes earlier if that fails).
// Page-table pages freed by free_pgtables() go through the gather too (pte_free_tlb ->
// tlb_remove_page), in both eras. The range a flush covers is the whole unmapped range (6.1
// resets it after each flush to the PTEs cleared since; past 33 pages it is a full flush anyway).
// Not modelled: file mappings, swap, fork/COW of anonymous pages, rmap beyond _mapcount, mmap_sem
// and the page-table locks (a process is one thread), NUMA policies.
import * as Effect from "effect/Effect";
import * as HW from "../../hw/mmu/paging.ts";
import { kernel } from "../kernel.ts";
import { spin_lock_irq, spin_unlock_irq } from "../locking/spinlock.ts";
import { GFP_HIGHUSER_MOVABLE, __GFP_ZERO } from "./gfp.ts";
import { LRU_ACTIVE_ANON } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import type { mm_struct } from "./mm_types.ts";
import { __free_page, alloc_pages, free_pages_prepared, with_frame } from "./page_alloc.ts";
import { PG_swapbacked } from "./page-flags.ts";
import { find_pte_table, user_pte_table } from "./pgtable.ts";
import { del_page_from_lru, lru_cache_add_lru } from "./swap.ts";
import { flush_tlb_page, tlb_flush } from "./tlb.ts";
import { kernel_vm } from "./vmalloc.ts";
import { gen_fn } from "../gen_fn.ts";

const PAGE = 4096;
/** 2.6.34 asm-generic/tlb.h FREE_PTE_NR on SMP: pages an mmu_gather holds before it flushes. */
export const FREE_PTE_NR = 506;
/** 6.1 asm-generic/tlb.h: the pages an mmu_gather holds in itself (tlb->__pages). */
export const MMU_GATHER_BUNDLE = 8;
/**
 * 6.1 MAX_GATHER_BATCH = (PAGE_SIZE - sizeof(struct mmu_gather_batch)) / sizeof(void *): the
 * batch header is a next pointer and two unsigned ints (nr, max), 12 bytes on i386 and 16 on
 * x86_64, so (4096 - 12) / 4 = 1021 and (4096 - 16) / 8 = 510 entries.
 */
export const MAX_GATHER_BATCH = (arch: "i386" | "x86_64"): number => (arch === "i386" ? (PAGE - 12) / 4 : (PAGE - 16) / 8);
/** 6.1 MAX_GATHER_BATCH_COUNT = 10000UL / MAX_GATHER_BATCH: 9 on i386, 19 on x86_64. */
export const MAX_GATHER_BATCH_COUNT = (arch: "i386" | "x86_64"): number => Math.floor(10000 / MAX_GATHER_BATCH(arch));
/** 6.1: pages a gather takes before it must flush (8 + 9 x 1021 = 9197 on i386, 8 + 19 x 510 = 9698 on x86_64). */
export const mmu_gather_capacity = (arch: "i386" | "x86_64"): number => MMU_GATHER_BUNDLE + MAX_GATHER_BATCH_COUNT(arch) * MAX_GATHER_BATCH(arch);

/** empty_zero_page's frame: in the kernel image, which sits past the end of RAM here. */
export const zero_pfn = (mm: MmState): number => kernel_vm(mm).zero_pfn;

/** What a fault came to: mapped, VM_FAULT_OOM, or no mapping there (bad_area: SIGSEGV). */
export type FaultResult = "ok" | "oom" | "sigsegv";

/** mk_pte(page, vma->vm_page_prot) of a private writable mapping: PAGE_COPY (P, U, A; NX not modelled). */
const USER_PTE = HW._PAGE_PRESENT | HW._PAGE_USER | HW._PAGE_ACCESSED;
/** pte_mkwrite(pte_mkdirty(entry)): an anonymous page mapped for a write is writable and dirty at once. */
const ANON_PTE = USER_PTE | HW._PAGE_RW | HW._PAGE_DIRTY;

/** find_vma() + the range check of do_page_fault(): the mapping holding `addr`, or undefined. */
export const find_vma = (tmm: mm_struct, addr: number) => tmm.mmap.find((a) => a.vm_start <= addr && addr < a.vm_end);

/** A new anonymous page for a fault, on the LRU and counted; null when none could be had. */
function* new_anon_page(mm: MmState, tmm: mm_struct): Effect.fn.Return<number | null> {
  const p = yield* with_frame("handle_mm_fault", alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0));
  if (p === null) return null;
  // page_add_new_anon_rmap() and lru_cache_add_active_or_unevictable().
  mm.mem_map.mapping[p] = -1; // PAGE_MAPPING_ANON
  mm.mem_map._mapcount[p] = 0;
  mm.mem_map.set(p, PG_swapbacked);
  mm.page_zone(p)!.stat.nr_anon_pages++;
  yield* lru_cache_add_lru(mm, p, LRU_ACTIVE_ANON);
  tmm.rss++;
  return p;
}

/**
 * handle_mm_fault(): resolves a user-mode fault at `addr` of the process `tmm` (a write if
 * `write`). Context: process, may sleep.
 */
export const handle_mm_fault = gen_fn(function* handle_mm_fault(mm: MmState, tmm: mm_struct, addr: number, write: boolean): Effect.fn.Return<FaultResult> {
  mm.ev.pgfault++;
  if (find_vma(tmm, addr) === undefined) return "sigsegv";
  const pt = yield* user_pte_table(mm, tmm, addr);
  if (pt === null) return "oom";
  const v = kernel_vm(mm);
  const idx = HW.level_index(v.fmt, v.fmt.bits.length - 1, addr);
  const pte = HW.read_entry(v.mem, v.fmt, pt, idx);
  if (!(pte.lo & HW._PAGE_PRESENT)) {
    // do_anonymous_page()
    if (!write) {
      HW.write_entry(v.mem, v.fmt, pt, idx, HW.make_entry(zero_pfn(mm), USER_PTE));
      return "ok";
    }
    const p = yield* new_anon_page(mm, tmm);
    if (p === null) return "oom";
    HW.write_entry(v.mem, v.fmt, pt, idx, HW.make_entry(p, ANON_PTE));
    return "ok";
  }
  if (write && !(pte.lo & HW._PAGE_RW)) {
    // do_wp_page() on the zero page: a page of its own, the old PTE flushed everywhere first.
    const p = yield* new_anon_page(mm, tmm);
    if (p === null) return "oom";
    HW.write_entry(v.mem, v.fmt, pt, idx, { lo: 0, hi: 0 });
    yield* flush_tlb_page(tmm, addr);
    HW.write_entry(v.mem, v.fmt, pt, idx, HW.make_entry(p, ANON_PTE));
  }
  return "ok"; // present and allowed: a stale TLB entry of this CPU, now gone
});

/** struct mmu_gather: pages unmapped but not yet freed, waiting for the TLB flush. */
export interface MmuGather {
  readonly mm: mm_struct;
  readonly fullmm: boolean;
  /** 2.6.34 fast mode (one CPU online): pages are freed at once. */
  readonly fast: boolean;
  /** Pages the gather holds before a flush: FREE_PTE_NR (2.6.34) or the 6.1 batches' capacity. */
  readonly max: number;
  readonly pages: number[];
  start: number;
  end: number;
  /** Page tables are being freed (pte_free_tlb): 6.1 then flushes lazy CPUs too. */
  freed_tables: boolean;
}

/** tlb_gather_mmu(mm, fullmm). */
export function tlb_gather_mmu(mm: MmState, tmm: mm_struct, fullmm: boolean): MmuGather {
  const fast = mm.era === "2.6" && kernel().percpu.length === 1;
  const max = mm.era === "2.6" ? FREE_PTE_NR : mmu_gather_capacity(mm.arch);
  return { mm: tmm, fullmm, fast, max, pages: [], start: Infinity, end: 0, freed_tables: false };
}

/** Frees a page the gather held: an anonymous page leaves the LRU first (release_pages). */
const release_page = gen_fn(function* release_page(mm: MmState, pg: number): Effect.fn.Return<void> {
  if (mm.mem_map.mapping[pg] !== -1) return yield* __free_page(pg); // a page-table page
  const z = mm.page_zone(pg)!;
  yield* spin_lock_irq(z.lru_lock);
  del_page_from_lru(mm, z, pg);
  yield* spin_unlock_irq(z.lru_lock);
  z.stat.nr_anon_pages--;
  mm.mem_map.mapping[pg] = 0;
  mm.mem_map._count[pg] = 0;
  yield* free_pages_prepared(mm, z, pg, 0, false);
});

/** tlb_flush_mmu(): the TLB flush the gathered range needs, then the pages go. */
export const tlb_flush_mmu = gen_fn(function* tlb_flush_mmu(mm: MmState, tlb: MmuGather): Effect.fn.Return<void> {
  yield* tlb_flush(tlb);
  for (const pg of tlb.pages.splice(0)) yield* release_page(mm, pg);
});

/**
 * tlb_remove_page(): queue a page for freeing after the flush; a full gather flushes (2.6.34 at
 * FREE_PTE_NR pages; 6.1 when __tlb_remove_page_size() finds no batch left: zap_pte_range's
 * force_flush).
 */
export const tlb_remove_page = (mm: MmState, tlb: MmuGather, pg: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (tlb.fast) return release_page(mm, pg);
    tlb.pages.push(pg);
    return tlb.pages.length >= tlb.max ? tlb_flush_mmu(mm, tlb) : Effect.void;
  });

/**
 * zap_page_range(): clears the PTEs of [start, end) (page_remove_rmap, MM_ANONPAGES) and queues
 * the anonymous pages on the gather; the zero page is only unmapped.
 */
export function* zap_page_range(mm: MmState, tlb: MmuGather, start: number, end: number): Effect.fn.Return<void> {
  const v = kernel_vm(mm);
  const last = v.fmt.bits.length - 1;
  const span = 2 ** (12 + v.fmt.bits[last]!); // what one PTE table maps
  tlb.start = Math.min(tlb.start, start);
  tlb.end = Math.max(tlb.end, end);
  for (let addr = start; addr < end; ) {
    const pt = find_pte_table(mm, tlb.mm, addr);
    if (pt === null) {
      addr = (Math.floor(addr / span) + 1) * span;
      continue;
    }
    const idx = HW.level_index(v.fmt, last, addr);
    const e = HW.read_entry(v.mem, v.fmt, pt, idx);
    addr += PAGE;
    if (!(e.lo & HW._PAGE_PRESENT)) continue;
    HW.write_entry(v.mem, v.fmt, pt, idx, { lo: 0, hi: 0 });
    const pg = HW.entry_pfn(e);
    if (pg === zero_pfn(mm)) continue;
    mm.mem_map._mapcount[pg] = -1;
    tlb.mm.rss--;
    yield* tlb_remove_page(mm, tlb, pg);
  }
}

/** tlb_finish_mmu(): the last flush, then the gathered pages and the freed tables go. */
export function* tlb_finish_mmu(mm: MmState, tlb: MmuGather, tables: readonly number[]): Effect.fn.Return<void> {
  // free_pgtables() queued the table pages through the gather too (pte_free_tlb).
  if (tables.length > 0) tlb.freed_tables = true;
  for (const t of tables) yield* tlb_remove_page(mm, tlb, t);
  yield* tlb_flush_mmu(mm, tlb);
}
