// mm/vmalloc.c reduced: vmalloc / vzalloc / vmalloc_32 / vfree over the vmlist address
// allocator (vmalloc_area.ts), mapping one page at a time (HighMem allowed, except vmalloc_32)
// into the kernel master page table (init_mm, swapper_pg_dir) with global, writable PTEs; the
// page-table pages below the top level come from the page allocator as Linux's
// pte_alloc_kernel does. vfree unmaps, flushes the kmap range from every CPU's TLB and frees the
// pages; it is a BUG in interrupt context (2.6). The flush is flush_tlb_kernel_range(): an IPI
// to every other CPU, waiting until each has flushed (a CPU with interrupts off delays it).
// /proc/vmallocinfo lists the areas.
// A process page table made before a vmalloc lacks its top-level entry; vmalloc_fault() copies it
// from init_mm when the process touches the area (the lazy vmalloc fault).
// Simplified: swapper_pg_dir itself lives in a frame just past the end of RAM (Linux has it in
// the reserved kernel image, which mmsim does not model); the page array is not allocated (no
// kmalloc yet).
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { in_interrupt } from "../sched/core.ts";
import { BUG } from "../api_misc.ts";
import { flush_tlb_kernel_range } from "./tlb.ts";
import { init_memory_mapping } from "./init.ts";
import * as HW from "../../hw/mmu/paging.ts";
import { GFP_KERNEL, __GFP_DMA32, __GFP_HIGHMEM, __GFP_ZERO, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { __free_page, alloc_page, mm_of } from "./page_alloc.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import { VM_ALLOC, VM_MAP, VmList, vmalloc_range, type vm_struct } from "./vmalloc_area.ts";

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
}

const vms = new WeakMap<MmState, KernelVm>();

export function kernel_vm(mm: MmState): KernelVm {
  let v = vms.get(mm);
  if (v === undefined) {
    const r = vmalloc_range(mm.dm, mm.era);
    const root = mm.mem_map.nr_pages;
    v = { mem: new HW.PageTableMemory(), fmt: HW.FORMATS[mm.arch === "x86_64" ? "4level" : mm.dm.pae ? "pae" : "2level"], root, zero_pfn: root + 1, next_boot_frame: root + 2, list: new VmList(r.start, r.end), pages: new Map(), mapped: new Map(), table_pages: 0, vmalloc_faults: 0 };
    init_memory_mapping(mm, v, linear_of(mm, mm.dm.page_offset));
    vms.set(mm, v);
  }
  return v;
}

/**
 * vmalloc_fault(): a kernel address the process's table lacks at the top level but init_mm maps:
 * copy init_mm's top-level entry and return true (the access is retried).
 */
export function vmalloc_fault(mm: MmState, pgd: number, addr: kaddr_t): boolean {
  const v = vms.get(mm);
  if (v === undefined) return false;
  const i = HW.level_index(v.fmt, 0, linear_of(mm, addr));
  const ref = HW.read_entry(v.mem, v.fmt, v.root, i);
  if (!(ref.lo & HW._PAGE_PRESENT)) return false;
  HW.write_entry(v.mem, v.fmt, pgd, i, ref);
  v.vmalloc_faults++;
  return true;
}

/** vmalloc faults taken so far (lazy syncs of process page tables). */
export const vmalloc_faults = (): number => vms.get(mm_of(kernel()))?.vmalloc_faults ?? 0;

/** The kernel page tables if anything has used them on this machine. */
export const kernel_vm_if_used = (mm: MmState): KernelVm | undefined => vms.get(mm);

/** The linear address the MMU sees for a kernel address. */
export const linear_of = (mm: MmState, addr: kaddr_t): number => (mm.arch === "i386" ? addr : addr + 2 ** 47);

/** Allocates the page-table pages init_mm lacks for `addr` (pte_alloc_kernel). Context: may sleep. */
export const ensure_kernel_tables = (mm: MmState, v: KernelVm, addr: kaddr_t, gfp: gfp_t = GFP_KERNEL): Effect.Effect<boolean> =>
  Effect.gen(function* () {
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
        table = pt;
      } else table = HW.entry_pfn(e);
    }
    return true;
  });

/** set_pte for a kernel address whose page tables exist: maps `pfn` (0 entry: unmaps). */
export function set_kernel_pte(mm: MmState, v: KernelVm, addr: kaddr_t, pfn: number | null): void {
  const lin = linear_of(mm, addr);
  let table = v.root;
  for (let level = 0; level < v.fmt.bits.length - 1; level++) {
    const e = HW.read_entry(v.mem, v.fmt, table, HW.level_index(v.fmt, level, lin));
    if (!(e.lo & HW._PAGE_PRESENT)) return;
    table = HW.entry_pfn(e);
  }
  const entry = pfn === null ? { lo: 0, hi: 0 } : HW.make_entry(pfn, HW._PAGE_PRESENT | HW._PAGE_RW | HW._PAGE_GLOBAL);
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

/** __vmalloc(size, gfp): `size` bytes of virtually contiguous memory, or 0. Context: may sleep. */
export const __vmalloc = (size: number, gfp: gfp_t, caller = "vmalloc"): Effect.Effect<kaddr_t> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    // __get_vm_area_node(): BUG_ON(in_interrupt()); the page allocations below check might_sleep.
    if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vmalloc() in interrupt context");
    if (!Number.isInteger(size) || size <= 0) return 0;
    const v = kernel_vm(mm);
    const area = v.list.get_vm_area(size, VM_ALLOC, caller);
    if (area === null) return 0;
    const n = (area.size - PAGE) / PAGE;
    const pages: number[] = [];
    v.pages.set(area.addr, pages);
    for (let i = 0; i < n; i++) {
      const p = yield* alloc_page(gfp);
      if (p === null || !(yield* map_kernel_page(mm, v, area.addr + i * PAGE, p))) {
        if (p !== null) yield* __free_page(p);
        yield* vunmap_free(k, mm, v, area);
        return 0;
      }
      pages.push(p);
    }
    return area.addr;
  });

