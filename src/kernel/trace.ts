// Typed tracepoints, named and formatted after Linux's (include/trace/events/*.h: irq.h, ipi.h,
// sched.h, lock.h, and trace_printk's bprint). Each event type is numbers (strings interned into
// the run's trace); its formatter prints the detail exactly as the tracepoint's TP_printk does,
// only when something prints the event. mm's tracepoints are in mm/trace.ts.
// To add one: define its type once at module level with define_trace_event(name, fields,
// format), and emit it with kernel().trace(TYPE, args...) (k.str(s) interns a string argument).
import { define_trace_event as def } from "../sim/trace.ts";
import { kernel, TP_BUG_REPORT } from "./kernel.ts";
import type { Task } from "./sched/task.ts";
import type { PerCpu } from "./percpu.ts";
import { task_state_char, type TaskState } from "./sched/task.ts";

export { TP_BUG_REPORT };

export const softirq_to_name = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "BLOCK_IOPOLL", "TASKLET", "SCHED", "HRTIMER", "RCU"] as const;

const softirq = (vec: number): string => `vec=${vec} [action=${softirq_to_name[vec]}]`;

export const TP_IRQ_HANDLER_ENTRY = def("irq_handler_entry", { irq: "num", name: "str" }, (e, s) => `irq=${e.a0} name=${s.str(e.a1)}`);
export const TP_IRQ_HANDLER_EXIT = def("irq_handler_exit", { irq: "num", ret: "num" }, (e) => `irq=${e.a0} ret=${e.a1 ? "handled" : "unhandled"}`);
export const TP_LOCAL_TIMER_ENTRY = def("local_timer_entry", { vector: "num" }, (e) => `vector=${e.a0}`);
export const TP_LOCAL_TIMER_EXIT = def("local_timer_exit", { vector: "num" }, (e) => `vector=${e.a0}`);
export const TP_IPI_ENTRY = def("ipi_entry", { reason: "str" }, (e, s) => `(${s.str(e.a0)})`);
export const TP_IPI_EXIT = def("ipi_exit", { reason: "str" }, (e, s) => `(${s.str(e.a0)})`);
export const TP_SOFTIRQ_RAISE = def("softirq_raise", { vec: "num" }, (e) => softirq(e.a0));
export const TP_SOFTIRQ_ENTRY = def("softirq_entry", { vec: "num" }, (e) => softirq(e.a0));
export const TP_SOFTIRQ_EXIT = def("softirq_exit", { vec: "num" }, (e) => softirq(e.a0));
export const TP_TASKLET_ENTRY = def("tasklet_entry", { func: "str" }, (e, s) => `function=${s.str(e.a0)}`);
export const TP_TASKLET_EXIT = def("tasklet_exit", { func: "str" }, (e, s) => `function=${s.str(e.a0)}`);
export const TP_SCHED_SWITCH = def(
  "sched_switch",
  { prev_comm: "str", prev_pid: "num", prev_state: "num", next_comm: "str", next_pid: "num" },
  (e, s) => `prev_comm=${s.str(e.a0)} prev_pid=${e.a1} prev_state=${task_state_char(e.a2 as TaskState)} ==> next_comm=${s.str(e.a3)} next_pid=${e.a4}`,
);
export const TP_SCHED_WAKEUP = def("sched_wakeup", { comm: "str", pid: "num", target_cpu: "num" }, (e, s) => `comm=${s.str(e.a0)} pid=${e.a1} target_cpu=${String(e.a2).padStart(3, "0")}`);
export const TP_SCHED_PROCESS_EXIT = def("sched_process_exit", { comm: "str", pid: "num" }, (e, s) => `comm=${s.str(e.a0)} pid=${e.a1}`);
/** lock_acquire's flags, as lock.h prints them: bit 0 "try ", bit 1 "read ". */
export const TRACE_LOCK_TRY = 1;
export const TRACE_LOCK_READ = 2;
export const TP_LOCK_ACQUIRE = def("lock_acquire", { flags: "num", name: "str" }, (e, s) => `${e.a0 & TRACE_LOCK_TRY ? "try " : ""}${e.a0 & TRACE_LOCK_READ ? "read " : ""}${s.str(e.a1)}`);
export const TP_LOCK_RELEASE = def("lock_release", { name: "str" }, (e, s) => s.str(e.a0));
export const TP_LOCK_CONTENDED = def("lock_contended", { name: "str" }, (e, s) => s.str(e.a0));
export const TP_LOCK_ACQUIRED = def("lock_acquired", { name: "str", wait_ns: "num" }, (e, s) => `${s.str(e.a0)} (${e.a1} ns)`);
export const TP_BPRINT = def("bprint", { text: "text" }, (e) => e.text ?? "");

