// The running kernel instance: per-CPU state, tasks, the log and the reports. Like Linux's
// `current` and smp_processor_id(), kernel code finds "this CPU" and "this context" through the
// one running kernel (set for the duration of a run; runs are synchronous, so there is exactly one
// at a time), which is what lets scenario code call spin_lock(&l) with no handle in sight.
import type { Engine } from "../sim/engine.ts";
import type { Machine } from "../hw/machine.ts";
import type { Costs } from "../hw/costs.ts";
import { ScenarioError, SimError } from "../sim/errors.ts";
import { define_trace_event } from "../sim/trace.ts";
import type { KernelConfig } from "./config.ts";
import type { ExecContext } from "./context.ts";
import { PerCpu } from "./percpu.ts";
import { LogBuffer, ___ratelimit, ratelimit_state, type RatelimitState } from "./printk.ts";
import type { BugReport, ReportKind } from "./report.ts";
import type { Detectors } from "./detector.ts";
import { Task } from "./sched/task.ts";
import type { IrqDesc } from "./irq/irqdesc.ts";
import type { SoftirqAction } from "./softirq.ts";
import type { MmState } from "./mm/page_alloc.ts";

// Kept on globalThis so that a scenario file loaded as a second copy of this module (a .ts file
// outside an ESM package is loaded as CommonJS) still finds the running kernel.
// This copy reads its own module variable first (the common case, and the fast one).
const RUNNING = Symbol.for("mmsim.running-kernel");
const slot = globalThis as unknown as { [RUNNING]?: Kernel | null };
let running: Kernel | null = null;

/** mmsim's own event: a report was made (its title as text). */
export const TP_BUG_REPORT = define_trace_event("bug_report", { title: "text" }, (e) => e.text ?? "");

/** The kernel whose run is in progress. */
export function kernel(): Kernel {
  const k = running ?? slot[RUNNING];
  if (k === undefined || k === null) throw new SimError("kernel API called outside a simulation run");
  return k;
}

/** The running kernel, or null outside a run. */
export const kernel_if_running = (): Kernel | null => running ?? slot[RUNNING] ?? null;

export function set_running_kernel(k: Kernel | null): void {
  running = k;
  slot[RUNNING] = k;
}

/** A lock /proc/lock_stat counts (a spinlock_t, an rwlock_t): its class name and counters. */
export interface StatLock {
  readonly name: string;
  readonly acquisitions: number;
  readonly contentions: number;
  readonly wait_total: number;
  readonly wait_max: number;
  readonly hold_max: number;
  readonly hold_total: number;
}

export class Kernel {
  readonly percpu: PerCpu[];
  /** The CPU whose step is in progress (null while a timed event fires). */
  cpu: PerCpu | null = null;
  /** The context whose fiber is running. */
  ctx: ExecContext | null = null;
  readonly tasks: Task[] = [];
  private nextPid = 1;
  readonly log = new LogBuffer();
  readonly reports: BugReport[] = [];
  readonly irq_desc = new Map<number, IrqDesc>();
  readonly softirq_vec: (SoftirqAction | undefined)[] = [];
  /** Spinlocks and rwlocks made with their init functions, in that order (lock statistics, lock-word addresses). */
  readonly locks: StatLock[] = [];
  /** The memory manager's state, when the machine has memory configured. */
  mm: MmState | null = null;
  /** Scenario tasks that have not exited. */
  live = 0;
  /** End the run when the last scenario task exits (off for scenarios with a fixed duration). */
  stop_on_last_exit = true;
  /** debug_locks: cleared by the first lock-debugging report, which silences later ones. */
  debug_locks = true;
  /** __might_sleep's rate limit: the jiffy of its last report (-1: none yet). */
  might_sleep_prev_jiffy = -1;
  /** printk_ratelimit_state: DEFAULT_RATELIMIT_INTERVAL (5 * HZ), DEFAULT_RATELIMIT_BURST (10). */
  readonly printk_rs: RatelimitState;
  /** Set once a lockup or panic ended the run, with the virtual time of its last report. */
  halted = false;
  halted_at = 0;
  /** die_counter: the [#N] of each oops. */
  die_counter = 0;
  readonly tick_ns: number;
  readonly costs: Costs;
  /** The state of lockdep, kmemleak, KASAN, fault injection and RCU when they are on (their modules' own types). */
  ext_lockdep: unknown = undefined;
  ext_kmemleak: unknown = undefined;
  ext_kasan: unknown = undefined;
  ext_fault: unknown = undefined;
  /** The scenario's own detectors (detector.ts), or null. */
  detectors: Detectors | null = null;
  /** RCU's grace-period state (src/kernel/rcu/tree.ts), made when a scenario first uses RCU. */
  ext_rcu: unknown = undefined;

