// Memory accesses from kernel code: a read or write of `size` bytes at a kernel virtual address
// goes MMU -> TLB -> cache on the current CPU and charges its cost to the CPU's clock. No data
// is stored (the simulator models where bytes are, not what they are). A TLB miss walks the page
// table CR3 holds (the running process's, or swapper_pg_dir), entry by entry through the cache:
// the direct map's large pages (init.ts), vmalloc areas, kmap slots and the fixmap. A process
// table made before a vmalloc takes the lazy vmalloc fault; an address nothing maps is an oops
// ("BUG: unable to handle kernel paging request", or "NULL pointer dereference" below 4 KiB on
// i386) that stops the machine. A TLB hit on a vmalloc or kmap address whose entry has gone is
// a stale translation, reported. A write that hits an entry cached clean (by a read walk of a PTE
// without Dirty) walks again to set Dirty, as the CPU does. Every walk costs Costs.pageWalk plus
// its entry reads through the cache.
import { ScenarioError } from "../../sim/errors.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { mm_of } from "./page_alloc.ts";
import type { MmState } from "./mm_state.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import { kernel_vm, kernel_walk, vmalloc_fault, walk_entry_addresses } from "./vmalloc.ts";
import { vmalloc_range } from "./vmalloc_area.ts";
import { FIXADDR_TOP, PKMAP_BASE } from "./pgtable_32_types.ts";
import { dump_stack } from "../dumpstack.ts";
import { ScenarioBug } from "../bug.ts";
import * as HW from "../../hw/mmu/paging.ts";
import type { Translation } from "../../hw/mmu/tlb.ts";
import { data_linear } from "../segment.ts";
import { kasan_check_range } from "./kasan_report.ts";
import { trace_page_fault_kernel } from "./trace.ts";

const PAGE = 4096;
/** The linear address the MMU sees: i386 as is; x86_64 with the upper half folded to 2^47 and up. */
const linear = (mm: MmState, addr: kaddr_t): number => (mm.arch === "i386" ? addr : addr + 2 ** 47);

/** vmalloc and (i386) pkmap and fixmap addresses: mappings that are made and torn down. */
function remapped(mm: MmState, addr: kaddr_t): boolean {
  const vr = vmalloc_range(mm.dm, mm.era);
  if (addr >= vr.start && addr < vr.end) return true;
  // pkmap slots, then the fixmap (kmap_atomic / kmap_local) below FIXADDR_TOP.
  return mm.arch === "i386" && addr >= PKMAP_BASE(mm.dm.pae) && addr < FIXADDR_TOP;
}

const stale_reported = new WeakMap<MmState, Set<string>>();

/**
 * A TLB hit on an address whose page-table entry is gone or points elsewhere (`w`, the walk of
 * the table now): the page was unmapped (and maybe freed and reused) without a TLB flush
 * reaching this CPU. The access goes through the stale translation, as on real hardware; it is
 * reported once per page. `table` names the page table ("init_mm", or the process's).
 */
export function check_stale(k: Kernel, mm: MmState, cpu: number, addr: string, pfn: number, write: boolean, w: HW.Walk | null, table: string): void {
  if (w !== null && w.ok && w.pfn === pfn) return;
  let seen = stale_reported.get(mm);
  if (seen === undefined) stale_reported.set(mm, (seen = new Set()));
  const key = `${table} ${addr.slice(0, -3)}`;
  if (seen.has(key)) return;
  seen.add(key);
  const cur = k.this_cpu().curr;
  const state = pfn >= mm.mem_map.nr_pages ? "is the kernel's" : mm.alloc_order[pfn] === -1 ? "is free" : "was freed and is in use again";
  k.report(
    "stale_tlb",
    [
      `BUG: stale TLB entry: use-after-free at ${addr}`,
      `CPU${cpu} ${cur.comm}/${cur.pid} ${write ? "wrote" : "read"} through a cached translation to pfn ${pfn.toString(16)}, which ${table} no longer maps and which ${state}: no TLB flush reached this CPU since the page was unmapped`,
      ...dump_stack(k.this_ctx(), ["mem_access"]),
    ].join("\n"),
  );
}

/** The page table this CPU's CR3 holds: its active mm's, or swapper_pg_dir (undefined). */
const cr3 = (k: Kernel): number | undefined => k.this_cpu().active_mm?.pgd ?? undefined;

/**
 * The cost of one page walk of linear `lin` that read the entries of `tables`: the page-miss
 * handler's own latency (Costs.pageWalk) and each entry read through this CPU's cache.
 */
