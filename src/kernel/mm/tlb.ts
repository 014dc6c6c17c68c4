// arch/x86/mm/tlb.c (2.6.34; 6.1's rules with kernel "6") and switch_mm: which CPUs' TLBs may
// hold an address space's translations, and the flushes that reach them.
// - switch_mm() loads the next process's page table into CR3 (a flush of every non-global
//   entry) and moves the CPU between the mm_cpumasks; a kernel thread keeps the previous
//   process's table loaded (lazy TLB mode: the CPU's active_mm is not its current task's mm).
//   leave_mm() drops a lazy CPU back to swapper_pg_dir.
// - 2.6.34: flush_tlb_mm / flush_tlb_page / flush_tlb_range flush here if this CPU runs the mm,
//   and send IPIs to the other CPUs in its mm_cpumask and wait: each flushes if it still runs
//   the mm, or leaves a lazily kept one (flush_tlb_func). flush_tlb_range is flush_tlb_mm.
//   switch_mm() back to the mm a lazy CPU kept reloads CR3 only if leave_mm() dropped it.
// - 6.1 (flush_tlb_mm_range): every flush bumps mm->context.tlb_gen; each CPU remembers the
//   generation its TLB caught up to (cpu_tlbstate.ctxs[].tlb_gen). Ranges of up to
//   tlb_single_page_flush_ceiling (33) pages go page by page, longer ones flush everything.
//   flush_tlb_multi() IPIs the CPUs in mm_cpumask, but those in lazy TLB mode only when page
//   tables are being freed (freed_tables: flush_tlb_mm, and the mmu_gather of munmap or exit
//   when it freed tables; not flush_tlb_page / flush_tlb_range); a lazy CPU that does get the IPI
//   switches to init_mm (leave_mm). flush_tlb_func() skips a CPU already at the requested
//   generation, flushes the range only if that brings it exactly up to date (new_tlb_gen ==
//   local + 1 == mm's), else everything. A lazy CPU skipped stays in mm_cpumask and, switching
//   back to the mm, flushes then if the mm's tlb_gen moved meanwhile (switch_mm_irqs_off).
// - flush_tlb_all / flush_tlb_kernel_range (kernel mappings: global entries too) go to every
//   CPU, lazy or not; 6.1's flush_tlb_kernel_range also uses the ceiling. 2.6.34's
//   flush_tlb_kernel_range is flush_tlb_all, whose do_flush_tlb_all() makes a lazy CPU leave_mm()
//   (so vfree, vunmap and kmap's wrap-around drop lazy CPUs from the mm's cpumask); 6.1's does not.
// Simplified: the IPIs are call-function IPIs (2.6.34 has its own INVALIDATE_TLB vectors, 6.1
// uses smp_call_function_many too); no PCIDs (6.1 has one ASID context per CPU); a CPU's
// active_mm is the mm its CR3 holds; preemption is not disabled around a user flush (get_cpu()).
// "shootdowns" counts flush IPIs a CPU handled for another: 2.6.34 those that found the mm
// loaded, 6.1 every one (irq_tlb_count).
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { local_irq_restore, local_irq_save } from "../irqflags.ts";
import type { PerCpu } from "../percpu.ts";
import { on_each_cpu, on_each_cpu_mask } from "../smp.ts";
import type { mm_struct } from "./mm_types.ts";
import { mm_of } from "./page_alloc.ts";
import type { kaddr_t } from "./page.ts";
import { linear_of } from "./vmalloc.ts";
import { trace_tlb_flush } from "./trace.ts";

const PAGE = 4096;
/** flush_tlb_info.va meaning "everything" (TLB_FLUSH_ALL). */
export const TLB_FLUSH_ALL = -1;
/** 6.1 tlb_single_page_flush_ceiling: longer ranges flush everything. */
export const tlb_single_page_flush_ceiling = 33;

// enum tlb_flush_reason (TLB_FLUSH_REASONS in trace.ts names them).
const TLB_FLUSH_ON_TASK_SWITCH = 0;
const TLB_REMOTE_SHOOTDOWN = 1;
const TLB_LOCAL_SHOOTDOWN = 2;
const TLB_LOCAL_MM_SHOOTDOWN = 3;
const TLB_REMOTE_SEND_IPI = 4;

/** load_cr3(): a new top-level table; every non-global TLB entry goes. 6.1: the CPU is then at the mm's tlb_gen. */
function load_cr3(k: Kernel, pc: PerCpu, mm: mm_struct | null): void {
  pc.active_mm = mm;
  pc.loaded_tlb_gen = mm?.tlb_gen ?? 0;
  k.machine.tlbs[pc.id]!.flush_all(true);
  trace_tlb_flush(k, TLB_FLUSH_ON_TASK_SWITCH, -1);
}

