// A run's trace as Chrome Trace Event JSON (the "JSON trace format" Perfetto and chrome://tracing
// open): one process, "mmsim: SCENARIO seed N", with a thread (track) per CPU.
// - Context slices (B/E, nested on the CPU's track): the running task ("comm-pid", from each
//   sched_switch; the first task of a CPU from the start), hardirqs (irq_handler_entry/exit,
//   local_timer_entry/exit), softirqs (softirq_entry/exit) and tasklets (tasklet_entry/exit).
// - Lock slices (async b/e, each its own row under the CPU): "spin NAME" from lock_contended
//   until the lock is handed over (lock_acquired; the spinner is the first contender, in ticket
//   order) and "hold NAME" from the acquisition to lock_release.
// - Every other event (allocations and frees, kswapd wake-ups, page faults, TLB flushes, wake-ups,
//   fault injections, reports as "bug_report", printk lines) as an instant on its CPU's track,
//   its detail in args.
// Timestamps are virtual microseconds (fractions keep the nanoseconds). Slices still open when
// the run ends are closed at its end.
import type { TraceRecord } from "../sim/trace.ts";

interface ChromeEvent {
  readonly name: string;
  readonly ph: string;
  readonly ts?: number;
  readonly pid: number;
  readonly tid: number;
  readonly cat?: string;
  readonly id?: string;
  readonly s?: string;
  readonly args?: Record<string, unknown>;
}

const CONTEXT_BEGIN: Record<string, string> = { irq_handler_entry: "hardirq", local_timer_entry: "hardirq", softirq_entry: "softirq", tasklet_entry: "tasklet" };
const CONTEXT_END = new Set(["irq_handler_exit", "local_timer_exit", "softirq_exit", "tasklet_exit"]);

/** The slice name of a context's entry event. */
function context_name(r: TraceRecord): string {
  switch (r.name) {
    case "irq_handler_entry":
      return `irq ${/irq=(\d+)/.exec(r.detail)?.[1]} ${/name=(\S+)/.exec(r.detail)?.[1] ?? ""}`.trim();
    case "local_timer_entry":
      return "local_timer";
    case "softirq_entry":
      return `softirq ${/action=(\w+)/.exec(r.detail)?.[1] ?? r.detail}`;
    default:
      return `tasklet ${/function=(\S+)/.exec(r.detail)?.[1] ?? r.detail}`;
  }
}

/**
 * A run's trace events (RunResult.traceAll) as Chrome Trace Event JSON, which Perfetto and
 * chrome://tracing open: a track per CPU with its task, hardirq, softirq and tasklet slices,
 * spin and hold slices per lock, and every other event as an instant; `title` names the process,
 * and slices still open at `endNs` (the run's end) are closed there. Timestamps are virtual
 * microseconds.
 */
