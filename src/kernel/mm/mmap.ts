// mm/mmap.c reduced to private anonymous read-write mappings, which is all a process here has.
// The layout is x86's top-down one (arch_pick_mmap_layout): mmap_base = TASK_SIZE - 128 MiB (the
// 8 MiB stack rlimit raised to MIN_GAP; no randomisation), and get_unmapped_area() takes the
// highest hole below it that fits. Mappings are not merged with their neighbours (vma_merge).
// munmap() unmaps a range (unmap_region: zap the pages, free the page tables nothing else uses,
// flush the TLBs, then free); exit_mmap() does it for everything when the process exits.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { current } from "../sched/core.ts";
import type { MmState } from "./mm_state.ts";
import type { mm_struct } from "./mm_types.ts";
import { mm_of } from "./page_alloc.ts";
import { free_pgd_range } from "./pgtable.ts";
import { tlb_finish_mmu, tlb_gather_mmu, zap_page_range } from "./memory.ts";
import { gen_fn } from "../gen_fn.ts";

const PAGE = 4096;
export const ENOMEM = 12;
export const EINVAL = 22;

/** TASK_SIZE: the top of user space (PAGE_OFFSET on i386, TASK_SIZE_MAX on x86_64). */
export const TASK_SIZE = (mm: MmState): number => (mm.arch === "i386" ? 0xc0000000 : 2 ** 47 - PAGE);

/** mmap_base(): TASK_SIZE less the stack gap (MIN_GAP, 128 MiB). */
export const mmap_base = (mm: MmState): number => TASK_SIZE(mm) - 128 * 1024 * 1024;

/** arch_get_unmapped_area_topdown(): the highest `len`-byte hole below mmap_base, or -ENOMEM. */
function get_unmapped_area(tmm: mm_struct, len: number): number {
  let top = tmm.mmap_base;
  for (let i = tmm.mmap.length - 1; i >= 0; i--) {
    const a = tmm.mmap[i]!;
    if (a.vm_start >= top) continue;
    if (top - a.vm_end >= len) return top - len;
    top = a.vm_start;
  }
  return top >= len + PAGE ? top - len : -ENOMEM;
}

function user_mm(what: string): mm_struct {
  const me = current();
  if (me.mm === null || kernel().this_ctx().kind !== "task") throw new ScenarioError(`${what}: ${me.comm} is not a user process (start it with process_run)`);
  return me.mm;
}

/**
 * mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) by the current
 * process: the address of the new mapping (its pages come at first touch), or -ENOMEM.
 * Context: user process.
 */
export function mmap_anon(len: number): number {
  const tmm = user_mm("mmap_anon");
  if (!Number.isInteger(len) || len <= 0) throw new ScenarioError(`mmap_anon(${len}): the length must be a positive number of bytes`);
  const size = Math.ceil(len / PAGE) * PAGE;
  const addr = get_unmapped_area(tmm, size);
  if (addr < 0) return addr;
  tmm.mmap.push({ vm_start: addr, vm_end: addr + size });
  tmm.mmap.sort((a, b) => a.vm_start - b.vm_start);
  tmm.total_vm += size / PAGE;
  return addr;
}

/** Removes [start, end) from the mappings, splitting those it cuts (detach_vmas_to_be_unmapped, split_vma). */
function detach_range(tmm: mm_struct, start: number, end: number): number {
  let pages = 0;
  const kept = [];
  for (const a of tmm.mmap) {
    const lo = Math.max(a.vm_start, start);
    const hi = Math.min(a.vm_end, end);
    if (lo >= hi) {
      kept.push(a);
      continue;
    }
    pages += (hi - lo) / PAGE;
    if (a.vm_start < lo) kept.push({ vm_start: a.vm_start, vm_end: lo });
    if (hi < a.vm_end) kept.push({ vm_start: hi, vm_end: a.vm_end });
  }
  tmm.mmap.splice(0, tmm.mmap.length, ...kept);
  tmm.total_vm -= pages;
  return pages;
}

/** unmap_region(): zap, free the page tables no mapping needs, flush, free. Context: may sleep. */
function* unmap_region(mm: MmState, tmm: mm_struct, start: number, end: number, fullmm: boolean): Effect.fn.Return<void> {
  const tlb = tlb_gather_mmu(mm, tmm, fullmm);
  yield* zap_page_range(mm, tlb, start, end);
  const tables = free_pgd_range(mm, tmm, start, end);
  yield* tlb_finish_mmu(mm, tlb, tables);
}

/** munmap(addr, len) by the current process: 0, or -EINVAL for a bad range. Context: user process, may sleep. */
export const munmap = gen_fn(function* munmap(addr: number, len: number): Effect.fn.Return<number> {
  const mm = mm_of(kernel());
  const tmm = user_mm("munmap");
  const end = addr + Math.ceil(len / PAGE) * PAGE;
  if (addr % PAGE !== 0 || len <= 0 || end > TASK_SIZE(mm)) return -EINVAL;
  if (detach_range(tmm, addr, end) === 0) return 0;
  yield* unmap_region(mm, tmm, addr, end, false);
  return 0;
});

/** exit_mmap(): everything the process mapped, and its page tables below the pgd. Context: may sleep. */
export function* exit_mmap(mm: MmState, tmm: mm_struct): Effect.fn.Return<void> {
  const start = tmm.mmap[0]?.vm_start ?? 0;
  const end = tmm.mmap[tmm.mmap.length - 1]?.vm_end ?? 0;
  detach_range(tmm, 0, TASK_SIZE(mm));
  yield* unmap_region(mm, tmm, start, end, true);
}
