// Typed tracepoints, named and formatted after Linux's (include/trace/events/*.h). Each feeds the
// run's trace hash and the bounded trace ring used for the timeline.
import { kernel } from "./kernel.ts";
import type { Task } from "./sched/task.ts";
import { task_state_char } from "./sched/task.ts";

/** Emits one tracepoint record, attributed to the task running on this CPU. */
export function emit(name: string, detail: string): void {
  kernel().trace(name, detail);
}

export const softirq_to_name = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "BLOCK_IOPOLL", "TASKLET", "SCHED", "HRTIMER", "RCU"] as const;

export const trace_irq_handler_entry = (irq: number, name: string): void => emit("irq_handler_entry", `irq=${irq} name=${name}`);
export const trace_irq_handler_exit = (irq: number, ret: number): void =>
  emit("irq_handler_exit", `irq=${irq} ret=${ret ? "handled" : "unhandled"}`);
export const trace_local_timer_entry = (vector: number): void => emit("local_timer_entry", `vector=${vector}`);
export const trace_local_timer_exit = (vector: number): void => emit("local_timer_exit", `vector=${vector}`);
export const trace_ipi_entry = (reason: string): void => emit("ipi_entry", `(${reason})`);
export const trace_ipi_exit = (reason: string): void => emit("ipi_exit", `(${reason})`);
export const trace_softirq_raise = (vec: number): void => emit("softirq_raise", `vec=${vec} [action=${softirq_to_name[vec]}]`);
export const trace_softirq_entry = (vec: number): void => emit("softirq_entry", `vec=${vec} [action=${softirq_to_name[vec]}]`);
export const trace_softirq_exit = (vec: number): void => emit("softirq_exit", `vec=${vec} [action=${softirq_to_name[vec]}]`);
export const trace_tasklet_entry = (func: string): void => emit("tasklet_entry", `function=${func}`);
export const trace_tasklet_exit = (func: string): void => emit("tasklet_exit", `function=${func}`);
export const trace_sched_switch = (prev: Task, next: Task): void =>
  emit(
    "sched_switch",
    `prev_comm=${prev.comm} prev_pid=${prev.pid} prev_state=${task_state_char(prev.state)} ==> next_comm=${next.comm} next_pid=${next.pid}`,
  );
export const trace_sched_wakeup = (p: Task, target: number): void =>
  emit("sched_wakeup", `comm=${p.comm} pid=${p.pid} target_cpu=${String(target).padStart(3, "0")}`);
export const trace_sched_process_exit = (p: Task): void => emit("sched_process_exit", `comm=${p.comm} pid=${p.pid}`);
export const trace_lock_acquire = (name: string, flags: string): void => emit("lock_acquire", `${flags}${name}`);
export const trace_lock_release = (name: string): void => emit("lock_release", name);
export const trace_lock_contended = (name: string): void => emit("lock_contended", name);
export const trace_lock_acquired = (name: string, waitNs: number): void => emit("lock_acquired", `${name} (${waitNs} ns)`);
export const trace_printk = (text: string): void => emit("bprint", text);
