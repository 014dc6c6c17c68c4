// mm/memory.c do_anonymous_page() and kernel/exit.c exit_mm(), reduced to what memory pressure
// needs: a user process (a task with an mm) faults in anonymous pages (GFP_HIGHUSER_MOVABLE |
// __GFP_ZERO, on the active anon LRU, counted in total_vm and rss); a failed fault runs
// pagefault_out_of_memory() and retries. A SIGKILL (from the OOM killer) is acted on when the
// process returns to user space, which here is after a fault or at fatal_signal_pending(); the
// process then exits and exit_mm frees its pages. No page tables, no swap.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current, kthread_run, type KthreadOptions } from "../sched/core.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { PF_EXITING, type Task } from "../sched/task.ts";
import { spin_lock_irq, spin_unlock_irq } from "../locking/spinlock.ts";
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_ZERO } from "./gfp.ts";
import { LRU_ACTIVE_ANON } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import { __free_page, alloc_page, alloc_pages, free_pages_prepared, mm_of, with_frame } from "./page_alloc.ts";
import { PG_swapbacked } from "./page-flags.ts";
import { del_page_from_lru, lru_cache_add_lru } from "./swap.ts";
import { out_of_memory } from "./oom_kill.ts";
import { pgd_alloc, pgd_free } from "./vmalloc.ts";

/** The exit a SIGKILL causes, caught by the process's top level. */
class SigKill extends Error {
  override readonly name = "SigKill";
}

/** fatal_signal_pending(current). */
export const fatal_signal_pending = (p: Task = current()): boolean => p.sigkill;

/** Returning to user space: a pending SIGKILL ends the process here. */
const return_to_user = (): Effect.Effect<void> => (current().sigkill ? Effect.die(new SigKill("SIGKILL")) : Effect.void);

/**
 * touch_anon_pages(nr): the current user process writes to `nr` new pages of anonymous memory,
 * each one a page fault. Context: user process.
 */
export const touch_anon_pages = (nr: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    const me = current();
    if (me.mm === null) throw new ScenarioError(`touch_anon_pages: ${me.comm} is a kernel thread (start it with process_run)`);
    for (let i = 0; i < nr; i++) {
      yield* return_to_user();
      mm.ev.pgfault++;
      const p = yield* with_frame("handle_mm_fault", alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0));
      if (p === null) {
        // VM_FAULT_OOM: pagefault_out_of_memory(), then the fault is taken again.
        if (!me.sigkill) yield* out_of_memory(mm, 0, 0);
        i--;
        continue;
      }
      mm.mem_map.mapping[p] = -1; // PAGE_MAPPING_ANON
      mm.mem_map.set(p, PG_swapbacked);
      mm.page_zone(p)!.stat.nr_anon_pages++;
      yield* lru_cache_add_lru(mm, p, LRU_ACTIVE_ANON);
      me.mm.anon.push(p);
      me.mm.total_vm++;
    }
    yield* return_to_user();
  });

/** exit_mm(): unmaps and frees every anonymous page of the exiting process. */
const exit_mm = (mm: MmState, p: Task): Effect.Effect<void> =>
  Effect.gen(function* () {
    p.flags |= PF_EXITING;
    const pages = p.mm!.anon.splice(0);
    for (const pg of pages) {
      const z = mm.page_zone(pg)!;
      yield* spin_lock_irq(z.lru_lock);
      del_page_from_lru(mm, z, pg);
      yield* spin_unlock_irq(z.lru_lock);
      z.stat.nr_anon_pages--;
      mm.mem_map.mapping[pg] = 0;
      mm.mem_map._count[pg] = 0;
      yield* free_pages_prepared(mm, z, pg, 0, false);
    }
    p.mm!.total_vm = 0;
  });

/**
 * process_run(fn, data, comm): starts a user process (a task with an address space, which the
 * OOM killer may choose). It runs `fn`; a SIGKILL ends it at its next return to user space.
 * Its memory is freed when it exits either way.
 */
export function process_run<D>(fn: (data: D) => Effect.Effect<unknown>, data: D, comm: string, opts: KthreadOptions = {}): Task {
  const mm = mm_of(kernel());
  let task: Task | null = null;
  const user_process = (d: D) =>
    Effect.gen(function* () {
      // fork's pgd_alloc: a page for the top-level table, its kernel half copied from init_mm.
      const frame = yield* alloc_page(GFP_KERNEL | __GFP_ZERO);
      if (frame === null) return; // fork failed: -ENOMEM
      task!.mm!.pgd = pgd_alloc(mm, frame);
      yield* Effect.catchDefect(Effect.asVoid(fn(d)), (e) => ((e as Error)?.name === "SigKill" ? Effect.void : Effect.die(e)));
      yield* exit_mm(mm, task!);
      pgd_free(mm, frame);
      yield* __free_page(frame);
    });
  task = kthread_run(user_process, data, comm, opts);
  task.mm = { anon: [], total_vm: 0, pgd: null };
  return task;
}

/** Returns to user space between steps of a process's work: exits if SIGKILL is pending. */
export const signal_check = return_to_user;
