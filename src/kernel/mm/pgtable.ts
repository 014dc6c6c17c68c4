// arch/x86/mm/pgtable.c and asm/pgalloc.h (2.6.34; 6.1's accounting with kernel "6"): a user
// process's page tables, in pages from the page allocator. pgd_alloc takes the top-level page,
// copies the kernel half of swapper_pg_dir (pgd_ctor) and, with PAE, preallocates the three user
// PMDs (preallocate_pmds; the kernel PMD is shared). The tables below are allocated by the fault
// path as addresses need them (__pte_alloc, __pmd_alloc, __pud_alloc) and freed by
// free_pgd_range. Accounting, as each era has it:
//   2.6.34: NR_PAGETABLE (meminfo's PageTables) and mm->nr_ptes count PTE tables only
//           (pgtable_page_ctor); PMD, PUD and PAE's preallocated PMDs are plain zeroed pages.
//   6.1:    NR_PAGETABLE counts PTE and PMD tables (pgtable_pte_page_ctor,
//           pgtable_pmd_page_ctor, also the PAE preallocated ones); mm->pgtables_bytes counts
//           PTE, PMD and PUD tables (what the OOM killer adds to its score and prints).
// Masks: 2.6.34 PGALLOC_GFP (GFP_KERNEL | __GFP_REPEAT | __GFP_ZERO; __GFP_NOTRACK is 0 without
// kmemcheck), 6.1 GFP_PGTABLE_USER (GFP_KERNEL_ACCOUNT | __GFP_ZERO). Not modelled:
// CONFIG_HIGHPTE (PTE pages come from lowmem), split page-table locks and mm->page_table_lock (a
// process here is one thread), 6.1's 32-byte PAE pgd slab (the pgd is a whole page).
import * as Effect from "effect/Effect";
import * as HW from "../../hw/mmu/paging.ts";
import { GFP_KERNEL, GFP_KERNEL_ACCOUNT, __GFP_REPEAT, __GFP_ZERO, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import type { mm_struct } from "./mm_types.ts";
import { __free_page, alloc_page } from "./page_alloc.ts";
import { kernel_vm, type KernelVm } from "./vmalloc.ts";

const PAGE = 4096;

/** The allocation mask of every user page-table page (PGALLOC_GFP / GFP_PGTABLE_USER). */
export const pgalloc_gfp = (mm: MmState): gfp_t => (mm.era === "2.6" ? GFP_KERNEL | __GFP_REPEAT | __GFP_ZERO : GFP_KERNEL_ACCOUNT | __GFP_ZERO);

/** An entry pointing at a user page table (_PAGE_TABLE; a PAE PDPT entry has only P). */
export const user_table_entry = (v: KernelVm, level: number, pfn: number): HW.Entry =>
  HW.make_entry(pfn, v.fmt.mode === "pae" && level === 0 ? HW._PAGE_PRESENT : HW._PAGE_PRESENT | HW._PAGE_RW | HW._PAGE_USER | HW._PAGE_ACCESSED | HW._PAGE_DIRTY);

/** The top-level entries below TASK_SIZE: 768 (2-level), 3 (PAE), 256 (4-level). */
export function user_ptrs_per_pgd(mm: MmState, v: KernelVm): number {
  const top = 2 ** v.fmt.bits[0]!;
  return mm.arch === "i386" ? Math.floor(0xc0000000 / 2 ** (32 - v.fmt.bits[0]!)) : top / 2;
}

/** What a table at `level` (below the top) is: the last level holds PTEs. */
export type TableKind = "pte" | "pmd" | "pud";
export function table_kind(v: KernelVm, level: number): TableKind {
  const last = v.fmt.bits.length - 1;
  return level === last ? "pte" : level === last - 1 ? "pmd" : "pud";
}

/** The accounting pgtable_*_ctor / mm_inc_nr_* do (sign -1 for the dtors). */
export function account_table(mm: MmState, tmm: mm_struct, pfn: number, kind: TableKind, sign: 1 | -1): void {
  const z = mm.page_zone(pfn)!;
  if (kind === "pte") {
    z.stat.nr_page_table_pages += sign;
    tmm.nr_ptes += sign;
  } else if (kind === "pmd" && mm.era === "6") z.stat.nr_page_table_pages += sign;
  if (mm.era === "6") tmm.pgtables_bytes += sign * PAGE;
}

/**
 * pgd_alloc(): the process's top-level table, the kernel half copied from swapper_pg_dir as it
 * is now (pgd_ctor's clone_pgd_range; later vmalloc entries arrive by vmalloc_fault), and with
 * PAE the user PMDs. Returns false (fork's -ENOMEM) when a page cannot be had. Context: may sleep.
 */
export function* pgd_alloc(mm: MmState, tmm: mm_struct): Effect.fn.Return<boolean> {
  const v = kernel_vm(mm);
  const gfp = pgalloc_gfp(mm);
  const pgd = yield* alloc_page(gfp);
  if (pgd === null) return false;
  if (v.fmt.mode === "pae") {
    for (let i = 0; i < 3; i++) {
      const pmd = yield* alloc_page(gfp);
      if (pmd === null) {
        // pgd_alloc's failure path: free_pmds() and the pgd.
        for (const p of tmm.pmds.splice(0)) {
          account_table(mm, tmm, p, "pmd", -1);
          yield* __free_page(p);
        }
        yield* __free_page(pgd);
        return false;
      }
      account_table(mm, tmm, pmd, "pmd", 1);
      tmm.pmds.push(pmd);
    }
  }
  const top = 2 ** v.fmt.bits[0]!;
  for (let i = user_ptrs_per_pgd(mm, v); i < top; i++) HW.write_entry(v.mem, v.fmt, pgd, i, HW.read_entry(v.mem, v.fmt, v.root, i));
  tmm.pmds.forEach((pmd, i) => HW.write_entry(v.mem, v.fmt, pgd, i, user_table_entry(v, 0, pmd)));
  tmm.pgd = pgd;
  return true;
}

/** pgd_free(): the PAE PMDs (pgd_mop_up_pmds) and the top-level page go back to the allocator. */
export function* pgd_free(mm: MmState, tmm: mm_struct): Effect.fn.Return<void> {
  const v = kernel_vm(mm);
  for (const p of tmm.pmds.splice(0)) {
    account_table(mm, tmm, p, "pmd", -1);
    v.mem.release(p);
    yield* __free_page(p);
  }
  if (tmm.pgd === null) return;
  const pgd = tmm.pgd;
  tmm.pgd = null;
  v.mem.release(pgd);
  yield* __free_page(pgd);
}

/**
 * The tables down to the PTE for user address `addr`, allocating missing ones (pud_alloc,
 * pmd_alloc, pte_alloc_map): the PTE table's frame, or null when an allocation failed
 * (VM_FAULT_OOM). Context: may sleep.
 */
export function* user_pte_table(mm: MmState, tmm: mm_struct, addr: number): Effect.fn.Return<number | null> {
  const v = kernel_vm(mm);
  let table = tmm.pgd!;
  for (let level = 0; level < v.fmt.bits.length - 1; level++) {
    const idx = HW.level_index(v.fmt, level, addr);
    const e = HW.read_entry(v.mem, v.fmt, table, idx);
    if (e.lo & HW._PAGE_PRESENT) {
      table = HW.entry_pfn(e);
      continue;
    }
    const pt = yield* alloc_page(pgalloc_gfp(mm));
    if (pt === null) return null;
    account_table(mm, tmm, pt, table_kind(v, level + 1), 1);
    HW.write_entry(v.mem, v.fmt, table, idx, user_table_entry(v, level, pt));
    table = pt;
  }
  return table;
}

/** The PTE table for `addr` if every level above it is present (no allocation), else null. */
export function find_pte_table(mm: MmState, tmm: mm_struct, addr: number): number | null {
  const v = kernel_vm(mm);
  if (tmm.pgd === null) return null;
  let table = tmm.pgd;
  for (let level = 0; level < v.fmt.bits.length - 1; level++) {
    const e = HW.read_entry(v.mem, v.fmt, table, HW.level_index(v.fmt, level, addr));
    if (!(e.lo & HW._PAGE_PRESENT)) return null;
    table = HW.entry_pfn(e);
  }
  return table;
}

/** Bytes of address space one entry at `level` covers. */
const entry_span = (v: KernelVm, level: number): number => 2 ** (12 + v.fmt.bits.slice(level + 1).reduce((a, b) => a + b, 0));

/**
 * free_pgd_range(): unhooks every table below the top level that covers part of [start, end)
 * and no address of a remaining mapping (so at exit, with no mappings left, all of them; PAE's
 * preallocated PMDs stay for pgd_free). Returns the frames to free after the TLB flush, with
 * their accounting already undone.
 */
export function free_pgd_range(mm: MmState, tmm: mm_struct, start: number, end: number): number[] {
  const v = kernel_vm(mm);
  const freed: number[] = [];
  const in_use = (lo: number, hi: number) => tmm.mmap.some((a) => a.vm_start < hi && a.vm_end > lo);
  const visit = (table: number, level: number, base: number): void => {
    const span = entry_span(v, level);
    const n = level === 0 ? user_ptrs_per_pgd(mm, v) : 2 ** v.fmt.bits[level]!;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(n - 1, Math.floor((end - 1 - base) / span));
    for (let i = first; i <= last; i++) {
      const e = HW.read_entry(v.mem, v.fmt, table, i);
      if (!(e.lo & HW._PAGE_PRESENT)) continue;
      const child = HW.entry_pfn(e);
      const lo = base + i * span;
      if (level + 1 < v.fmt.bits.length - 1) visit(child, level + 1, lo);
      if (in_use(lo, lo + span) || tmm.pmds.includes(child)) continue;
      HW.write_entry(v.mem, v.fmt, table, i, { lo: 0, hi: 0 });
      account_table(mm, tmm, child, table_kind(v, level + 1), -1);
      v.mem.release(child);
      freed.push(child);
    }
  };
  if (tmm.pgd !== null && end > start) visit(tmm.pgd, 0, 0);
  return freed;
}
