// lib/smp_processor_id.c: CONFIG_DEBUG_PREEMPT's check that code asking which CPU it runs on
// cannot be moved to another CPU before it uses the answer. smp_processor_id() (and, through it,
// this_cpu_ptr(); in 6.1 also the __this_cpu_*() operations) in a task with preemption and
// interrupts on, which may migrate, prints
//   BUG: using smp_processor_id() in preemptible [00000000] code: comm/pid
//   caller is FUNC
// and a backtrace, rate-limited by printk_ratelimit() (10 every 5 s). A task bound to this CPU
// alone is exempt: 2.6.34 compares its cpus_allowed with this CPU's mask (so any task on a
// one-CPU machine is exempt); 6.1's is_percpu_thread() wants a kernel thread bound to one CPU
// (kthread_bind sets PF_NO_SETAFFINITY; mmsim: a kthread_run with one CPU in `cpus`), and 6.1
// also exempts migrate_disable() sections. "caller is" names the innermost simulated frame (the
// function that called it; Linux adds +offset/size): 2.6.34's debug_smp_processor_id() holds the
// check itself, 6.1's calls check_preemption_disabled() as a tail call, so both print the real
// caller. Simplified: no "system_state < SYSTEM_SCHEDULING" boot exemption (setup() has no CPU
// to ask about); the check needs CONFIG_PREEMPT (as DEBUG_PREEMPT depends on it).
import type { Kernel } from "./kernel.ts";
import type { PerCpu } from "./percpu.ts";
import type { Task } from "./sched/task.ts";
import { dump_stack } from "./dumpstack.ts";

/** The task may run on this CPU only (2.6.34's cpumask_equal test, 6.1's is_percpu_thread()). */
function bound_here(k: Kernel, p: Task, cpu: number): boolean {
  const allowed = p.cpus_allowed;
  if (k.config.era === "2.6" && allowed.length === 0) return k.percpu.length === 1;
  if (allowed.length === 0) return false;
  for (const c of allowed) if (c !== cpu) return false;
  // 6.1: PF_NO_SETAFFINITY, which kthread_bind() sets: a kernel thread, not a process.
  return k.config.era === "2.6" || p.mm === null;
}

/**
 * check_preemption_disabled(what1, what2): reports "BUG: using what1what2() in preemptible
 * [00000000] code: comm/pid" when this context could be preempted and moved to another CPU.
 * Context: any; reports only from a task with preemption and interrupts on.
 */
export function check_preemption_disabled(k: Kernel, pc: PerCpu, what1: string, what2: string): void {
  if (pc.preempt_count !== 0 || !pc.hw.irqs_enabled) return;
  if (k.config.debug_preempt === false || !k.config.preempt) return;
  const ctx = k.ctx;
  if (ctx === null || ctx.kind !== "task") return;
  const p = pc.curr;
  if (bound_here(k, p, pc.id)) return;
  if (k.config.era === "6" && p.migrate_disabled > 0) return;
  if (!k.printk_ratelimit()) return;
  const frames = ctx.frames;
  const caller = frames.length > 0 ? frames[frames.length - 1]! : ctx.name;
  const text = [
    // preempt_count() - 1 after the check's own preempt_disable_notrace(): 0.
    `BUG: using ${what1}${what2}() in preemptible [00000000] code: ${p.comm}/${p.pid}`,
    `caller is ${caller}`,
    ...dump_stack(ctx, [k.config.era === "2.6" ? "debug_smp_processor_id" : "check_preemption_disabled"]),
  ].join("\n");
  k.report("debug_preempt", text);
}

/** 6.1's __this_cpu_preempt_check(op): "BUG: using __this_cpu_OP() in preemptible ..." (2.6.34's __this_cpu ops have no check). */
export function __this_cpu_preempt_check(k: Kernel, pc: PerCpu, op: string): void {
  if (k.config.era !== "2.6" && pc.preempt_count === 0) check_preemption_disabled(k, pc, "__this_cpu_", op);
}