  constructor(readonly engine: Engine, readonly machine: Machine, readonly config: KernelConfig) {
    if (![100, 250, 300, 1000].includes(config.hz)) throw new ScenarioError(`hz must be 100, 250, 300 or 1000, got ${config.hz}`);
    this.tick_ns = Math.round(1e9 / config.hz);
    this.printk_rs = ratelimit_state(5 * config.hz, 10);
    this.costs = machine.costs;
    this.percpu = machine.cpus.map((hw) => new PerCpu(hw, new Task(0, `swapper/${hw.id}`, [hw.id], false)));
  }

  allocPid(): number {
    return this.nextPid++;
  }

  /** Current virtual time: the stepping CPU's clock, or the time of the event being fired. */
  now(): number {
    return this.cpu !== null ? this.cpu.hw.clock : this.engine.now;
  }

  this_cpu(): PerCpu {
    const c = this.cpu;
    if (c === null) throw new ScenarioError("this kernel call needs a CPU context: call it from a task, an interrupt handler, a softirq or a tasklet, not from setup()");
    return c;
  }

  this_ctx(): ExecContext {
    const c = this.ctx;
    if (c === null) throw new SimError("no context is running");
    return c;
  }

  /** Charges `ns` of work to the running CPU, accounted to its current context kind. */
  charge(ns: number): void {
    const c = this.cpu;
    if (c === null) return;
    c.hw.clock += ns;
    c.account(ns);
  }

  printk(text: string): void {
    this.log.add(this.now(), this.cpu?.id ?? 0, text);
  }

  /** A report; its title is the text's first line unless given (lockdep's banner comes first). */
  report(kind: ReportKind, text: string, at?: { ts: number; cpu: number }, title?: string): BugReport {
    const ts = at?.ts ?? this.now();
    const cpu = at?.cpu ?? this.cpu?.id ?? 0;
    const r: BugReport = { kind, title: title ?? text.split("\n", 1)[0]!, text, cpu, ts };
    this.reports.push(r);
    this.log.add(ts, cpu, text);
    this.trace_text(TP_BUG_REPORT, r.title, { ts, cpu });
    return r;
  }

  /**
   * Emits trace event `type` (defined with define_trace_event, src/kernel/trace.ts) with its
   * arguments, attributed to the task running on this CPU; string arguments are ids from str().
   */
  trace(type: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): void {
    const pc = this.cpu;
    if (pc === null) this.engine.trace.emit(type, this.engine.now, -1, -1, a0, a1, a2, a3, a4, a5);
    else this.engine.trace.emit(type, pc.hw.clock, pc.id, this.who(pc.curr), a0, a1, a2, a3, a4, a5);
    const d = this.detectors;
    if (d !== null) d.event(type, pc === null ? this.engine.now : pc.hw.clock, pc === null ? -1 : pc.id, pc === null ? -1 : this.who(pc.curr), a0, a1, a2, a3, a4);
  }

  /** Emits a trace event whose field is free text (a report's title, trace_printk), on this CPU or at `at`. */
  trace_text(type: number, text: string, at?: { ts: number; cpu: number }): void {
    const pc = at !== undefined ? this.percpu[at.cpu]! : this.cpu;
    this.engine.trace.emit(type, at?.ts ?? this.now(), pc?.id ?? -1, pc !== null ? this.who(pc.curr) : -1, 0, 0, 0, 0, 0, 0, text);
  }

  /** A string argument of a trace event: its id in the run's trace. */
  str(s: string): number {
    return this.engine.trace.intern(s);
  }

  /** The task as ftrace's first column names it ("comm-pid"), interned once per task. */
  who(t: Task): number {
    const w = t.trace_who;
    return w >= 0 ? w : (t.trace_who = this.engine.trace.intern(`${t.comm}-${t.pid}`));
  }

  /** The task's comm, interned once per task. */
  comm(t: Task): number {
    const c = t.trace_comm;
    return c >= 0 ? c : (t.trace_comm = this.engine.trace.intern(t.comm));
  }

  /** printk_ratelimit(): at most 10 messages every 5 s of virtual time. */
  printk_ratelimit(): boolean {
    return ___ratelimit(this.printk_rs, Math.floor(this.now() / this.tick_ns), "printk_ratelimit", (l) => this.printk(l));
  }

  /** Ends the run at virtual time `ts` (a lockup or panic: the machine makes no more progress). */
  halt(ts: number, why: string): void {
    this.halted = true;
    this.halted_at = Math.max(this.halted_at, ts);
    this.engine.stop({ kind: "stopped", why });
  }
}
