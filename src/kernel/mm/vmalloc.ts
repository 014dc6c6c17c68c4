// mm/vmalloc.c reduced: vmalloc / vzalloc / vmalloc_32 / vfree / vmap / vunmap over the vmlist
// address allocator (vmalloc_area.ts), mapping one page at a time (HighMem allowed, except
// vmalloc_32) into the kernel master page table (init_mm, swapper_pg_dir) with PAGE_KERNEL
// PTEs (global, writable, Accessed and Dirty already set); the page-table pages below the top
// level come from the page allocator as Linux's pte_alloc_kernel does. __vunmap() is the common teardown (vfree = __vunmap(addr, 1), vunmap =
// __vunmap(addr, 0), as in 2.6.34 and 6.1): it finds the area by its start address, unmaps it,
// flushes the range from every CPU's TLB (flush_tlb_kernel_range(): an IPI to every other CPU,
// waiting until each has flushed; a CPU with interrupts off delays it) and, for vfree, frees the
// pages an area made by vmalloc owns (a vmap area owns none, and vunmap of a vmalloc area leaves
// its pages allocated, as Linux does). Bad or unknown addresses are 2.6.34's WARNs "Trying to
// vfree() bad address" / "nonexistent vm area" (the pointer unhashed, also on 6.1).
// vfree in interrupt context: 2.6.34 checks BUG_ON(in_interrupt()) before anything else (so
// vfree(NULL) there is a BUG too); 6.1 first might_sleep_if(!in_interrupt()) (in process
// context while atomic: the might_sleep report, which 2.6.34 lacks), returns on NULL, then in
// interrupt context defers: __vfree_deferred() links the area into this CPU's vfree_deferred
// llist (a pointer written into the area's first word) and schedule_work()s free_work, which a
// kworker runs later in process context, __vunmap()ing each area (newest first, as
// llist_del_all returns them). vunmap is a BUG in interrupt context in both eras.
// Lazy vmalloc fault, 2.6: a process page table made before a vmalloc lacks its top-level entry;
// vmalloc_fault() copies it from init_mm when the process touches the area. 6.1 keeps every
// process page table in step instead: when init_mm gains a top-level (pgd) entry, it is copied
// into every live process's pgd at once (i386: arch_sync_kernel_mappings() with
// ARCH_PAGE_TABLE_SYNC_MASK = PGTBL_PMD_MODIFIED; x86_64 has no vmalloc_fault at all and
// preallocates the vmalloc range's PUD pages at boot, preallocate_vmalloc_pages()). Approximated:
// x86_64's boot-time preallocation is done on demand (the PUD page is allocated, and synced, on
// the first use of its 512 GiB, so 6.1 x86_64 machines have up to 63 fewer page-table pages than
// Linux), and i386's sync happens as the entry is written rather than after the whole range is
// mapped, so 6.1 i386's vmalloc_fault (kept for that race window) never finds anything to do.
// /proc/vmallocinfo lists the areas; the caller column is the function that called vmalloc /
// vzalloc / vmalloc_32 / vmap (the frame below them on the simulated stack, as %pS of
// __builtin_return_address(0) names it), without Linux's +offset/size: mmsim backtraces are
// function names only.
// Simplified: swapper_pg_dir itself lives in a frame just past the end of RAM (Linux has it in
// the reserved kernel image, which mmsim does not model); the page array is not allocated (no
// kmalloc yet); the TLB flush is done at once (2.6.28+ purge lazily); vmap and vunmap do not
// call might_sleep() (both eras' do).
import { kmemleak_alloc, kmemleak_free } from "./kmemleak.ts";
import { kasan_poison_vmalloc, kasan_unpoison_vmalloc } from "./kasan.ts";
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { __might_sleep, cond_resched, in_interrupt } from "../sched/core.ts";
import { BUG } from "../api_misc.ts";
import { warn_text } from "../dumpstack.ts";
import { INIT_WORK, schedule_work, type work_struct } from "../workqueue.ts";
import { mem_read, mem_write } from "./access.ts";
import { flush_tlb_kernel_range } from "./tlb.ts";
import { init_memory_mapping, PAGE_KERNEL } from "./init.ts";
import * as HW from "../../hw/mmu/paging.ts";
import { GFP_KERNEL, __GFP_DMA32, __GFP_HIGHMEM, __GFP_ZERO, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { __free_page, alloc_page, mm_of } from "./page_alloc.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import { VM_ALLOC, VM_MAP, VmList, vmalloc_range } from "./vmalloc_area.ts";
import { gen_fn } from "../gen_fn.ts";

const PAGE = 4096;

/** init_mm's page tables and the vmalloc areas' pages, created on first use. */
export interface KernelVm {
  readonly mem: HW.PageTableMemory;
  readonly fmt: HW.PagingFormat;
  /** swapper_pg_dir, then empty_zero_page, then the boot-time tables: frames past the end of RAM. */
  readonly root: number;
  readonly zero_pfn: number;
  next_boot_frame: number;
  readonly list: VmList;
  /** Each vmalloc area's pages, by start address (freed by vfree). */
  readonly pages: Map<kaddr_t, number[]>;
  /** Each vmap area's pages, by start address (the caller's; vunmap does not free them). */
  readonly mapped: Map<kaddr_t, number[]>;
  /** Page-table pages allocated for the vmalloc range. */
  table_pages: number;
  /** Lazy syncs of a process page table from init_mm (vmalloc_fault). */
  vmalloc_faults: number;
  /** 6.1: top-level entries copied into process page tables as init_mm gained them. */
  pgd_syncs: number;
  /** 6.1: each CPU's vfree_deferred (made on first use). */
  readonly vfree_deferred: VfreeDeferred[];
}

/** struct vfree_deferred: areas vfree()d in interrupt context on one CPU, and their work. */
interface VfreeDeferred {
  /** The llist, newest first (llist_add pushes at the head). */
  readonly list: kaddr_t[];
  readonly wq: work_struct;
}

const vms = new WeakMap<MmState, KernelVm>();

export function kernel_vm(mm: MmState): KernelVm {
  let v = vms.get(mm);
  if (v === undefined) {
    const r = vmalloc_range(mm.dm, mm.era);
    const root = mm.mem_map.nr_pages;
    v = { mem: new HW.PageTableMemory(), fmt: HW.FORMATS[mm.arch === "x86_64" ? "4level" : mm.dm.pae ? "pae" : "2level"], root, zero_pfn: root + 1, next_boot_frame: root + 2, list: new VmList(r.start, r.end), pages: new Map(), mapped: new Map(), table_pages: 0, vmalloc_faults: 0, pgd_syncs: 0, vfree_deferred: [] };
    init_memory_mapping(mm, v, linear_of(mm, mm.dm.page_offset));
    vms.set(mm, v);
  }
  return v;
}

/**
 * vmalloc_fault(): a kernel address the process's table lacks at the top level but init_mm maps:
 * copy init_mm's top-level entry and return true (the access is retried). 6.1 has it on i386
 * only, for vmalloc addresses only (the race arch_sync_kernel_mappings() leaves); x86_64 6.1 has
 * none, so such an access is an oops there.
 */
export function vmalloc_fault(mm: MmState, pgd: number, addr: kaddr_t): boolean {
  const v = vms.get(mm);
  if (v === undefined) return false;
  if (mm.era === "6") {
    const r = vmalloc_range(mm.dm, mm.era);
    if (mm.arch === "x86_64" || addr < r.start || addr >= r.end) return false;
  }
  const i = HW.level_index(v.fmt, 0, linear_of(mm, addr));
  const ref = HW.read_entry(v.mem, v.fmt, v.root, i);
  if (!(ref.lo & HW._PAGE_PRESENT)) return false;
  HW.write_entry(v.mem, v.fmt, pgd, i, ref);
  v.vmalloc_faults++;
  return true;
}

/**
 * 6.1's sync of a new top-level kernel entry `idx` of init_mm into every process page table
 * (i386 arch_sync_kernel_mappings() over pgd_list; on x86_64 the boot-time preallocation that
 * makes pgd_alloc() copy it, here done when the entry is made): every task with an mm and a pgd,
 * in kernel().tasks order.
 */
function sync_kernel_pgd(v: KernelVm, idx: number): void {
  const e = HW.read_entry(v.mem, v.fmt, v.root, idx);
  for (const t of kernel().tasks) {
    const pgd = t.mm?.pgd;
    if (pgd === null || pgd === undefined) continue;
    HW.write_entry(v.mem, v.fmt, pgd, idx, e);
    v.pgd_syncs++;
  }
}

/** vmalloc faults taken so far (lazy syncs of process page tables). */
export const vmalloc_faults = (): number => vms.get(mm_of(kernel()))?.vmalloc_faults ?? 0;

/** The kernel page tables if anything has used them on this machine. */
export const kernel_vm_if_used = (mm: MmState): KernelVm | undefined => vms.get(mm);

/** The linear address the MMU sees for a kernel address. */
export const linear_of = (mm: MmState, addr: kaddr_t): number => (mm.arch === "i386" ? addr : addr + 2 ** 47);

/**
 * Allocates the page-table pages init_mm lacks for `addr` (pte_alloc_kernel); 6.1 copies a new
 * top-level entry into every process page table at once. Context: may sleep.
 */
export const ensure_kernel_tables = gen_fn(function* ensure_kernel_tables(mm: MmState, v: KernelVm, addr: kaddr_t, gfp: gfp_t = GFP_KERNEL): Effect.fn.Return<boolean> {
  const lin = linear_of(mm, addr);
  let table = v.root;
  for (let level = 0; level < v.fmt.bits.length - 1; level++) {
    const idx = HW.level_index(v.fmt, level, lin);
    const e = HW.read_entry(v.mem, v.fmt, table, idx);
    if (!(e.lo & HW._PAGE_PRESENT)) {
      const pt = yield* alloc_page(gfp | __GFP_ZERO);
      if (pt === null) return false;
      v.table_pages++;
      HW.write_entry(v.mem, v.fmt, table, idx, HW.make_entry(pt, HW._PAGE_PRESENT | HW._PAGE_RW));
      if (level === 0 && mm.era === "6") sync_kernel_pgd(v, idx);
      table = pt;
    } else table = HW.entry_pfn(e);
  }
  return true;
});

/** set_pte for a kernel address whose page tables exist: maps `pfn` with PAGE_KERNEL (null: unmaps). */
export function set_kernel_pte(mm: MmState, v: KernelVm, addr: kaddr_t, pfn: number | null): void {
  const lin = linear_of(mm, addr);
  let table = v.root;
  for (let level = 0; level < v.fmt.bits.length - 1; level++) {
    const e = HW.read_entry(v.mem, v.fmt, table, HW.level_index(v.fmt, level, lin));
    if (!(e.lo & HW._PAGE_PRESENT)) return;
    table = HW.entry_pfn(e);
  }
  const entry = pfn === null ? { lo: 0, hi: 0 } : HW.make_entry(pfn, PAGE_KERNEL);
  HW.write_entry(v.mem, v.fmt, table, HW.level_index(v.fmt, v.fmt.bits.length - 1, lin), entry);
}

/** Maps `pfn` at `addr` in init_mm, allocating the missing page-table pages. Context: may sleep. */
const map_kernel_page = (mm: MmState, v: KernelVm, addr: kaddr_t, pfn: number): Effect.Effect<boolean> =>
  Effect.map(ensure_kernel_tables(mm, v, addr), (ok) => {
    if (ok) set_kernel_pte(mm, v, addr, pfn);
    return ok;
  });

/** Clears the PTE mapping `addr` (the page-table pages stay, as in Linux). */
const unmap_kernel_page = (mm: MmState, v: KernelVm, addr: kaddr_t): void => set_kernel_pte(mm, v, addr, null);

/** unmap_kernel_range_noflush(addr, size): clears the PTEs without any TLB flush (the caller's job). */
export function unmap_kernel_range_noflush(addr: kaddr_t, size: number): void {
  const mm = mm_of(kernel());
  const v = kernel_vm(mm);
  for (let a = addr; a < addr + size; a += PAGE) unmap_kernel_page(mm, v, a);
}

/** vmalloc_to_page(addr): the page mapped at a vmalloc address, or null. */
export function vmalloc_to_page(addr: kaddr_t): number | null {
  const mm = mm_of(kernel());
  const w = kernel_walk(mm, addr, false, false);
  return w.ok ? w.pfn : null;
}

/**
 * The caller's name for /proc/vmallocinfo (__builtin_return_address(0) of vmalloc and friends):
 * the innermost frame on this context's simulated stack, the function that called in.
 */
function caller_name(k: Kernel, api: string): string {
  const frames = k.this_ctx().frames;
  return frames[frames.length - 1] ?? api;
}

/** __vmalloc(size, gfp): `size` bytes of virtually contiguous memory, or 0. Context: may sleep. */
export const __vmalloc = gen_fn(function* __vmalloc(size: number, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  const k = kernel();
  const mm = mm_of(k);
  // __get_vm_area_node(): BUG_ON(in_interrupt()); the page allocations below check might_sleep.
  if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vmalloc() in interrupt context");
  if (!Number.isInteger(size) || size <= 0) return 0;
  const v = kernel_vm(mm);
  const area = v.list.get_vm_area(size, VM_ALLOC, caller_name(k, "vmalloc"));
  if (area === null) return 0;
  const n = (area.size - PAGE) / PAGE;
  const pages: number[] = [];
  v.pages.set(area.addr, pages);
  for (let i = 0; i < n; i++) {
    const p = yield* alloc_page(gfp);
    if (p === null || !(yield* map_kernel_page(mm, v, area.addr + i * PAGE, p))) {
      if (p !== null) yield* __free_page(p);
      yield* __vunmap(k, mm, area.addr, true); // __vmalloc_area_node's fail: vfree(area->addr)
      return 0;
    }
    pages.push(p);
  }
  kasan_unpoison_vmalloc(k, area.addr, size); // the requested size; the rest stays KASAN_VMALLOC_INVALID
  kmemleak_alloc(k, area.addr, size, "vmalloc");
  return area.addr;
});

/**
 * vmalloc(size): `size` bytes of virtually contiguous memory, page by page (GFP_KERNEL |
 * __GFP_HIGHMEM) mapped into the vmalloc area, or 0 (NULL). Context: process; may sleep; a kernel
 * BUG in interrupt context.
 */
export const vmalloc = (size: number): Effect.Effect<kaddr_t> => __vmalloc(size, GFP_KERNEL | __GFP_HIGHMEM);
/**
 * vzalloc(size): vmalloc(size) with the memory zeroed (__GFP_ZERO), or 0 (NULL). Context: process;
 * may sleep. Linux has it since 2.6.37; mmsim offers it on kernel 2.6 machines too.
 */
export const vzalloc = (size: number): Effect.Effect<kaddr_t> => __vmalloc(size, GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO);
/** vmalloc_32(): pages the 32-bit DMA engines can reach (GFP_KERNEL on i386, GFP_DMA32 on x86_64). */
export const vmalloc_32 = (size: number): Effect.Effect<kaddr_t> =>
  Effect.suspend(() => __vmalloc(size, mm_of(kernel()).arch === "x86_64" ? GFP_KERNEL | __GFP_DMA32 : GFP_KERNEL));

/** The %p of a WARN: the address as a pointer prints (2.6.34; 6.1 would hash it). */
const ptr = (mm: MmState, addr: kaddr_t): string => format_kaddr(mm.dm, addr);

/**
 * __vunmap(addr, deallocate_pages): the area starting at `addr` is unlinked (remove_vm_area),
 * unmapped and flushed from every TLB; with `deallocate_pages` the pages it owns are freed (6.1:
 * cond_resched() after each). A NULL address does nothing; a misaligned or unknown one WARNs.
 * Context: process, may sleep.
 */
function* __vunmap(k: Kernel, mm: MmState, addr: kaddr_t, deallocate_pages: boolean): Effect.fn.Return<void> {
  if (addr === 0) return;
  if (deallocate_pages) kmemleak_free(k, addr); // vfree()'s kmemleak_free()
  const v = kernel_vm(mm);
  const bad = addr % PAGE !== 0 ? "bad address" : v.list.areas.some((a) => a.addr === addr) ? null : "nonexistent vm area";
  if (bad !== null) {
    k.report("bug", warn_text(k.this_ctx(), "mm/vmalloc.c", "__vunmap", [`Trying to vfree() ${bad} (${ptr(mm, addr)})`]));
    return;
  }
  const area = v.list.remove_vm_area(addr)!;
  kasan_poison_vmalloc(k, area.addr, area.size);
  const owned = v.pages.get(addr) ?? [];
  v.pages.delete(addr);
  v.mapped.delete(addr);
  for (let a = addr; a < addr + area.size - PAGE; a += PAGE) unmap_kernel_page(mm, v, a);
  yield* flush_tlb_kernel_range(area.addr, area.addr + area.size);
  if (!deallocate_pages) return;
  for (const p of owned) {
    yield* __free_page(p);
    if (mm.era === "6") yield* cond_resched();
  }
}

/** vmap(pages, count): maps the caller's pages contiguously in the vmalloc range, or 0. Context: may sleep. */
export const vmap = gen_fn(function* vmap(pages: readonly number[], count: number): Effect.fn.Return<kaddr_t> {
  const k = kernel();
  const mm = mm_of(k);
  if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vmap() in interrupt context");
  if (count < 1 || count > pages.length) return 0;
  const v = kernel_vm(mm);
  const area = v.list.get_vm_area(count * PAGE, VM_MAP, caller_name(k, "vmap"));
  if (area === null) return 0;
  for (let i = 0; i < count; i++) {
    if (!(yield* map_kernel_page(mm, v, area.addr + i * PAGE, pages[i]!))) {
      for (let j = 0; j < i; j++) unmap_kernel_page(mm, v, area.addr + j * PAGE);
      v.list.remove_vm_area(area.addr);
      return 0;
    }
  }
  v.mapped.set(area.addr, pages.slice(0, count));
  kasan_unpoison_vmalloc(k, area.addr, count * PAGE); // __get_vm_area_node(), a non-VM_ALLOC mapping
  return area.addr;
});

/**
 * vunmap(addr): __vunmap(addr, 0): unmaps the area starting at `addr` (a vmap area, or one made
 * by vmalloc, whose pages then stay allocated) and flushes the TLBs; the pages are not freed.
 * Context: process (BUG in interrupt).
 */
export const vunmap = gen_fn(function* vunmap(addr: kaddr_t): Effect.fn.Return<void> {
  const k = kernel();
  if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vunmap() in interrupt context");
  yield* __vunmap(k, mm_of(k), addr, false);
});

/**
 * This CPU's vfree_deferred (vmalloc_init's INIT_WORK(&p->wq, free_work)). free_work() takes the
 * whole llist (llist_del_all: newest first) and __vunmap(addr, 1)s each area. Context: a kworker.
 */
function vfree_deferred_of(k: Kernel, mm: MmState, v: KernelVm, cpu: number): VfreeDeferred {
  const have = v.vfree_deferred[cpu];
  if (have !== undefined) return have;
  const list: kaddr_t[] = [];
  const free_work = gen_fn(function* free_work(_w: work_struct): Effect.fn.Return<void> {
    for (const addr of list.splice(0)) {
      mem_read(addr, mm.dm.arch === "i386" ? 4 : 8); // llist_for_each_safe reads llnode->next
      yield* __vunmap(k, mm, addr, true);
    }
  });
  return (v.vfree_deferred[cpu] = { list, wq: INIT_WORK(free_work) });
}

/**
 * __vfree_deferred(addr) (6.1): the area goes on this CPU's llist, its first word becoming the
 * list link; the first one queues free_work (llist_add returned true: the list was empty).
 */
function __vfree_deferred(k: Kernel, mm: MmState, addr: kaddr_t): void {
  const p = vfree_deferred_of(k, mm, kernel_vm(mm), k.this_cpu().id);
  mem_write(addr, mm.dm.arch === "i386" ? 4 : 8);
  p.list.unshift(addr);
  if (p.list.length === 1) schedule_work(p.wq);
}

/**
 * vfree(addr): unmaps and frees a vmalloc area; vfree(0) does nothing (after 2.6.34's
 * BUG_ON(in_interrupt()), and after 6.1's might_sleep_if(!in_interrupt()): in process context
 * under a spinlock, a might_sleep report). Context: process; in interrupt context a BUG (2.6)
 * or deferred to a kworker (6.1, __vfree_deferred).
 */
export const vfree = gen_fn(function* vfree(addr: kaddr_t): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  if (mm.era === "2.6") {
    if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vfree() in interrupt context");
    return yield* __vunmap(k, mm, addr, true);
  }
  // might_sleep_if(!in_interrupt()) comes before the NULL test (the line is not known: 0).
  if (!in_interrupt()) __might_sleep("mm/vmalloc.c", 0, 0);
  if (addr === 0) return;
  if (in_interrupt()) return __vfree_deferred(k, mm, addr);
  yield* __vunmap(k, mm, addr, true);
});

