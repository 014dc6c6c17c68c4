// User processes, reduced to what memory needs (kernel/fork.c mm_init + pgd_alloc, kernel/exit.c
// exit_mm + mmput): process_run() starts a task with an address space (a page table from the
// allocator, the kernel half copied from swapper_pg_dir), which the OOM killer may choose. It
// maps anonymous memory (mmap_anon), touches it (user_read / user_write, or touch_anon_pages)
// and exits; SIGKILL from the OOM killer ends it at its next return to user space, SIGSEGV at a
// bad access. On exit its mappings and page tables are unmapped, the TLBs flushed and the pages
// freed (exit_mmap), then the pgd (pgd_free). Simplified: the exiting task keeps its mm until
// that is done (Linux clears task->mm first; here the OOM killer keeps waiting for it), a
// process is single-threaded, and fork fails silently (the task just ends) without memory.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current, kthread_run, type KthreadOptions } from "../sched/core.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { PF_EXITING, type Task } from "../sched/task.ts";
import { user_write } from "./fault.ts";
import { exit_mmap, mmap_anon, mmap_base } from "./mmap.ts";
import { mm_struct } from "./mm_types.ts";
import { mm_of } from "./page_alloc.ts";
import { pgd_alloc, pgd_free } from "./pgtable.ts";
import { leave_mm } from "./tlb.ts";
import { effect_fn, gen_fn, type EffectFn } from "../gen_fn.ts";

const PAGE = 4096;

/**
 * touch_anon_pages(nr): the current user process maps `nr` new pages of anonymous memory and
 * writes to each, so each is a page fault. Context: user process, may sleep.
 */
export const touch_anon_pages = gen_fn(function* touch_anon_pages(nr: number): Effect.fn.Return<void> {
  if (current().mm === null) throw new ScenarioError(`touch_anon_pages: ${current().comm} is a kernel thread (start it with process_run)`);
  if (nr <= 0) return;
  const addr = mmap_anon(nr * PAGE);
  if (addr < 0) throw new ScenarioError(`touch_anon_pages(${nr}): no room left in ${current().comm}'s address space`);
  for (let i = 0; i < nr; i++) yield* user_write(addr + i * PAGE, 4);
});

/** exit_mm() + mmput(): the address space goes; this CPU then runs on swapper_pg_dir. */
function* exit_mm(p: Task): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  const tmm = p.mm!;
  p.flags |= PF_EXITING;
  yield* exit_mmap(mm, tmm);
  const pc = k.this_cpu();
  if (pc.active_mm === tmm) leave_mm(k, pc);
  yield* pgd_free(mm, tmm);
}

/**
 * process_run(fn, data, comm): starts a user process (a task with an address space, which the
 * OOM killer may choose). It runs `fn`; a SIGKILL or SIGSEGV ends it at once. Its memory is
 * freed when it exits either way.
 */
export function process_run<D>(fn_: EffectFn<[data: D], unknown>, data: D, comm: string, opts: KthreadOptions = {}): Task {
  const fn = effect_fn(fn_);
  const mm = mm_of(kernel());
  let task: Task | null = null;
  const user_process = gen_fn(function* user_process(d: D) {
    // fork's pgd_alloc: the top-level table (and PAE's PMDs), its kernel half copied from init_mm.
    if (!(yield* pgd_alloc(mm, task!.mm!))) return; // fork failed: -ENOMEM
    yield* Effect.catchDefect(Effect.asVoid(fn(d)), (e) => {
      const name = (e as Error)?.name;
      return name === "SigKill" || name === "SigSegv" ? Effect.void : Effect.die(e);
    });
    yield* exit_mm(task!);
  });
  // Backtraces (and vmallocinfo's caller) name the scenario's function, not this wrapper.
  Object.defineProperty(user_process, "name", { value: fn.name || comm });
  task = kthread_run(user_process, data, comm, opts);
  task.mm = new mm_struct(mmap_base(mm));
  return task;
}