/** Lazy TLB mode (cpu_tlbstate_shared.is_lazy): a process's table is loaded but not its process running. */
const is_lazy = (pc: PerCpu): boolean => pc.active_mm !== null && pc.curr.mm !== pc.active_mm;

/**
 * switch_mm(prev, next): called by the scheduler when a user process is switched in. A
 * different mm reloads CR3. The same one (the CPU kept it lazily while a kernel thread ran):
 * 2.6.34 reloads it only if leave_mm() dropped this CPU from its mask meanwhile (it may have
 * missed flushes); 6.1 (the CPU stays in the mask) reloads it if the mm's tlb_gen moved past
 * the CPU's. Context: the scheduler, interrupts off.
 */
export function switch_mm(k: Kernel, pc: PerCpu, next: mm_struct): void {
  const prev = pc.active_mm;
  if (prev !== next) {
    prev?.cpumask.delete(pc.id);
    next.cpumask.add(pc.id);
    load_cr3(k, pc, next);
  } else if (k.config.era === "6") {
    next.cpumask.add(pc.id);
    if (pc.loaded_tlb_gen !== next.tlb_gen) load_cr3(k, pc, next);
  } else if (!next.cpumask.has(pc.id)) {
    next.cpumask.add(pc.id);
    load_cr3(k, pc, next);
  }
}

/** leave_mm(cpu): a lazy CPU stops using the mm it kept: out of its mask, CR3 = swapper_pg_dir. */
export function leave_mm(k: Kernel, pc: PerCpu): void {
  pc.active_mm?.cpumask.delete(pc.id);
  load_cr3(k, pc, null);
}

interface FlushInfo {
  readonly mm: mm_struct;
  readonly start: number;
  /** Pages from start, or TLB_FLUSH_ALL. */
  readonly pages: number;
  /** 6.1: the generation this flush brings the mm to, whether page tables were freed, and who asked. */
  readonly new_tlb_gen: number;
  readonly freed_tables: boolean;
  readonly initiating_cpu: number;
}

/** The local part: flush the user range (non-global entries) of `f` on this CPU. */
function local_flush(k: Kernel, pc: PerCpu, f: FlushInfo): void {
  const tlb = k.machine.tlbs[pc.id]!;
  if (f.pages === TLB_FLUSH_ALL) tlb.flush_all(true);
  else for (let i = 0; i < f.pages; i++) tlb.flush_page(f.start + i * PAGE);
}

/** 2.6.34 flush_tlb_func(): an IPI's work on a CPU in the mm's mask. */
const flush_tlb_func = (info: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    const f = info as FlushInfo;
    const k = kernel();
    const pc = k.this_cpu();
    if (pc.active_mm !== f.mm) return;
    k.machine.tlbs[pc.id]!.shootdowns++;
    if (pc.curr.mm === f.mm) local_flush(k, pc, f);
    else leave_mm(k, pc);
    trace_tlb_flush(k, TLB_REMOTE_SHOOTDOWN, f.pages);
  });

/** 2.6.34: flush_tlb_others() and the local flush, the common body of the three user flushes. */
const flush_user_26 = (f: FlushInfo): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const pc = k.this_cpu();
    if (pc.active_mm === f.mm) {
      if (pc.curr.mm === f.mm) {
        local_flush(k, pc, f);
        trace_tlb_flush(k, TLB_LOCAL_MM_SHOOTDOWN, f.pages);
      } else leave_mm(k, pc);
    }
    const others = [...f.mm.cpumask].filter((c) => c !== pc.id).sort((a, b) => a - b);
    return others.length > 0 ? on_each_cpu_mask(others, flush_tlb_func, f, true) : Effect.void;
  });

/**
 * 6.1 flush_tlb_func(): on the initiating CPU or by IPI, with interrupts off. A remote CPU that
 * no longer has the mm loaded does nothing; a lazy one switches to init_mm; one already at the
 * flush's generation does nothing; otherwise the range (if that brings it exactly up to date)
 * or everything, and the CPU is at the mm's generation.
 */
