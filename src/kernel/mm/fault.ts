// arch/x86/mm/fault.c, the user-mode part, and the process's own memory accesses: a user
// process reads or writes its memory (user_read / user_write) through this CPU's TLB, walking
// its page table (the one CR3 holds) in user mode on a miss; a fault (#PF with its error code)
// goes to handle_mm_fault() and the access is retried. VM_FAULT_OOM runs
// pagefault_out_of_memory(); an address no mapping covers is bad_area: "comm[pid]: segfault at
// addr ip (null) sp (null) error N" (user registers are not modelled, so ip and sp print as NULL
// pointers do) and the process dies of SIGSEGV. A pending SIGKILL is acted on when the fault
// returns to user space. A TLB hit whose PTE is gone is reported as a stale TLB entry.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import * as HW from "../../hw/mmu/paging.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { current } from "../sched/core.ts";
import { return_to_user, SigSegv } from "../signal.ts";
import { check_stale } from "./access.ts";
import { handle_mm_fault } from "./memory.ts";
import type { MmState } from "./mm_state.ts";
import type { mm_struct } from "./mm_types.ts";
import { out_of_memory } from "./oom_kill.ts";
import { mm_of } from "./page_alloc.ts";
import { kernel_vm, walk_entry_addresses } from "./vmalloc.ts";

const PAGE = 4096;

const hex = (a: number): string => a.toString(16);

/** One page's translation in user mode: [physical address, walk cost], or the #PF error code. */
function translate_user(k: Kernel, mm: MmState, cpu: number, tmm: mm_struct, addr: number, write: boolean): { pa: number; cost: number } | { error_code: number } {
  const v = kernel_vm(mm);
  const tlb = k.machine.tlbs[cpu]!;
  const hit = tlb.lookup(addr);
  if (hit !== null && hit.user && (hit.writable || !write)) {
    const now = HW.walk(v.mem, v.fmt, tmm.pgd!, addr, write, true, false);
    check_stale(k, mm, cpu, hex(addr), hit.pfn, write, now, `${current().comm}'s page table`);
    return { pa: hit.pfn * PAGE + (addr % PAGE), cost: 0 };
  }
  // An entry that forbids the access faults, and the CPU drops it.
  if (hit !== null) tlb.invalidate(addr);
  const w = HW.walk(v.mem, v.fmt, tmm.pgd!, addr, write, true, true);
  let cost = 0;
  for (const pa of walk_entry_addresses(mm, addr, w.tables)) cost += k.machine.caches.access(cpu, pa, 4, false);
  k.charge(cost);
  if (!w.ok) return { error_code: w.error_code };
  tlb.insert(addr, { pfn: w.pfn, page_shift: w.page_shift, writable: w.writable, user: w.user, global: w.global });
  return { pa: w.pfn * PAGE + w.offset, cost: 0 };
}

/** do_page_fault() for a user-mode access: resolve it, or kill the process. Context: user process. */
const do_page_fault = (mm: MmState, tmm: mm_struct, addr: number, write: boolean, error_code: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    k.charge(k.costs.irqEntry); // the exception's entry and exit
    k.trace("page_fault_user", `address=${hex(addr)} error_code=0x${hex(error_code)}`);
    const r = yield* handle_mm_fault(mm, tmm, addr, write);
    if (r === "sigsegv") {
      const me = current();
      if (k.printk_ratelimit()) k.printk(`${me.comm}[${me.pid}]: segfault at ${hex(addr)} ip (null) sp (null) error ${hex(error_code)}`);
      return yield* Effect.die(new SigSegv("SIGSEGV"));
    }
    // pagefault_out_of_memory(): the OOM killer, then the fault is taken again.
    if (r === "oom" && !current().sigkill) yield* out_of_memory(mm, 0, 0);
    yield* return_to_user();
  });

const user_access = (addr: number, size: number, write: boolean): Effect.Effect<void> =>
  Effect.gen(function* () {
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