export function walk_cost(k: Kernel, mm: MmState, cpu: number, lin: number, tables: readonly number[]): number {
  let cost = k.costs.pageWalk;
  for (const pa of walk_entry_addresses(mm, lin, tables)) cost += k.machine.caches.access(cpu, pa, 4, false);
  return cost;
}

/** What the TLB caches of a successful walk (its Dirty flag as the walk left the entry). */
export const tlb_entry = (w: HW.Walk & { ok: true }): Translation => ({ pfn: w.pfn, page_shift: w.page_shift, writable: w.writable, user: w.user, global: w.global, dirty: w.dirty });

/**
 * A page walk of the table CR3 holds (a process's, or swapper_pg_dir) in supervisor mode, on a
 * TLB miss or for a write through a clean entry. A top-level miss that init_mm has is the lazy
 * vmalloc fault: its entry is copied and the walk retried (both walks cost). An unmapped address
 * is an oops. Returns [physical address, cost of the walks].
 */
function walk_kernel(k: Kernel, mm: MmState, cpu: number, addr: kaddr_t, write: boolean): [number, number] {
  const pgd = cr3(k);
  const lin = linear(mm, addr);
  let w = kernel_walk(mm, addr, write, true, pgd);
  let cost = 0;
  if (pgd !== undefined && !w.ok && w.level === 0 && vmalloc_fault(mm, pgd, addr)) {
    trace_page_fault_kernel(k, addr, mm.dm.arch);
    cost += walk_cost(k, mm, cpu, lin, w.tables) + k.costs.irqEntry; // the walk that faulted; the #PF entry and exit
    w = kernel_walk(mm, addr, write, true, pgd);
  }
  if (!w.ok) oops(k, mm, addr, w.error_code);
  cost += walk_cost(k, mm, cpu, lin, w.tables);
  k.machine.tlbs[cpu]!.insert(lin, tlb_entry(w));
  return [w.pfn * PAGE + w.offset, cost];
}

const hex = (v: number, digits: number): string => v.toString(16).padStart(digits, "0");

/** dump_pagetable(): the entries the walk of `addr` met, as 2.6.34 and 6.1 print them. */
function dump_pagetable(mm: MmState, addr: kaddr_t): string {
  const v = kernel_vm(mm);
  const k = kernel();
  let table = k.this_cpu().active_mm?.pgd ?? v.root;
  const lin = linear(mm, addr);
  const parts: string[] = [];
  const names = v.fmt.mode === "4level" ? (mm.era === "2.6" ? ["PGD", "PUD", "PMD", "PTE"] : ["PGD", "P4D", "PUD", "PMD", "PTE"]) : v.fmt.mode === "pae" ? ["*pdpt", "*pde", "*pte"] : ["*pde", "*pte"];
  for (let level = 0, n = 0; level < v.fmt.bits.length; level++, n++) {
    const e = HW.read_entry(v.mem, v.fmt, table, HW.level_index(v.fmt, level, lin));
    const val = e.hi * 2 ** 32 + (e.lo >>> 0);
    // Each printk ends in a space but x86_64's "PTE %lx"; the line then ends.
    if (v.fmt.mode === "4level") {
      parts.push(`${names[n]} ${val.toString(16)}${level === 3 ? "" : " "}`);
      if (mm.era === "6" && level === 0) parts.push(`${names[++n]} ${val.toString(16)} `); // the folded P4D
    } else parts.push(`${names[n]} = ${hex(val, v.fmt.words * 8)} `);
    if (!(e.lo & HW._PAGE_PRESENT) || e.lo & HW._PAGE_PSE) break;
    table = HW.entry_pfn(e);
  }
  return parts.join("");
}

/**
 * no_context() / page_fault_oops(): the oops for a kernel access nothing maps; the machine stops.
 * `inner`: the backtrace's innermost frames (the faulting function's first, for list.ts).
 */
export function oops(k: Kernel, mm: MmState, addr: kaddr_t, error_code: number, inner: readonly string[] = ["page_fault", "do_page_fault"]): never {
  const a = format_kaddr(mm.dm, addr);
  const is_null = mm.arch === "i386" && addr < PAGE;
  const preempt = k.config.preempt ? " PREEMPT" : "";
  const die = `Oops: ${hex(error_code, 4)} [#${++k.die_counter}]${preempt} SMP`;
  const lines =
    mm.era === "2.6"
      ? [`BUG: unable to handle kernel ${is_null ? "NULL pointer dereference" : "paging request"} at ${a}`, dump_pagetable(mm, addr), `${die} `]
      : [
          is_null ? `BUG: kernel NULL pointer dereference, address: ${a}` : `BUG: unable to handle page fault for address: ${a}`,
          `#PF: supervisor ${error_code & HW.PF_WRITE ? "write access" : "read access"} in kernel mode`,
          `#PF: error_code(0x${hex(error_code, 4)}) - ${error_code & HW.PF_PROT ? "permissions violation" : "not-present page"}`,
          dump_pagetable(mm, addr),
          die,
        ];
  k.report("bug", [...lines, ...dump_stack(k.this_ctx(), inner)].join("\n"));
  throw new ScenarioBug(lines[0]!);
}

