// arch/x86/mm/pageattr.c (2.6.34; 6.1's arch/x86/mm/pat/set_memory.c with kernel "6"):
// set_memory_ro / set_memory_rw, change_page_attr_set_clr() for vmalloc and vmap addresses. First
// kmap_flush_unused() (unused pkmap slots go, with a flush). Then each page, under cpa_lock: its
// PTE in init_mm gets _PAGE_RW cleared or set (Dirty and Accessed stay: both eras leave them;
// clearing D with RW came in 6.6), then its alias in the direct map (cpa_process_alias(): a
// lowmem frame is also mapped at __va(pfn); HighMem has none). A large direct-map page there
// whose protections differ from the request is split first (split_large_page(): cpa_lock
// dropped for alloc_pages(GFP_KERNEL); 1024 or 512 PTEs with the large page's protections; the
// new table installed with _KERNPG_TABLE in init_mm and, on i386 without PAE, in every process
// page directory (__set_pmd_pte over pgd_list); a local __flush_tlb_all(), the Atom AAH41
// workaround; meminfo's DirectMap lines move by one large page). 2.6.34 then flush_tlb_all()s
// every CPU before changing the new PTE (lazy CPUs leave their mm, as that flush makes them);
// 6.1 does not. A split is never undone. An unmapped page WARNs "CPA: called for zero pte" and
// the call fails with -EFAULT. If any entry changed, every CPU's TLB is flushed: 2.6.34
// on_each_cpu(__cpa_flush_range), a whole flush without leave_mm; 6.1 cpa_flush():
// flush_tlb_all() when an alias was processed (force_flush_all) or for more than 33 pages, else
// each page by invlpg on every CPU; with interrupts off either is a BUG (BUG_ON(irqs_disabled())).
// Simplified: only vmalloc/vmap addresses are accepted (the direct map, kmap and fixmap
// addresses are bad input); no try_preserve_large_page() of a request covering a whole large
// page (an alias request is one page); vm_unmap_aliases() has nothing to purge (mmsim's vfree and
// vunmap flush at once); pgd_lock is not taken; no kernel image, so neither static_protections()
// nor x86_64's high kernel-map alias applies; NX and PAT bits are not modelled.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import * as HW from "../../hw/mmu/paging.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { BUG } from "../api_misc.ts";
import { warn_text } from "../dumpstack.ts";
import { spin_lock, spin_lock_init, spin_unlock, type spinlock_t } from "../locking/spinlock.ts";
import { irqs_disabled } from "../sched/core.ts";
import { GFP_KERNEL } from "./gfp.ts";
import { kmap_flush_unused } from "./highmem.ts";
import type { MmState } from "./mm_state.ts";
import { __free_page, alloc_page, mm_of, with_frame } from "./page_alloc.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import { cpa_flush_tlb_all, flush_tlb_all, flush_tlb_kernel_range, tlb_single_page_flush_ceiling } from "./tlb.ts";
import { kernel_vm, linear_of, type KernelVm } from "./vmalloc.ts";
import { ENOMEM } from "./mmap.ts";
import { vmalloc_range } from "./vmalloc_area.ts";

const PAGE = 4096;
/** EFAULT: a page to change that nothing maps. */
export const EFAULT = 14;
/** _KERNPG_TABLE: what a split large page's new table is installed with. */
const _KERNPG_TABLE = HW._PAGE_PRESENT | HW._PAGE_RW | HW._PAGE_ACCESSED | HW._PAGE_DIRTY;

/** struct cpa_data, what mmsim needs of it. */
interface Cpa {
  readonly mask_set: number;
  readonly mask_clr: number;
  /** CPA_FLUSHTLB: some entry changed. */
  flushtlb: boolean;
  /** 6.1: an alias was processed, so cpa_flush() flushes everything. */
  force_flush_all: boolean;
}

/** The entry lookup_address() finds for linear `lin` in init_mm: a 4 KiB PTE or a large page. */
interface Kpte {
  readonly table: number;
  readonly idx: number;
  readonly level: number;
  readonly e: HW.Entry;
}

