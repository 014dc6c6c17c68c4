// mm/oom_kill.c (2.6.34; 6.x report lines with kernel "6"): when reclaim makes no progress, pick
// the user process with the highest badness (its total_vm in 2.6.34, its rss in 6.x; the cpu-time
// and run-time divisors of 2.6.34 are 1 for runs shorter than ~8 s of CPU and 1024 s, and are
// not modelled), print the report, mark it TIF_MEMDIE (it may use the reserves to exit) and send
// it SIGKILL. Kernel threads (no mm) are never chosen. While a chosen task has not exited yet,
// no other is killed. No children, cpusets, memcgs, oom_adj or panic_on_oom.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { current, try_to_wake_up } from "../sched/core.ts";
import { TASK_DEAD, TASK_INTERRUPTIBLE, type Task } from "../sched/task.ts";
import { schedule_timeout_uninterruptible } from "../time/sleep.ts";
import { dump_stack } from "../dumpstack.ts";
import { format_gfp, gfp_value, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { show_mem } from "./show_mem.ts";
import { PAGE_SHIFT } from "./watermarks.ts";

const K = (pages: number) => pages << (PAGE_SHIFT - 10);

/** badness() / oom_badness(): the pages the task would free. */
export function badness(p: Task): number {
  return p.mm === null ? 0 : p.mm.total_vm;
}

/** select_bad_process(): the task with the most points; "abort" while a chosen one is still exiting. */
function select_bad_process(k: Kernel): { p: Task; points: number } | "abort" | null {
  let chosen: { p: Task; points: number } | null = null;
  for (const p of k.tasks) {
    if (p.mm === null || p.state === TASK_DEAD || p.pid === 1) continue;
    if (p.memdie) return "abort";
    const points = badness(p);
    if (chosen === null || points > chosen.points) chosen = { p, points };
  }
  return chosen;
}

/** dump_tasks(): one row per user process. */
function dump_tasks(k: Kernel, era: "2.6" | "6"): string[] {
  const rows =
    era === "2.6"
      ? ["[ pid ]   uid  tgid total_vm      rss cpu oom_adj name"]
      : ["Tasks state (memory values in pages):", "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"];
  for (const p of k.tasks) {
    if (p.mm === null || p.state === TASK_DEAD) continue;
    const vm = p.mm.total_vm;
    const rss = p.mm.anon.length;
    rows.push(
      era === "2.6"
        ? `[${String(p.pid).padStart(5)}] ${String(0).padStart(5)} ${String(p.pid).padStart(5)} ${String(vm).padStart(8)} ${String(rss).padStart(8)} ${String(p.cpu).padStart(3)} ${String(0).padStart(7)} ${p.comm}`
        : `[${String(p.pid).padStart(7)}] ${String(0).padStart(5)} ${String(p.pid).padStart(5)} ${String(vm).padStart(8)} ${String(rss).padStart(8)} ${String(0).padStart(14)} ${String(0).padStart(8)} ${String(0).padStart(13)} ${p.comm}`,
    );
  }
  return rows;
}

/** oom_kill_process(): the report, then TIF_MEMDIE and SIGKILL for the victim. */
function oom_kill_process(k: Kernel, mm: MmState, victim: Task, points: number, gfp: gfp_t, order: number): void {
  const cur = current();
  const head =
    mm.era === "2.6"
      ? `${cur.comm} invoked oom-killer: gfp_mask=0x${gfp_value(gfp, "2.6").toString(16)}, order=${order}, oom_adj=0`
      : `${cur.comm} invoked oom-killer: gfp_mask=0x${gfp_value(gfp, "6").toString(16)}(${format_gfp(gfp, "6")}), order=${order}, oom_score_adj=0`;
  const vm = victim.mm!.total_vm;
  const anon = victim.mm!.anon.length;
  const tail =
    mm.era === "2.6"
      ? [
          `Out of memory: kill process ${victim.pid} (${victim.comm}) score ${points} or a child`,
          `Killed process ${victim.pid} (${victim.comm}) vsz:${K(vm)}kB, anon-rss:${K(anon)}kB, file-rss:0kB`,
        ]
      : [
          `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=${victim.comm},pid=${victim.pid},uid=0`,
          `Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${K(vm)}kB, anon-rss:${K(anon)}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0`,
        ];
  // dump_header() is rate limited; the kill lines are not.
  const header = k.printk_ratelimit() ? [head, ...dump_stack(k.this_ctx(), ["out_of_memory"]), ...show_mem(k, mm), ...dump_tasks(k, mm.era)] : [];
  k.report("oom", [...header, ...tail].join("\n"));
  mm.ev.oom_kill++;
  k.trace("mark_victim", `pid=${victim.pid}`);
  victim.memdie = true;
  victim.sigkill = true;
  try_to_wake_up(victim, TASK_INTERRUPTIBLE);
}

/** out_of_memory(): kill a task unless one is already dying; then give it a jiffy to exit. Context: may sleep. */
export const out_of_memory = (mm: MmState, gfp: gfp_t, order: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const chosen = select_bad_process(k);
    if (chosen === null) {
      const text = ["Kernel panic - not syncing: Out of memory and no killable processes...", ...dump_stack(k.this_ctx(), ["out_of_memory", "panic"])].join("\n");
      k.report("oom", text);
      k.halt(k.now(), "panic: out of memory and no killable processes");
      return yield* Effect.never;
    }
    if (chosen !== "abort") oom_kill_process(k, mm, chosen.p, chosen.points, gfp, order);
    if (!current().memdie) yield* schedule_timeout_uninterruptible(1);
  });
