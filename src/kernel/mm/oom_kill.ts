// mm/oom_kill.c (2.6.34, or 6.1 with kernel "6", in each one's report format): when
// reclaim makes no progress, pick the user process with the highest badness (2.6.34: total_vm
// with the root divisors, the first of equals wins; 6.1: rss + swap entries + page tables, the
// last of equals wins), print
// the report (its header rate limited), mark it TIF_MEMDIE (it may use the reserves to exit) and
// send it SIGKILL. Kernel threads (no mm) are never chosen; while a chosen task has not exited,
// no other is killed. 2.6.34 prints no task list (oom_dump_tasks defaults to 0 there).
// Not modelled: 2.6.34's cpu-time and run-time divisors (1 for runs shorter than ~8 s of CPU and
// 1024 s), children (2.6.34 kills a child first; processes here have none), cpusets, memcgs,
// oom_adj / oom_score_adj (always 0), panic_on_oom, the 6.x oom_reaper.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { current, try_to_wake_up } from "../sched/core.ts";
import { PF_EXITING, TASK_DEAD, TASK_INTERRUPTIBLE, type Task } from "../sched/task.ts";
import { schedule_timeout_uninterruptible } from "../time/sleep.ts";
import { dump_stack } from "../dumpstack.ts";
import { format_gfp, gfp_value, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { show_mem } from "./show_mem.ts";
import { PAGE_SHIFT } from "./watermarks.ts";
import { trace_mark_victim } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

const K = (pages: number) => pages << (PAGE_SHIFT - 10);

/**
 * badness() (2.6.34: total_vm, divided by 4 for CAP_SYS_ADMIN and by 4 again for CAP_SYS_RAWIO,
 * which every process here has: they run as root, UID 0) / oom_badness() (6.1: rss + swap
 * entries + page tables; no root bonus since 4.17).
 */
export function badness(p: Task, era: "2.6" | "6"): number {
  if (p.mm === null) return 0;
  return era === "2.6" ? Math.floor(Math.floor(p.mm.total_vm / 4) / 4) : p.mm.rss + p.mm.pgtables_bytes / 4096;
}

const MAX_POINTS = Number.MAX_SAFE_INTEGER;

/**
 * select_bad_process(): the task with the most points. "abort" (kill nothing, let it finish)
 * while a chosen task has not exited or another task is exiting; an exiting current task is
 * chosen itself.
 */
function select_bad_process(k: Kernel, era: "2.6" | "6"): { p: Task; points: number } | "abort" | null {
  let chosen: { p: Task; points: number } | null = null;
  const cur = current();
  for (const p of k.tasks) {
    if (p.mm === null || p.state === TASK_DEAD || p.pid === 1) continue;
    if (p.memdie) return "abort";
    if (p.flags & PF_EXITING && era === "2.6") {
      if (p !== cur) return "abort";
      return { p, points: MAX_POINTS };
    }
    const points = badness(p, era);
    if (chosen === null || points > chosen.points || (era === "6" && points === chosen.points)) chosen = { p, points };
  }
  return chosen;
}

const pad = (v: number, w: number): string => String(v).padStart(w);

/** dump_tasks() of 6.1: one row per user process ("%7d %5d %5d %8lu %8lu %8ld %8lu         %5hd %s"). */
function dump_tasks(k: Kernel): string[] {
  const rows = ["Tasks state (memory values in pages):", "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"];
  for (const p of k.tasks) {
    if (p.mm === null || p.state === TASK_DEAD || p.pid === 1) continue;
    rows.push(`[${pad(p.pid, 7)}] ${pad(0, 5)} ${pad(p.pid, 5)} ${pad(p.mm.total_vm, 8)} ${pad(p.mm.rss, 8)} ${pad(p.mm.pgtables_bytes, 8)} ${pad(0, 8)}         ${pad(0, 5)} ${p.comm}`);
  }
  return rows;
}

/** dump_header(): the "invoked oom-killer" line, the backtrace, Mem-Info, and in 6.1 the task table. */
function dump_header(k: Kernel, mm: MmState, gfp: gfp_t, order: number): string[] {
  const cur = current();
  const head =
    mm.era === "2.6"
      ? `${cur.comm} invoked oom-killer: gfp_mask=0x${gfp_value(gfp, "2.6").toString(16)}, order=${order}, oom_adj=0`
      : `${cur.comm} invoked oom-killer: gfp_mask=0x${gfp_value(gfp, "6").toString(16)}(${format_gfp(gfp, "6")}), order=${order}, oom_score_adj=0`;
  return [head, ...dump_stack(k.this_ctx(), ["out_of_memory"]), ...show_mem(k, mm), ...(mm.era === "6" ? dump_tasks(k) : [])];
}

/** oom_kill_process(): the report, then TIF_MEMDIE and SIGKILL for the victim. */
function oom_kill_process(k: Kernel, mm: MmState, victim: Task, points: number, gfp: gfp_t, order: number): void {
  // An exiting victim is only marked, silently (2.6.34's PF_EXITING case).
  if (victim.flags & PF_EXITING) {
    mark_victim(k, mm, victim);
    return;
  }
  const vm = victim.mm!.total_vm;
  const anon = victim.mm!.rss;
  const pgtables = victim.mm!.pgtables_bytes >> 10;
  const tail =
    mm.era === "2.6"
      ? [
          `Out of memory: kill process ${victim.pid} (${victim.comm}) score ${points} or a child`,
          `Killed process ${victim.pid} (${victim.comm}) vsz:${K(vm)}kB, anon-rss:${K(anon)}kB, file-rss:0kB`,
        ]
      : [`Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${K(vm)}kB, anon-rss:${K(anon)}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:${pgtables}kB oom_score_adj:0`];
  // dump_header() is rate limited (printk_ratelimit in 2.6.34, oom_rs in 6.1, where the
  // constraint summary is part of it); the kill lines are not.
  const allowed = mm.era === "2.6" ? k.printk_ratelimit() : mm.ratelimit(mm.oom_rs, "oom_kill_process");
  const summary = mm.era === "6" ? [`oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=${victim.comm},pid=${victim.pid},uid=0`] : [];
  const header = allowed ? [...dump_header(k, mm, gfp, order), ...summary] : [];
  k.report("oom", [...header, ...tail].join("\n"));
  mark_victim(k, mm, victim);
}

/** mark_oom_victim() + SIGKILL: the victim may use the reserves and dies at its next chance. */
function mark_victim(k: Kernel, mm: MmState, victim: Task): void {
  mm.ev.oom_kill++;
  trace_mark_victim(k, victim.pid);
  victim.memdie = true;
  victim.sigkill = true;
  try_to_wake_up(victim, TASK_INTERRUPTIBLE);
}

/** out_of_memory(): kill a task unless one is already dying; then give it a jiffy to exit. Context: may sleep. */
export const out_of_memory = gen_fn(function* out_of_memory(mm: MmState, gfp: gfp_t, order: number): Effect.fn.Return<void> {
  const k = kernel();
  const chosen = select_bad_process(k, mm.era);
  if (chosen === null) {
    const last = mm.era === "2.6" ? ["Kernel panic - not syncing: Out of memory and no killable processes..."] : ["Out of memory and no killable processes...", "Kernel panic - not syncing: System is deadlocked on memory"];
    // 6.1 prints the header before panicking; 2.6.34's __out_of_memory panics at once.
    const header = mm.era === "6" ? dump_header(k, mm, gfp, order) : [];
    const text = [...header, ...last, ...dump_stack(k.this_ctx(), ["out_of_memory", "panic"])].join("\n");
    k.report("oom", text);
    k.halt(k.now(), "panic: out of memory and no killable processes");
    return yield* Effect.never;
  }
  if (chosen !== "abort") oom_kill_process(k, mm, chosen.p, chosen.points, gfp, order);
  if (!current().memdie) yield* schedule_timeout_uninterruptible(1);
});