const locks = new WeakMap<MmState, spinlock_t>();
/** static DEFINE_SPINLOCK(cpa_lock): one per machine, made on first use. */
function cpa_lock(mm: MmState): spinlock_t {
  let l = locks.get(mm);
  if (l === undefined) locks.set(mm, (l = spin_lock_init("cpa_lock")));
  return l;
}
const warned_unaligned = new WeakSet<Kernel>();
const file_of = (mm: MmState): string => (mm.era === "2.6" ? "arch/x86/mm/pageattr.c" : "arch/x86/mm/pat/set_memory.c");

/** lookup_address(): the entry mapping `lin` (the last level, or one with PS), or null where a level is not present. */
function lookup_address(v: KernelVm, lin: number): Kpte | null {
  let table = v.root;
  for (let level = 0; level < v.fmt.bits.length; level++) {
    const idx = HW.level_index(v.fmt, level, lin);
    const e = HW.read_entry(v.mem, v.fmt, table, idx);
    if (!(e.lo & HW._PAGE_PRESENT)) return null;
    if (level === v.fmt.bits.length - 1 || (v.fmt.large.has(level) && e.lo & HW._PAGE_PSE)) return { table, idx, level, e };
    table = HW.entry_pfn(e);
  }
  return null;
}

/** The 4 KiB frame `kpte` maps at `lin` (inside a large page: its first frame plus the offset). */
function frame_of(v: KernelVm, kpte: Kpte, lin: number): number {
  if (kpte.level === v.fmt.bits.length - 1) return HW.entry_pfn(kpte.e);
  const per = 2 ** v.fmt.bits[kpte.level + 1]!;
  return HW.entry_pfn(kpte.e) - (HW.entry_pfn(kpte.e) % per) + (Math.floor(lin / PAGE) % per);
}

const new_prot = (cpa: Cpa, e: HW.Entry): HW.Entry => ({ lo: ((e.lo & ~cpa.mask_clr) | cpa.mask_set) >>> 0, hi: e.hi });

/** __set_pmd_pte(): the entry in init_mm and, on i386 without PAE (!SHARED_KERNEL_PMD), in every pgd. */
function __set_pmd_pte(mm: MmState, v: KernelVm, kpte: Kpte, e: HW.Entry): void {
  HW.write_entry(v.mem, v.fmt, kpte.table, kpte.idx, e);
  if (mm.arch !== "i386" || mm.dm.pae) return;
  for (const t of kernel().tasks) {
    const pgd = t.mm?.pgd;
    if (pgd !== null && pgd !== undefined) HW.write_entry(v.mem, v.fmt, pgd, kpte.idx, e);
  }
}

/**
 * split_large_page(): a new page-table page holding the large page's frames as 4 KiB PTEs with
 * its protections (PS cleared, Global kept) replaces the large entry; cpa_lock is dropped for the
 * allocation, and if another CPU split the page meanwhile the new page goes back. Returns 0 or
 * -ENOMEM. Context: may sleep; called and returns with cpa_lock held.
 */
function* split_large_page(mm: MmState, v: KernelVm, kpte: Kpte, lin: number): Effect.fn.Return<number> {
  const k = kernel();
  yield* spin_unlock(cpa_lock(mm));
  const base = yield* with_frame("split_large_page", alloc_page(GFP_KERNEL)); // 2.6.34: | __GFP_NOTRACK
  yield* spin_lock(cpa_lock(mm));
  if (base === null) return -ENOMEM;
  const now = lookup_address(v, lin);
  if (now === null || now.level !== kpte.level || now.table !== kpte.table) {
    yield* __free_page(base); // someone else split it up for us already
    return 0;
  }
  const per = 2 ** v.fmt.bits[kpte.level + 1]!;
  const first = frame_of(v, kpte, lin - (lin % (per * PAGE)));
  const ref_prot = ((kpte.e.lo & 0xfff & ~HW._PAGE_PSE) | HW._PAGE_GLOBAL) >>> 0;
  for (let i = 0; i < per; i++) HW.write_entry(v.mem, v.fmt, base, i, HW.make_entry(first + i, ref_prot));
  mm.dm.split_large++; // split_page_count()
  __set_pmd_pte(mm, v, kpte, HW.make_entry(base, _KERNPG_TABLE));
  k.machine.tlbs[k.this_cpu().id]!.flush_all(false); // __flush_tlb_all(), this CPU only
  return 0;
}