const flush_tlb_func_6 = (info: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    const f = info as FlushInfo;
    const k = kernel();
    const pc = k.this_cpu();
    const local = pc.id === f.initiating_cpu;
    if (!local) {
      k.machine.tlbs[pc.id]!.shootdowns++; // inc_irq_stat(irq_tlb_count)
      if (f.mm !== pc.active_mm) return;
    }
    const loaded = pc.active_mm;
    if (loaded === null) return; // init_mm
    if (is_lazy(pc)) return leave_mm(k, pc); // switch_mm_irqs_off(NULL, &init_mm, NULL)
    if (f.new_tlb_gen <= pc.loaded_tlb_gen) return;
    const mm_tlb_gen = loaded.tlb_gen;
    let nr_invalidate = 0;
    if (pc.loaded_tlb_gen !== mm_tlb_gen) {
      const partial = f.pages !== TLB_FLUSH_ALL && f.new_tlb_gen === pc.loaded_tlb_gen + 1 && f.new_tlb_gen === mm_tlb_gen;
      nr_invalidate = partial ? f.pages : TLB_FLUSH_ALL;
      local_flush(k, pc, partial ? f : { ...f, pages: TLB_FLUSH_ALL });
      pc.loaded_tlb_gen = mm_tlb_gen;
    }
    trace_tlb_flush(k, local ? TLB_LOCAL_MM_SHOOTDOWN : TLB_REMOTE_SHOOTDOWN, nr_invalidate);
  });

/**
 * 6.1 native_flush_tlb_multi(): the flush on every CPU of `cpus` (this one included if listed),
 * skipping those in lazy TLB mode unless page tables were freed; waits for all.
 */
const flush_tlb_multi = (k: Kernel, cpus: readonly number[], f: FlushInfo): Effect.Effect<void> => {
  trace_tlb_flush(k, TLB_REMOTE_SEND_IPI, f.pages);
  const targets = f.freed_tables ? cpus : cpus.filter((c) => !is_lazy(k.percpu[c]!));
  return on_each_cpu_mask(targets, flush_tlb_func_6, f, true);
};

/**
 * flush_tlb_mm_range(mm, start, end, freed_tables) (6.1): the user translations of `mm` in
 * [start, end) (end TLB_FLUSH_ALL: all of them) wherever they may be cached; `freed_tables` when
 * page tables of the range were freed, so lazy CPUs must be reached too. Kernel "2.6" has no
 * such function: there it is flush_tlb_mm (2.6.34's tlb_flush and flush_tlb_range both flush the
 * whole mm). Context: process, interrupts on.
 */
export const flush_tlb_mm_range = (mm: mm_struct, start: number, end: number, freed_tables: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    if (mm_of(k).era === "2.6") return flush_user_26({ mm, start: 0, pages: TLB_FLUSH_ALL, new_tlb_gen: 0, freed_tables, initiating_cpu: k.this_cpu().id });
    const pc = k.this_cpu();
    const n = end === TLB_FLUSH_ALL ? TLB_FLUSH_ALL : Math.ceil((end - start) / PAGE);
    const all = n === TLB_FLUSH_ALL || n > tlb_single_page_flush_ceiling;
    // inc_mm_tlb_gen(): also the barrier against switch_mm reading it.
    const f: FlushInfo = { mm, start: all ? 0 : start, pages: all ? TLB_FLUSH_ALL : n, new_tlb_gen: ++mm.tlb_gen, freed_tables, initiating_cpu: pc.id };
    const cpus = [...mm.cpumask].sort((a, b) => a - b);
    if (cpus.some((c) => c !== pc.id)) return flush_tlb_multi(k, cpus, f);
    if (pc.active_mm !== mm) return Effect.void;
    const flags = local_irq_save();
    return Effect.andThen(flush_tlb_func_6(f), local_irq_restore(flags));
  });

/** flush_tlb_mm(mm): every user translation of `mm` (6.1: freed_tables, so lazy CPUs too). Context: process, interrupts on. */
export const flush_tlb_mm = (mm: mm_struct): Effect.Effect<void> => flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, true);

/** flush_tlb_page(vma, addr): one user page of `mm` (2.6.34: by invlpg locally and in the IPIs). Context: process, interrupts on. */
export const flush_tlb_page = (mm: mm_struct, addr: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const start = addr - (addr % PAGE);
    if (mm_of(k).era === "2.6") return flush_user_26({ mm, start, pages: 1, new_tlb_gen: 0, freed_tables: false, initiating_cpu: k.this_cpu().id });
    return flush_tlb_mm_range(mm, start, start + PAGE, false);
  });

/** flush_tlb_range(vma, start, end): 2.6.34 flushes the whole mm; 6.1 page by page up to the ceiling, no freed tables. */
export const flush_tlb_range = (mm: mm_struct, start: number, end: number): Effect.Effect<void> => flush_tlb_mm_range(mm, start, end, false);