export const vmalloc = (size: number): Effect.Effect<kaddr_t> => __vmalloc(size, GFP_KERNEL | __GFP_HIGHMEM, "vmalloc");
export const vzalloc = (size: number): Effect.Effect<kaddr_t> => __vmalloc(size, GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO, "vzalloc");
/** vmalloc_32(): pages the 32-bit DMA engines can reach (GFP_KERNEL on i386, GFP_DMA32 on x86_64). */
export const vmalloc_32 = (size: number): Effect.Effect<kaddr_t> =>
  Effect.suspend(() => __vmalloc(size, mm_of(kernel()).arch === "x86_64" ? GFP_KERNEL | __GFP_DMA32 : GFP_KERNEL, "vmalloc_32"));

const vunmap_free = (k: Kernel, mm: MmState, v: KernelVm, area: vm_struct): Effect.Effect<void> =>
  Effect.gen(function* () {
    v.list.remove_vm_area(area.addr);
    const pages = v.pages.get(area.addr) ?? [];
    v.pages.delete(area.addr);
    for (let i = 0; i < pages.length; i++) unmap_kernel_page(mm, v, area.addr + i * PAGE);
    yield* flush_tlb_kernel_range(area.addr, area.addr + area.size);
    for (const p of pages) yield* __free_page(p);
  });

/** vmap(pages, count): maps the caller's pages contiguously in the vmalloc range, or 0. Context: may sleep. */
export const vmap = (pages: readonly number[], count: number): Effect.Effect<kaddr_t> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vmap() in interrupt context");
    if (count < 1 || count > pages.length) return 0;
    const v = kernel_vm(mm);
    const area = v.list.get_vm_area(count * PAGE, VM_MAP, "vmap");
    if (area === null) return 0;
    for (let i = 0; i < count; i++) {
      if (!(yield* map_kernel_page(mm, v, area.addr + i * PAGE, pages[i]!))) {
        for (let j = 0; j < i; j++) unmap_kernel_page(mm, v, area.addr + j * PAGE);
        v.list.remove_vm_area(area.addr);
        return 0;
      }
    }
    v.mapped.set(area.addr, pages.slice(0, count));
    return area.addr;
  });

/** vunmap(addr): unmaps a vmap area and flushes the TLBs; the pages stay the caller's. Context: process (BUG in interrupt). */
export const vunmap = (addr: kaddr_t): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vunmap() in interrupt context");
    const v = kernel_vm(mm);
    const pages = v.mapped.get(addr);
    if (pages === undefined) {
      k.report("bug", `WARNING: at mm/vmalloc.c vunmap(): Trying to vunmap() nonexistent vm area (0x${format_kaddr(mm.dm, addr)})`);
      return;
    }
    v.mapped.delete(addr);
    const area = v.list.remove_vm_area(addr)!;
    for (let i = 0; i < pages.length; i++) unmap_kernel_page(mm, v, addr + i * PAGE);
    yield* flush_tlb_kernel_range(addr, addr + area.size);
  });

/** vfree(addr): unmaps and frees a vmalloc area; vfree(0) does nothing. Context: process (BUG in interrupt). */
export const vfree = (addr: kaddr_t): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    if (addr === 0) return;
    if (in_interrupt()) return yield* BUG("mm/vmalloc.c: vfree() in interrupt context");
    const v = kernel_vm(mm);
    const area = v.list.areas.find((a) => a.addr === addr);
    if (area === undefined) {
      k.report("bug", [`WARNING: at mm/vmalloc.c vfree(): Trying to vfree() nonexistent vm area (${"0x" + format_kaddr(mm.dm, addr)})`].join("\n"));
      return;
    }
    yield* vunmap_free(k, mm, v, area);
  });

/** /proc/vmallocinfo: one line per area, "0x<start>-0x<end> <size> <caller> pages=<n> vmalloc". */
export function vmallocinfo(mm: MmState): string {
  const v = vms.get(mm);
  if (v === undefined) return "";
  return v.list.areas
    .map((a) => {
      const range = `0x${format_kaddr(mm.dm, a.addr)}-0x${format_kaddr(mm.dm, a.addr + a.size)} ${String(a.size).padStart(7)} ${a.caller}`;
      const mapped = v.mapped.get(a.addr);
      // s_show(): "pages=%d" for vmalloc areas, then the flags: " vmalloc" or " vmap".
      return mapped !== undefined ? `${range} vmap\n` : `${range} pages=${v.pages.get(a.addr)?.length ?? 0} vmalloc\n`;
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