export function trace_irq_handler_entry(irq: number, name: string): void {
  const k = kernel();
  k.trace(TP_IRQ_HANDLER_ENTRY, irq, k.str(name));
}
export const trace_irq_handler_exit = (irq: number, ret: number): void => kernel().trace(TP_IRQ_HANDLER_EXIT, irq, ret ? 1 : 0);
export const trace_local_timer_entry = (vector: number): void => kernel().trace(TP_LOCAL_TIMER_ENTRY, vector);
export const trace_local_timer_exit = (vector: number): void => kernel().trace(TP_LOCAL_TIMER_EXIT, vector);
export function trace_ipi_entry(reason: string): void {
  const k = kernel();
  k.trace(TP_IPI_ENTRY, k.str(reason));
}
export function trace_ipi_exit(reason: string): void {
  const k = kernel();
  k.trace(TP_IPI_EXIT, k.str(reason));
}
export const trace_softirq_raise = (vec: number): void => kernel().trace(TP_SOFTIRQ_RAISE, vec);
export const trace_softirq_entry = (vec: number): void => kernel().trace(TP_SOFTIRQ_ENTRY, vec);
export const trace_softirq_exit = (vec: number): void => kernel().trace(TP_SOFTIRQ_EXIT, vec);
export function trace_tasklet_entry(func: string): void {
  const k = kernel();
  k.trace(TP_TASKLET_ENTRY, k.str(func));
}
export function trace_tasklet_exit(func: string): void {
  const k = kernel();
  k.trace(TP_TASKLET_EXIT, k.str(func));
}
export function trace_sched_switch(prev: Task, next: Task): void {
  const k = kernel();
  k.trace(TP_SCHED_SWITCH, k.comm(prev), prev.pid, prev.state, k.comm(next), next.pid);
}
export function trace_sched_wakeup(p: Task, target: number): void {
  const k = kernel();
  k.trace(TP_SCHED_WAKEUP, k.comm(p), p.pid, target);
}
export function trace_sched_process_exit(p: Task): void {
  const k = kernel();
  k.trace(TP_SCHED_PROCESS_EXIT, k.comm(p), p.pid);
}
/** A lock event's lock: anything with a name (a spinlock_t), which keeps the name's id in the run's trace. */
interface Named {
  readonly name: string;
  trace_ref: unknown;
  trace_id: number;
}
/** The lock name's interned id, looked up once per lock and run. */
function lock_str(k: ReturnType<typeof kernel>, lock: Named): number {
  const t = k.engine.trace;
  if (lock.trace_ref === t) return lock.trace_id;
  lock.trace_ref = t;
  return (lock.trace_id = k.str(lock.name));
}
/** `flags`: TRACE_LOCK_TRY for a trylock. */
export function trace_lock_acquire(lock: Named, flags: number): void {
  const k = kernel();
  k.trace(TP_LOCK_ACQUIRE, flags, lock_str(k, lock));
}
export function trace_lock_release(lock: Named): void {
  const k = kernel();
  k.trace(TP_LOCK_RELEASE, lock_str(k, lock));
}
export function trace_lock_contended(lock: Named): void {
  const k = kernel();
  k.trace(TP_LOCK_CONTENDED, lock_str(k, lock));
}
/**
 * lock_acquired, emitted where the lock changes hands: on the spinner's own CPU, or on the
 * releasing CPU when a release hands it to a spinner (`by`: the spinner's CPU, which the
 * scenario's detectors are told of, at `at`).
 */
export function trace_lock_acquired(lock: Named, waitNs: number, by?: PerCpu, at?: number): void {
  const k = kernel();
  k.trace(TP_LOCK_ACQUIRED, lock_str(k, lock), waitNs);
  const d = k.detectors;
  if (d === null) return;
  const pc = by ?? k.this_cpu();
  d.acquired(at ?? pc.hw.clock, pc.id, k.who(pc.curr), lock.name, waitNs);
}
export const trace_printk = (text: string): void => kernel().trace_text(TP_BPRINT, text);