/** What tlb_flush() needs of an mmu_gather (memory.ts's MmuGather has it). */
export interface TlbGather {
  readonly mm: mm_struct;
  readonly fullmm: boolean;
  readonly start: number;
  readonly end: number;
  /** pte_free_tlb() and friends set it: page tables of the range are being freed. */
  readonly freed_tables?: boolean;
}

/**
 * tlb_flush(tlb): the flush an mmu_gather needs before its pages go. 2.6.34 (asm/tlb.h):
 * flush_tlb_mm. 6.1: flush_tlb_mm_range over the gathered range, or everything for a full-mm
 * gather (exit), with the gather's freed_tables. An empty partial gather flushes nothing.
 * Context: process, interrupts on.
 */
export const tlb_flush = (tlb: TlbGather): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (!tlb.fullmm && !(tlb.end > tlb.start)) return Effect.void;
    const freed = tlb.freed_tables ?? false;
    return tlb.fullmm ? flush_tlb_mm_range(tlb.mm, 0, TLB_FLUSH_ALL, freed) : flush_tlb_mm_range(tlb.mm, tlb.start, tlb.end, freed);
  });

interface KernelFlush {
  readonly initiator: number;
  readonly start: number;
  readonly pages: number;
  /** 2.6.34 do_flush_tlb_all(): a CPU in lazy TLB mode then leaves the mm it kept. */
  readonly leave_lazy: boolean;
}

/**
 * do_flush_tlb_all() / do_kernel_range_flush() / __cpa_flush_range(): this CPU, global entries
 * included; a remote one counts a shootdown. 2.6.34's do_flush_tlb_all() then calls leave_mm()
 * on a CPU in lazy TLB mode (cpu_tlbstate.state == TLBSTATE_LAZY): it drops out of the kept
 * mm's cpumask and loads swapper_pg_dir. 6.1's does not, nor does pageattr's __cpa_flush_range.
 */
const do_kernel_flush = (info: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    const { initiator, start, pages, leave_lazy } = info as KernelFlush;
    const k = kernel();
    const pc = k.this_cpu();
    const cpu = pc.id;
    const tlb = k.machine.tlbs[cpu]!;
    if (pages === TLB_FLUSH_ALL) tlb.flush_all(false);
    else for (let i = 0; i < pages; i++) tlb.flush_page(start + i * PAGE);
    if (cpu !== initiator) tlb.shootdowns++;
    trace_tlb_flush(k, cpu !== initiator ? TLB_REMOTE_SHOOTDOWN : TLB_LOCAL_SHOOTDOWN, pages);
    if (leave_lazy && is_lazy(pc)) leave_mm(k, pc);
  });

const kernel_flush = (start: number, pages: number, leave_lazy: boolean): Effect.Effect<void> =>
  Effect.suspend(() => on_each_cpu(do_kernel_flush, { initiator: kernel().this_cpu().id, start, pages, leave_lazy } satisfies KernelFlush, true));

/** flush_tlb_all(): every CPU flushes its whole TLB, by IPI, and the caller waits (2.6.34: lazy CPUs leave their mm). Context: process, interrupts on. */
export const flush_tlb_all = (): Effect.Effect<void> => Effect.suspend(() => kernel_flush(0, TLB_FLUSH_ALL, kernel().config.era === "2.6"));

/**
 * on_each_cpu(__cpa_flush_range) (2.6.34 pageattr.c; also __cpa_flush_all): __flush_tlb_all()
 * on every CPU by IPI, waiting for all, with no lazy-mm handling. Context: process, interrupts on.
 */
export const cpa_flush_tlb_all = (): Effect.Effect<void> => kernel_flush(0, TLB_FLUSH_ALL, false);

/**
 * flush_tlb_kernel_range(start, end): kernel mappings on every CPU, by IPI, waiting until all did:
 * 2.6.34 flushes everything (it is flush_tlb_all); 6.1 page by page up to the ceiling.
 * Context: process, interrupts on.
 */
export const flush_tlb_kernel_range = (start: kaddr_t, end: kaddr_t): Effect.Effect<void> =>
  Effect.suspend(() => {
    const mm = mm_of(kernel());
    if (mm.era === "2.6") return flush_tlb_all();
    const pages = Math.ceil((end - start) / PAGE);
    return kernel_flush(linear_of(mm, start), pages > tlb_single_page_flush_ceiling ? TLB_FLUSH_ALL : pages, false);
  });

/** __flush_tlb_one(addr): invlpg on this CPU only. Context: any. */
export function __flush_tlb_one(addr: kaddr_t): void {
  const k = kernel();
  k.machine.tlbs[k.this_cpu().id]!.flush_page(linear_of(mm_of(k), addr));
}
