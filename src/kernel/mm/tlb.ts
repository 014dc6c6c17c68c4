// arch/x86/mm/tlb.c (2.6.34; 6.1's range rule with kernel "6") and switch_mm: which CPUs' TLBs
// may hold an address space's translations, and the flushes that reach them.
// - switch_mm() loads the next process's page table into CR3 (a flush of every non-global
//   entry) and moves the CPU between the mm_cpumasks; a kernel thread keeps the previous
//   process's table loaded (lazy TLB mode). leave_mm() drops a lazy CPU back to swapper_pg_dir.
// - flush_tlb_mm / flush_tlb_page / flush_tlb_range flush here if this CPU runs the mm, and send
//   IPIs to the other CPUs in its mm_cpumask and wait: each flushes if it still runs the mm, or
//   leaves a lazily kept one (flush_tlb_func). 2.6.34's flush_tlb_range is flush_tlb_mm; 6.1
//   flushes page by page up to tlb_single_page_flush_ceiling (33) pages, everything beyond.
// - flush_tlb_all / flush_tlb_kernel_range (kernel mappings: global entries too) go to every
//   CPU; 6.1's flush_tlb_kernel_range also uses the ceiling.
// Simplified: the IPIs are call-function IPIs (2.6.34 has its own INVALIDATE_TLB vectors, 6.1
// uses smp_call_function_many too); no PCIDs; a CPU's active_mm is the mm its CR3 holds.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import type { PerCpu } from "../percpu.ts";
import { on_each_cpu, on_each_cpu_mask } from "../smp.ts";
import type { mm_struct } from "./mm_types.ts";
import { mm_of } from "./page_alloc.ts";
import type { kaddr_t } from "./page.ts";
import { linear_of } from "./vmalloc.ts";

const PAGE = 4096;
/** flush_tlb_info.va meaning "everything" (TLB_FLUSH_ALL). */
export const TLB_FLUSH_ALL = -1;
/** 6.1 tlb_single_page_flush_ceiling: longer ranges flush everything. */
export const tlb_single_page_flush_ceiling = 33;

// enum tlb_flush_reason, as the tlb_flush tracepoint prints it.
const REASONS = ["flush on task switch", "remote shootdown", "local shootdown", "local mm shootdown", "remote ipi send"] as const;
const TLB_FLUSH_ON_TASK_SWITCH = 0;
const TLB_REMOTE_SHOOTDOWN = 1;
const TLB_LOCAL_SHOOTDOWN = 2;
const TLB_LOCAL_MM_SHOOTDOWN = 3;

function trace_tlb_flush(k: Kernel, reason: number, pages: number): void {
  k.trace("tlb_flush", `pages:${pages} reason:${REASONS[reason]} (${reason})`);
}

/** load_cr3(): a new top-level table; every non-global TLB entry goes. */
function load_cr3(k: Kernel, pc: PerCpu, mm: mm_struct | null): void {
  pc.active_mm = mm;
  k.machine.tlbs[pc.id]!.flush_all(true);
  trace_tlb_flush(k, TLB_FLUSH_ON_TASK_SWITCH, -1);
}

/**
 * switch_mm(prev, next): called by the scheduler when a user process is switched in. A
 * different mm reloads CR3; the same one reloads it only if leave_mm() dropped this CPU from
 * its mask meanwhile (it may have missed flushes). Context: the scheduler, interrupts off.
 */
export function switch_mm(k: Kernel, pc: PerCpu, next: mm_struct): void {
  const prev = pc.active_mm;
  if (prev !== next) {
    prev?.cpumask.delete(pc.id);
    next.cpumask.add(pc.id);
    load_cr3(k, pc, next);
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
}

/** The local part: flush the user range (non-global entries) of `f` on this CPU. */
function local_flush(k: Kernel, pc: PerCpu, f: FlushInfo): void {
  const tlb = k.machine.tlbs[pc.id]!;
  if (f.pages === TLB_FLUSH_ALL) tlb.flush_all(true);
  else for (let i = 0; i < f.pages; i++) tlb.flush_page(f.start + i * PAGE);
}

/** flush_tlb_func(): an IPI's work on a CPU in the mm's mask. */
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

/** flush_tlb_others() and the local flush, the common body of the three user flushes. */
const flush_user = (f: FlushInfo): Effect.Effect<void> =>
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

/** flush_tlb_mm(mm): every user translation of `mm`, wherever it may be cached. Context: process, interrupts on. */
export const flush_tlb_mm = (mm: mm_struct): Effect.Effect<void> => flush_user({ mm, start: 0, pages: TLB_FLUSH_ALL });

/** flush_tlb_page(vma, addr): one user page of `mm`. Context: process, interrupts on. */
export const flush_tlb_page = (mm: mm_struct, addr: number): Effect.Effect<void> => flush_user({ mm, start: addr - (addr % PAGE), pages: 1 });

/** flush_tlb_range(vma, start, end): 2.6.34 flushes the whole mm; 6.1 page by page up to the ceiling. */
export const flush_tlb_range = (mm: mm_struct, start: number, end: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const pages = Math.ceil((end - start) / PAGE);
    const all = mm_of(kernel()).era === "2.6" || pages > tlb_single_page_flush_ceiling;
    return flush_user({ mm, start, pages: all ? TLB_FLUSH_ALL : pages });
  });

/** do_flush_tlb_all() / do_kernel_range_flush(): this CPU, global entries included; a remote one counts a shootdown. */
const do_kernel_flush = (info: unknown): Effect.Effect<void> =>
  Effect.sync(() => {
    const { initiator, start, pages } = info as { initiator: number; start: number; pages: number };
    const k = kernel();
    const cpu = k.this_cpu().id;
    const tlb = k.machine.tlbs[cpu]!;
    if (pages === TLB_FLUSH_ALL) tlb.flush_all(false);
    else for (let i = 0; i < pages; i++) tlb.flush_page(start + i * PAGE);
    if (cpu !== initiator) tlb.shootdowns++;
    trace_tlb_flush(k, cpu !== initiator ? TLB_REMOTE_SHOOTDOWN : TLB_LOCAL_SHOOTDOWN, pages);
  });

/** flush_tlb_all(): every CPU flushes its whole TLB, by IPI, and the caller waits. Context: process, interrupts on. */
export const flush_tlb_all = (): Effect.Effect<void> =>
  Effect.suspend(() => on_each_cpu(do_kernel_flush, { initiator: kernel().this_cpu().id, start: 0, pages: TLB_FLUSH_ALL }, true));

/**
 * flush_tlb_kernel_range(start, end): kernel mappings on every CPU, by IPI, waiting until all did:
 * 2.6.34 flushes everything (flush_tlb_all); 6.1 page by page up to the ceiling.
 * Context: process, interrupts on.
 */
export const flush_tlb_kernel_range = (start: kaddr_t, end: kaddr_t): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const mm = mm_of(k);
    const pages = Math.ceil((end - start) / PAGE);
    const all = mm.era === "2.6" || pages > tlb_single_page_flush_ceiling;
    return on_each_cpu(do_kernel_flush, { initiator: k.this_cpu().id, start: linear_of(mm, start), pages: all ? TLB_FLUSH_ALL : pages }, true);
  });

/** __flush_tlb_one(addr): invlpg on this CPU only. Context: any. */
export function __flush_tlb_one(addr: kaddr_t): void {
  const k = kernel();
  k.machine.tlbs[k.this_cpu().id]!.flush_page(linear_of(mm_of(k), addr));
}