/** Translates `addr` on `cpu` through its TLB; returns [physical address, walk cost]. */
function translate(k: Kernel, mm: MmState, cpu: number, addr: kaddr_t, write: boolean): [number, number] {
  const tlb = k.machine.tlbs[cpu]!;
  const lin = linear(mm, addr);
  const hit = tlb.lookup(lin);
  if (hit === null) return walk_kernel(k, mm, cpu, addr, write);
  if (write && !(hit.writable && hit.dirty)) {
    // A write through a read-only entry faults (the walk gives the error code); through a clean
    // one the CPU walks again to set the entry's Dirty bit in memory. Either way the entry is
    // dropped and the walk caches the new one.
    tlb.invalidate(lin);
    return walk_kernel(k, mm, cpu, addr, write);
  }
  // Mappings that change (vmalloc, kmap): a hit must still agree with the page table.
  if (remapped(mm, addr)) check_stale(k, mm, cpu, format_kaddr(mm.dm, addr), hit.pfn, write, kernel_walk(mm, addr, write, false), "init_mm");
  return [hit.pfn * PAGE + (lin % PAGE), 0];
}

/** A watch on kernel writes by physical address: CONFIG_DEBUG_SLAB's red zones and poison (slab.ts). */
export type WriteWatch = (mm: MmState, pa: number, n: number, val: number | undefined) => void;
let write_watch: WriteWatch | null = null;
export const set_write_watch = (f: WriteWatch): void => void (write_watch = f);

/**
 * One access. `via`: the string function doing it (memset, memcpy), whose KASAN check failing
 * means it does nothing; null: checked already; undefined: a plain load or store (checked, and
 * done even when KASAN reports).
 */
function access(addr: kaddr_t, size: number, write: boolean, val?: number, via?: string | null): void {
  const k = kernel();
  const mm = mm_of(k);
  const cpu = k.this_cpu().id;
  if (!Number.isInteger(size) || size < 0) throw new ScenarioError(`memory access of ${size} bytes: the size must be a non-negative integer`);
  if (k.detectors !== null) k.detectors.access(addr, size, write);
  // __asan_loadN / __asan_storeN, or memset's kasan_check_range() (mm/kasan/shadow.c).
  if (via !== null && !kasan_check_range(k, addr, size, write, via) && via !== undefined) return;
  if (mm.arch === "i386" && addr >= PAGE && addr < mm.dm.page_offset) {
    throw new ScenarioError(`kernel access to 0x${format_kaddr(mm.dm, addr)}: a user address (below PAGE_OFFSET); a process touches its memory with user_read/user_write`);
  }
  data_linear(k, addr, size); // logical -> linear through DS (flat: the same address)
  let cost = 0;
  // Page by page: each page is translated, its bytes go through the cache line by line.
  for (let at = addr, left = size; left > 0; ) {
    const n = Math.min(left, PAGE - (at % PAGE));
    const [pa, walk] = translate(k, mm, cpu, at, write);
    cost += walk + k.machine.caches.access(cpu, pa, n, write);
    if (write && write_watch !== null) write_watch(mm, pa, n, val);
    at += n;
    left -= n;
  }
  k.charge(cost);
}

/** A read of `size` bytes at kernel address `addr` (cost only). Context: any. */
export const mem_read = (addr: kaddr_t, size: number): void => access(addr, size, false);
/** A write of `size` bytes at kernel address `addr` (cost only). Context: any. */
export const mem_write = (addr: kaddr_t, size: number): void => access(addr, size, true);
/** memset(s, c, n): writes `n` bytes. Context: any. */
export const memset = (s: kaddr_t, c: number, n: number): void => access(s, n, true, c, "memset");
/** memcpy(dest, src, n): reads `n` bytes at `src` and writes them at `dest`. Context: any. */
export function memcpy(dest: kaddr_t, src: kaddr_t, n: number): void {
  // mm/kasan/shadow.c: both ranges are checked first; a report and the copy is not done.
  const k = kernel();
  if (!kasan_check_range(k, src, n, false, "memcpy") || !kasan_check_range(k, dest, n, true, "memcpy")) return;
  access(src, n, false, undefined, null);
  access(dest, n, true, undefined, null);
}