/** __cpa_process_fault(): nothing maps `addr`: a primary page WARNs and fails (-EFAULT); an alias is ignored. */
function cpa_process_fault(k: Kernel, mm: MmState, addr: kaddr_t, start: kaddr_t, primary: boolean): number {
  if (!primary) return 0;
  const msg = `CPA: called for zero pte. vaddr = ${format_kaddr(mm.dm, addr)} cpa->vaddr = ${format_kaddr(mm.dm, mm.era === "2.6" ? addr : start)}`;
  k.report("bug", warn_text(k.this_ctx(), file_of(mm), "__cpa_process_fault", [msg]));
  return -EFAULT;
}

/**
 * __change_page_attr(): the new protections for the page at `addr`; a large page whose
 * protections differ is split and looked up again. Returns [0 or -errno, the pfn mapped there].
 * Context: cpa_lock held, may sleep (a split allocates).
 */
function* __change_page_attr(mm: MmState, v: KernelVm, cpa: Cpa, addr: kaddr_t, start: kaddr_t, primary: boolean): Effect.fn.Return<[number, number]> {
  const lin = linear_of(mm, addr);
  for (;;) {
    const kpte = lookup_address(v, lin);
    if (kpte === null) return [cpa_process_fault(kernel(), mm, addr, start, primary), -1];
    const next = new_prot(cpa, kpte.e);
    const pfn = frame_of(v, kpte, lin);
    if (kpte.level === v.fmt.bits.length - 1) {
      if (next.lo !== kpte.e.lo) {
        HW.write_entry(v.mem, v.fmt, kpte.table, kpte.idx, next);
        cpa.flushtlb = true;
      }
      return [0, pfn];
    }
    // try_preserve_large_page(): nothing to change keeps the large page.
    if (next.lo === kpte.e.lo) return [0, pfn];
    const err = yield* split_large_page(mm, v, kpte, lin);
    if (err !== 0) return [err, -1];
    // 2.6.34: "a global flush tlb after splitting the large page and before we do the actual
    // change page attribute in the PTE", inside cpa_lock (gone by 6.1).
    if (mm.era === "2.6") yield* flush_tlb_all();
  }
}

/**
 * cpa_process_alias(): a lowmem frame's direct-map alias gets the same change, under cpa_lock
 * (its own __change_page_attr_set_clr(alias, 0) in Linux); HighMem has no alias.
 */
function* cpa_process_alias(mm: MmState, v: KernelVm, cpa: Cpa, pfn: number, start: kaddr_t): Effect.fn.Return<number> {
  if (pfn < 0 || pfn >= mm.dm.max_low_pfn) return 0; // pfn >= max_pfn_mapped
  cpa.force_flush_all = true;
  yield* spin_lock(cpa_lock(mm));
  const [err] = yield* __change_page_attr(mm, v, cpa, mm.dm.page_offset + pfn * PAGE, start, false);
  yield* spin_unlock(cpa_lock(mm));
  return err;
}

/** __change_page_attr_set_clr(): page by page under cpa_lock, each with its alias. Returns 0 or -errno. */
function* __change_page_attr_set_clr(mm: MmState, cpa: Cpa, start: kaddr_t, numpages: number): Effect.fn.Return<number> {
  const v = kernel_vm(mm);
  for (let i = 0; i < numpages; i++) {
    yield* spin_lock(cpa_lock(mm));
    const [err, pfn] = yield* __change_page_attr(mm, v, cpa, start + i * PAGE, start, true);
    yield* spin_unlock(cpa_lock(mm));
    if (err !== 0) return err;
    const alias = yield* cpa_process_alias(mm, v, cpa, pfn, start);
    if (alias !== 0) return alias;
  }
  return 0;
}