export function chrome_trace(records: readonly TraceRecord[], title: string, cpus: number, endNs: number): { traceEvents: ChromeEvent[]; displayTimeUnit: string } {
  const us = (ns: number): number => ns / 1000;
  const ev: ChromeEvent[] = [{ name: "process_name", ph: "M", pid: 0, tid: 0, args: { name: title } }];
  for (let c = 0; c < cpus; c++) {
    ev.push({ name: "thread_name", ph: "M", pid: 0, tid: c, args: { name: `CPU${c}` } });
    ev.push({ name: "thread_sort_index", ph: "M", pid: 0, tid: c, args: { sort_index: c } });
  }
  const task = new Map<number, string>(); // the open task slice per CPU
  const depth = new Map<number, number>(); // open context slices above the task
  const holds = new Map<string, number>(); // "cpu/lock" -> async id
  const holdEvents = new Map<string, ChromeEvent>(); // "cpu/lock" -> its begin event
  const spinners = new Map<string, number[]>(); // lock -> CPUs spinning on it, in ticket order
  const spinIds = new Map<string, number>(); // "cpu/lock" -> async id of the spin slice
  let nextId = 1;
  const begin = (cpu: number, name: string, ts: number, cat: string) => ev.push({ name, ph: "B", ts: us(ts), pid: 0, tid: cpu, cat });
  const end = (cpu: number, ts: number) => ev.push({ name: "", ph: "E", ts: us(ts), pid: 0, tid: cpu });
  const asyncB = (cpu: number, name: string, id: number, ts: number): ChromeEvent => {
    const e: ChromeEvent = { name, ph: "b", ts: us(ts), pid: 0, tid: cpu, cat: "lock", id: String(id) };
    ev.push(e);
    return e;
  };
  const asyncE = (cpu: number, name: string, id: number, ts: number) => ev.push({ name, ph: "e", ts: us(ts), pid: 0, tid: cpu, cat: "lock", id: String(id) });
  const ensureTask = (r: TraceRecord) => {
    if (r.cpu >= 0 && !task.has(r.cpu)) {
      task.set(r.cpu, r.who);
      begin(r.cpu, r.who, 0, "sched");
    }
  };
  const hold = (cpu: number, lock: string, ts: number) => {
    const id = nextId++;
    holds.set(`${cpu}/${lock}`, id);
    holdEvents.set(`${cpu}/${lock}`, asyncB(cpu, `hold ${lock}`, id, ts));
  };
  for (const r of records) {
    if (r.cpu < 0) continue; // a device event with no CPU (none reach here today)
    ensureTask(r);
    if (r.name === "sched_switch") {
      const next = /next_comm=(\S+) next_pid=(\d+)/.exec(r.detail);
      for (let d = depth.get(r.cpu) ?? 0; d > 0; d--) end(r.cpu, r.ts);
      depth.set(r.cpu, 0);
      end(r.cpu, r.ts);
      const name = next !== null ? `${next[1]}-${next[2]}` : r.detail;
      task.set(r.cpu, name);
      begin(r.cpu, name, r.ts, "sched");
    } else if (r.name in CONTEXT_BEGIN) {
      begin(r.cpu, context_name(r), r.ts, CONTEXT_BEGIN[r.name]!);
      depth.set(r.cpu, (depth.get(r.cpu) ?? 0) + 1);
    } else if (CONTEXT_END.has(r.name)) {
      if ((depth.get(r.cpu) ?? 0) > 0) {
        end(r.cpu, r.ts);
        depth.set(r.cpu, depth.get(r.cpu)! - 1);
      }
    } else if (r.name === "lock_acquire") {
      // A held lock is a hold slice unless it is contended (lock_contended follows at once).
      hold(r.cpu, r.detail.replace(/^try /, ""), r.ts);
    } else if (r.name === "lock_contended") {
      const key = `${r.cpu}/${r.detail}`;
      const h = holds.get(key);
      if (h !== undefined) {
        // The hold slice just begun: this CPU spins first.
        const e = holdEvents.get(key)!;
        ev.splice(ev.lastIndexOf(e), 1);
        holds.delete(key);
      }
      const id = nextId++;
      spinIds.set(key, id);
      asyncB(r.cpu, `spin ${r.detail}`, id, r.ts);
      spinners.set(r.detail, [...(spinners.get(r.detail) ?? []), r.cpu]);
    } else if (r.name === "lock_acquired") {
      const lock = r.detail.replace(/ \(\d+ ns\)$/, "");
      const q = spinners.get(lock) ?? [];
      const cpu = q.shift();
      if (cpu !== undefined) {
        const key = `${cpu}/${lock}`;
        asyncE(cpu, `spin ${lock}`, spinIds.get(key)!, r.ts);
        spinIds.delete(key);
        hold(cpu, lock, r.ts);
      }
    } else if (r.name === "lock_release") {
      const key = `${r.cpu}/${r.detail}`;
      const id = holds.get(key);
      if (id !== undefined) {
        asyncE(r.cpu, `hold ${r.detail}`, id, r.ts);
        holds.delete(key);
      }
    } else ev.push({ name: r.name, ph: "i", s: "t", ts: us(r.ts), pid: 0, tid: r.cpu, cat: "event", args: { detail: r.detail, who: r.who } });
  }
  // Close whatever is open at the end of the run.
  for (const [key, id] of holds) asyncE(Number(key.split("/")[0]), `hold ${key.slice(key.indexOf("/") + 1)}`, id, endNs);
  for (const [key, id] of spinIds) asyncE(Number(key.split("/")[0]), `spin ${key.slice(key.indexOf("/") + 1)}`, id, endNs);
  for (const [cpu] of task) {
    for (let d = depth.get(cpu) ?? 0; d > 0; d--) end(cpu, endNs);
    end(cpu, endNs);
  }
  return { traceEvents: ev, displayTimeUnit: "ns" };
}
