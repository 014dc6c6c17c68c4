// arch/x86/mm/fault.c, the user-mode part, and the process's own memory accesses: a user
// process reads or writes its memory (user_read / user_write) through this CPU's TLB, walking
// its page table (the one CR3 holds) in user mode on a miss; a fault (#PF with its error code)
// goes to handle_mm_fault() and the access is retried. VM_FAULT_OOM runs
// pagefault_out_of_memory(); an address no mapping covers is bad_area: "comm[pid]: segfault at
// addr ip (null) sp (null) error N" (user registers are not modelled, so ip and sp print as NULL
// pointers do; 6.1's %px prints zeros in full width and adds the CPU and the "Code:" line) and
// the process dies of SIGSEGV. A pending SIGKILL is acted on when the fault
// returns to user space. A TLB hit whose PTE is gone is reported as a stale TLB entry; a write
// hitting an entry cached clean walks again to set the PTE's Dirty bit. Each walk costs
// Costs.pageWalk plus its entry reads through the cache.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import * as HW from "../../hw/mmu/paging.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { current } from "../sched/core.ts";
import { return_to_user, SigSegv } from "../signal.ts";
import { check_stale, tlb_entry, walk_cost } from "./access.ts";
import { handle_mm_fault } from "./memory.ts";
import type { MmState } from "./mm_state.ts";
import type { mm_struct } from "./mm_types.ts";
import { out_of_memory } from "./oom_kill.ts";
import { mm_of } from "./page_alloc.ts";
import { kernel_vm } from "./vmalloc.ts";
import { trace_page_fault_user } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

const PAGE = 4096;

const hex = (a: number): string => a.toString(16);

/** One page's translation in user mode: [physical address, walk cost], or the #PF error code. */
function translate_user(k: Kernel, mm: MmState, cpu: number, tmm: mm_struct, addr: number, write: boolean): { pa: number; cost: number } | { error_code: number } {
  const v = kernel_vm(mm);
  const tlb = k.machine.tlbs[cpu]!;
  const hit = tlb.lookup(addr);
  if (hit !== null && hit.user && (!write || (hit.writable && hit.dirty))) {
    const now = HW.walk(v.mem, v.fmt, tmm.pgd!, addr, write, true, false);
    check_stale(k, mm, cpu, hex(addr), hit.pfn, write, now, `${current().comm}'s page table`);
    return { pa: hit.pfn * PAGE + (addr % PAGE), cost: 0 };
  }
  // An entry that forbids the access faults, and the CPU drops it; a write through a clean one
  // walks again to set the PTE's Dirty bit.
  if (hit !== null) tlb.invalidate(addr);
  const w = HW.walk(v.mem, v.fmt, tmm.pgd!, addr, write, true, true);
  k.charge(walk_cost(k, mm, cpu, addr, w.tables));
  if (!w.ok) return { error_code: w.error_code };
  tlb.insert(addr, tlb_entry(w));
  return { pa: w.pfn * PAGE + w.offset, cost: 0 };
}

/**
 * show_signal_msg(): the segfault line, with ip and sp 0 (user registers are not modelled).
 * 2.6.34 prints them with %p, "(null)" for NULL; 6.1 with %px in full width, then " likely on
 * CPU %d (core %d, socket %d)" (6.1, c926087eb385; mmsim's CPUs are one core each on socket 0)
 * and show_opcodes(), which cannot read the code at ip - 42.
 */
function show_signal_msg(k: Kernel, mm: MmState, addr: number, error_code: number): string[] {
  const me = current();
  const head = `${me.comm}[${me.pid}]: segfault at ${hex(addr)}`;
  if (mm.era === "2.6") return [`${head} ip (null) sp (null) error ${hex(error_code)}`];
  const width = mm.arch === "i386" ? 8 : 16;
  const zero = "0".repeat(width);
  const cpu = k.this_cpu().id;
  const prologue = (2n ** BigInt(width * 4) - 42n).toString(16); // regs->ip - PROLOGUE_SIZE, wrapped
  return [`${head} ip ${zero} sp ${zero} error ${hex(error_code)} likely on CPU ${cpu} (core ${cpu}, socket 0)`, `Code: Unable to access opcode bytes at 0x${prologue}.`];
}

/** do_page_fault() for a user-mode access: resolve it, or kill the process. Context: user process. */
function* do_page_fault(mm: MmState, tmm: mm_struct, addr: number, write: boolean, error_code: number): Effect.fn.Return<void> {
  const k = kernel();
  k.charge(k.costs.irqEntry); // the exception's entry and exit
  trace_page_fault_user(k, addr, error_code);
  const r = yield* handle_mm_fault(mm, tmm, addr, write);
  if (r === "sigsegv") {
    if (k.printk_ratelimit()) for (const line of show_signal_msg(k, mm, addr, error_code)) k.printk(line);
    return yield* Effect.die(new SigSegv("SIGSEGV"));
  }
  // pagefault_out_of_memory(): the OOM killer, then the fault is taken again.
  if (r === "oom" && !current().sigkill) yield* out_of_memory(mm, 0, 0);
  yield* return_to_user();
}

const user_access = gen_fn(function* user_access(addr: number, size: number, write: boolean): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  const tmm = current().mm;
  if (tmm === null || k.this_ctx().kind !== "task") throw new ScenarioError(`user_${write ? "write" : "read"}: ${current().comm} is not a user process (start it with process_run)`);
  if (!Number.isInteger(size) || size < 0) throw new ScenarioError(`user access of ${size} bytes: the size must be a non-negative integer`);
  for (let at = addr, left = size; left > 0; ) {
    const cpu = k.this_cpu().id; // a fault may sleep and wake elsewhere
    const n = Math.min(left, PAGE - (at % PAGE));
    const t = translate_user(k, mm, cpu, tmm, at, write);
    if ("error_code" in t) {
      yield* do_page_fault(mm, tmm, at, write, t.error_code);
      continue;
    }
    k.charge(k.machine.caches.access(cpu, t.pa, n, write));
    at += n;
    left -= n;
  }
});

/** The current process reads `size` bytes of its memory at user address `addr`. Context: user process, may sleep (faults). */
export const user_read = (addr: number, size: number): Effect.Effect<void> => user_access(addr, size, false);
/** The current process writes `size` bytes at user address `addr`. Context: user process, may sleep (faults). */
export const user_write = (addr: number, size: number): Effect.Effect<void> => user_access(addr, size, true);