/** The TLB flush after a change (2.6.34 cpa_flush_range / cpa_flush_all; 6.1 cpa_flush / cpa_flush_all). */
function* cpa_flush(mm: MmState, cpa: Cpa, start: kaddr_t, numpages: number, ret: number): Effect.fn.Return<void> {
  if (irqs_disabled()) return yield* BUG(`${file_of(mm)}: ${mm.era === "2.6" ? "cpa_flush_range" : "cpa_flush"}() with interrupts disabled`);
  if (mm.era === "2.6") return yield* cpa_flush_tlb_all();
  if (ret !== 0 || cpa.force_flush_all || numpages > tlb_single_page_flush_ceiling) return yield* flush_tlb_all();
  yield* flush_tlb_kernel_range(start, start + numpages * PAGE); // __cpa_flush_tlb: invlpg each page everywhere
}

/** Only vmalloc/vmap addresses: anything else is bad input, named with what is accepted. */
function check_range(mm: MmState, fn: string, addr: kaddr_t, numpages: number): void {
  const r = vmalloc_range(mm.dm, mm.era);
  const what = `${fn}(0x${format_kaddr(mm.dm, addr)}, ${numpages})`;
  if (!Number.isInteger(numpages) || numpages < 0) throw new ScenarioError(`${what}: numpages must be a whole number of pages, 0 or more`);
  if (!Number.isInteger(addr) || addr < r.start || addr + numpages * PAGE > r.end) {
    throw new ScenarioError(`${what}: mmsim changes page attributes of vmalloc and vmap addresses only (0x${format_kaddr(mm.dm, r.start)}-0x${format_kaddr(mm.dm, r.end)}); the direct map, kmap and fixmap addresses are not accepted`);
  }
}

/** change_page_attr_set_clr(addr, numpages, mask_set, mask_clr). Returns 0 or -errno. Context: process, may sleep. */
const change_page_attr_set_clr = (fn: string, addr: kaddr_t, numpages: number, mask_set: number, mask_clr: number): Effect.Effect<number> =>
  with_frame(
    fn,
    Effect.gen(function* () {
      const k = kernel();
      const mm = mm_of(k);
      check_range(mm, fn, addr, numpages);
      if (addr % PAGE !== 0) {
        if (!warned_unaligned.has(k)) k.report("bug", warn_text(k.this_ctx(), file_of(mm), "change_page_attr_set_clr"));
        warned_unaligned.add(k); // WARN_ON_ONCE(1): people should not pass unaligned addresses
        addr -= addr % PAGE;
      }
      yield* kmap_flush_unused();
      const cpa: Cpa = { mask_set, mask_clr, flushtlb: false, force_flush_all: false };
      const ret = yield* __change_page_attr_set_clr(mm, cpa, addr, numpages);
      if (cpa.flushtlb) yield* cpa_flush(mm, cpa, addr, numpages, ret);
      return ret;
    }),
  );

/** set_memory_ro(addr, numpages): clears _PAGE_RW of vmalloc/vmap pages (and their direct-map aliases). Returns 0 or -errno. Context: process, may sleep. */
export const set_memory_ro = (addr: kaddr_t, numpages: number): Effect.Effect<number> => change_page_attr_set_clr("set_memory_ro", addr, numpages, 0, HW._PAGE_RW);

/** set_memory_rw(addr, numpages): sets _PAGE_RW of vmalloc/vmap pages (and their direct-map aliases). Returns 0 or -errno. Context: process, may sleep. */
export const set_memory_rw = (addr: kaddr_t, numpages: number): Effect.Effect<number> => change_page_attr_set_clr("set_memory_rw", addr, numpages, HW._PAGE_RW, 0);