/** Areas vfree()d in interrupt context on `cpu` whose free_work has not run yet (6.1), newest first. */
export function vfree_deferred_pending(cpu: number): readonly kaddr_t[] {
  const v = vms.get(mm_of(kernel()));
  return v?.vfree_deferred[cpu]?.list ?? [];
}

/**
 * /proc/vmallocinfo (s_show): one line per area, "0x<start>-0x<end> <size> <caller>", then
 * " pages=<n>" if the area owns pages, then " vmalloc" (VM_ALLOC) or " vmap" (VM_MAP).
 */
export function vmallocinfo(mm: MmState): string {
  const v = vms.get(mm);
  if (v === undefined) return "";
  return v.list.areas
    .map((a) => {
      const range = `0x${format_kaddr(mm.dm, a.addr)}-0x${format_kaddr(mm.dm, a.addr + a.size)} ${String(a.size).padStart(7)} ${a.caller}`;
      const nr_pages = v.pages.get(a.addr)?.length ?? 0;
      return `${range}${nr_pages > 0 ? ` pages=${nr_pages}` : ""}${a.flags & VM_ALLOC ? " vmalloc" : ""}${a.flags & VM_MAP ? " vmap" : ""}\n`;
    })
    .join("");
}

/** A supervisor-mode walk of kernel address `addr` from `root` (default swapper_pg_dir), as the access path does. */
export function kernel_walk(mm: MmState, addr: kaddr_t, write: boolean, update = true, root?: number): HW.Walk {
  const v = kernel_vm(mm);
  return HW.walk(v.mem, v.fmt, root ?? v.root, linear_of(mm, addr), write, false, update);
}

/** The physical addresses of the entries a walk of linear address `lin` read, level by level. */
export function walk_entry_addresses(mm: MmState, lin: number, tables: readonly number[]): number[] {
  // (root frames past the end of RAM are still given addresses; the cache model does not care)
  const v = vms.get(mm)!;
  return tables.map((t, level) => t * PAGE + HW.level_index(v.fmt, level, lin) * 4 * v.fmt.words);
}
