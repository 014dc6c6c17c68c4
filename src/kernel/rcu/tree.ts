// kernel/rcutree.c (2.6.34, CONFIG_TREE_RCU: the Kconfig default, chosen even with
// CONFIG_PREEMPT) and kernel/rcu/tree.c + tree_plugin.h (6.1: CONFIG_PREEMPT_RCU, which
// CONFIG_PREEMPT selects, else the non-preemptible flavour) reduced to what decides when a grace
// period ends and when callbacks run, over a single rcu_node:
// - a grace period (GP) starts when a callback needs one and none is in progress (2.6.34's
//   __call_rcu starts it at once; so does the end of a GP that left callbacks waiting). Every CPU
//   that is not idle then owes it a quiescent state (QS); an idle CPU (nothing on its stack: the
//   idle task with no interrupt) is in dyntick-idle's extended QS and owes nothing.
// - a CPU reports its QS at a context switch (any call of __schedule, as Linux's
//   rcu_sched_qs()/rcu_note_context_switch() at its top), when it enters the idle loop (a
//   switch to the idle task, an interrupt's return to it), and at the tick
//   (rcu_check_callbacks / rcu_sched_clock_irq from the local timer interrupt) when the tick
//   interrupted the idle loop or, with PREEMPT_RCU, code outside any read-side section with
//   preemption and softirqs enabled. There is no user mode here.
// - PREEMPT_RCU: a task switched out inside rcu_read_lock() goes on the blocked-readers list
//   (rnp->blkd_tasks); it holds up the GP in progress if its CPU still owed that GP a QS, and
//   every GP that starts while it is on the list; its outermost rcu_read_unlock() takes it off
//   (rcu_read_unlock_special). A voluntary switch inside a reader is 6.1's WARN_ONCE.
// - the GP ends when no CPU owes it a QS and no blocked reader holds it up. Callbacks wait on the
//   CPU that queued them (call_rcu) for the first GP that started after they were queued; the
//   CPU's next tick sees them ready (rcu_pending) and raises RCU_SOFTIRQ, whose action invokes
//   them in order, ten at a time (blimit), raising itself again for the rest. A CPU with
//   callbacks keeps its tick (rcu_needs_cpu) even when idle.
// - force_quiescent_state: once a GP is 3 jiffies old (RCU_JIFFIES_TILL_FORCE_QS), the
//   non-preemptible flavour sends each CPU still owing a QS one reschedule IPI per GP
//   (rcu_implicit_offline_qs), so a CPU-bound task passes through schedule() at its next
//   preemption point.
// Simplified: one node, no hierarchy or per-CPU gp_seq snapshots (every CPU sees a GP start and
// end at once, and a QS is reported as it happens rather than from the CPU's RCU_SOFTIRQ); an
// idle CPU counts as quiescent at once (Linux's FQS notices dyntick-idle CPUs a few jiffies
// later); no expedited GPs, no nocb CPUs, no GP kthread (6.1 runs GPs from rcu_preempt /
// rcu_sched kthreads: here, as 2.6.34, from call_rcu and the QS reports), no CPU stall warnings,
// no deferred QS (need_qs) or rcu_urgent_qs, no RCU-bh / RCU-sched / SRCU / Tasks RCU flavours,
// no CPU hotplug. The machinery is dormant until a scenario first uses RCU (no events, draws or
// steps before that).
import * as Effect from "effect/Effect";
import { define_trace_event } from "../../sim/trace.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { PerCpu } from "../percpu.ts";
import type { Task } from "../sched/task.ts";
import { PREEMPT_MASK, SOFTIRQ_MASK } from "../preempt.ts";
import { __raise_softirq_irqoff, open_softirq, RCU_SOFTIRQ } from "../softirq.ts";
import { tick_nohz_restart } from "../time/tick.ts";
import { smp_send_reschedule } from "../smp.ts";
import { with_frames } from "../frames.ts";
import { dump_stack, print_held_locks, uts_release, warn_header } from "../dumpstack.ts";
import { lockdep_enabled } from "../locking/lockdep.ts";
import { kmemleak_add_root } from "../mm/kmemleak.ts";
import { effect_fn, type EffectFn } from "../gen_fn.ts";

/** blimit: callbacks invoked per RCU_SOFTIRQ run (2.6.34 and 6.1's default). */
export const RCU_BLIMIT = 10;
/** RCU_JIFFIES_TILL_FORCE_QS (2.6.34): a GP this old forces quiescent states. */
export const RCU_JIFFIES_TILL_FORCE_QS = 3;

/** trace_rcu_grace_period(rcuname, gp_seq, gpevent) (CONFIG_RCU_TRACE): "rcu_preempt 1 start". */
export const TP_RCU_GRACE_PERIOD = define_trace_event("rcu_grace_period", { rcuname: "str", gp_seq: "num", gpevent: "str" }, (e, s) => `${s.str(e.a0)} ${e.a1} ${s.str(e.a2)}`);

/** A callback as call_rcu() keeps it: its function made an Effect once, and the frames it runs under. */
export interface RcuCallback {
  readonly run: (head: rcu_head) => Effect.Effect<void>;
  readonly frames: readonly string[];
}

/**
 * struct rcu_head: what call_rcu() queues. Embed one in the object a callback frees (a subclass,
 * or a field whose owner the callback finds), as Linux's container_of() would.
 */
export class rcu_head {
  /** The callback, while queued. */
  func: RcuCallback | null = null;
  /** The RCU state of the run that last queued it (one made outside a run may still be queued from another run). */
  owner: unknown = null;
  /** The GP number that must have completed before the callback runs. */
  gp = 0;
}

export interface RcuState {
  /** CONFIG_PREEMPT_RCU: readers are tracked by task (6.1 with CONFIG_PREEMPT). */
  readonly preempt_rcu: boolean;
  /** rcu_state.name: "rcu_preempt" or "rcu_sched". */
  readonly name: string;
  /** GPs started and completed (a GP is in progress while gpnum > completed). */
  gpnum: number;
  completed: number;
  /** Virtual time the GP in progress started. */
  gp_start: number;
  /** Per CPU: 1 while it owes the GP in progress a QS (rnp->qsmask). */
  readonly qsmask: Uint8Array;
  qs_left: number;
  /** Per CPU: force_quiescent_state sent it its reschedule IPI for this GP. */
  readonly fqs_sent: Uint8Array;
  /** PREEMPT_RCU: tasks switched out inside a read-side section (rnp->blkd_tasks). */
  readonly blkd_tasks: Task[];
  /** Blocked readers holding up the GP in progress (rnp->gp_tasks onwards). */
  gp_tasks: number;
  /** Per CPU: callbacks in call_rcu() order; the first not yet invoked is at cbhead[cpu]. */
  readonly cbs: rcu_head[][];
  readonly cbhead: Int32Array;
  /** The highest GP number a queued callback waits for. */
  gp_needed: number;
  /** call_rcu()'s functions made Effects, once each. */
  readonly fns: Map<unknown, RcuCallback>;
  /** RCU_LOCKDEP_WARN's __warned, by call site (6.1). */
  readonly warned: Set<string>;
  /** WARN_ONCE of a voluntary context switch inside a reader (6.1 PREEMPT_RCU). */
  voluntary_warned: boolean;
  /** The frames rcu_do_batch runs callbacks under. */
  readonly batch_frames: readonly string[];
  /** kfree_rcu()'s heads, reused once their callback ran. */
  readonly kfree_pool: rcu_head[];
}

const state_of = (k: Kernel): RcuState | undefined => k.ext_rcu as RcuState | undefined;

/** CONFIG_PREEMPT_RCU on this kernel: 6.1 with CONFIG_PREEMPT (2.6.34's default TREE_RCU is not preemptible). */
export const preempt_rcu_configured = (k: Kernel): boolean => k.config.era === "6" && k.config.preempt;

/** RCU's state, made (and RCU_SOFTIRQ opened) the first time a scenario uses RCU. */
export function rcu_state(k: Kernel): RcuState {
  const s = state_of(k);
  return s !== undefined ? s : rcu_init(k);
}

function rcu_init(k: Kernel): RcuState {
  const n = k.percpu.length;
  const preempt_rcu = preempt_rcu_configured(k);
  const s: RcuState = {
    preempt_rcu,
    name: preempt_rcu ? "rcu_preempt" : "rcu_sched",
    gpnum: 0,
    completed: 0,
    gp_start: 0,
    qsmask: new Uint8Array(n),
    qs_left: 0,
    fqs_sent: new Uint8Array(n),
    blkd_tasks: [],
    gp_tasks: 0,
    cbs: k.percpu.map(() => []),
    cbhead: new Int32Array(n),
    gp_needed: 0,
    fns: new Map(),
    warned: new Set(),
    voluntary_warned: false,
    batch_frames: k.config.era === "2.6" ? ["rcu_process_callbacks", "__rcu_process_callbacks", "rcu_do_batch"] : ["rcu_core_si", "rcu_core", "rcu_do_batch"],
    kfree_pool: [],
  };
  k.ext_rcu = s;
  open_softirq(RCU_SOFTIRQ, rcu_process_callbacks);
  // kmemleak: an object waiting for kfree_rcu() is referenced from its CPU's callback list.
  kmemleak_add_root(k, s.cbs);
  return s;
}

/** rcu_preempt_depth(): the current task's rcu_read_lock() nesting under PREEMPT_RCU, else 0. */
export function rcu_preempt_depth(k: Kernel): number {
  const s = state_of(k);
  return s !== undefined && s.preempt_rcu ? k.this_cpu().curr.rcu_read_lock_nesting : 0;
}

const gp_in_progress = (s: RcuState): boolean => s.gpnum > s.completed;

function trace_gp(k: Kernel, s: RcuState, event: string): void {
  k.trace(TP_RCU_GRACE_PERIOD, k.str(s.name), s.gpnum, k.str(event));
}

/** rcu_start_gp(): every busy CPU owes the new GP a QS; every blocked reader holds it up. */
function rcu_start_gp(k: Kernel, s: RcuState): void {
  s.gpnum++;
  s.gp_start = k.now();
  trace_gp(k, s, "start");
  let left = 0;
  for (const pc of k.percpu) {
    const owes = pc.stack.length !== 0 ? 1 : 0;
    s.qsmask[pc.id] = owes;
    s.fqs_sent[pc.id] = 0;
    left += owes;
  }
  s.qs_left = left;
  for (const t of s.blkd_tasks) t.rcu_blocks_gp = true;
  s.gp_tasks = s.blkd_tasks.length;
  rcu_check_gp_end(k, s);
}

/** rcu_report_qs_rsp(): the GP ends once nothing holds it up; one starts at once for callbacks still waiting. */
function rcu_check_gp_end(k: Kernel, s: RcuState): void {
  if (!gp_in_progress(s) || s.qs_left !== 0 || s.gp_tasks !== 0) return;
  s.completed = s.gpnum;
  trace_gp(k, s, "end");
  if (s.gp_needed > s.completed) rcu_start_gp(k, s);
}

/** rcu_qs(): CPU `cpu` passed a quiescent state. */
function rcu_qs(k: Kernel, s: RcuState, cpu: number): void {
  if (s.qsmask[cpu] === 0) return;
  s.qsmask[cpu] = 0;
  s.qs_left--;
  rcu_check_gp_end(k, s);
}

/**
 * rcu_note_context_switch(preempt) (2.6.34: rcu_sched_qs() at the top of schedule()): `prev`
 * is leaving (or going through) __schedule on `pc`. Context: the scheduler, interrupts off.
 */
export function rcu_note_context_switch(k: Kernel, pc: PerCpu, prev: Task, preempt: boolean): void {
  const s = state_of(k);
  if (s === undefined) return;
  if (s.preempt_rcu && prev.rcu_read_lock_nesting > 0 && !prev.rcu_blocked) {
    if (!preempt && !s.voluntary_warned) voluntary_switch_warning(k, s);
    prev.rcu_blocked = true;
    s.blkd_tasks.push(prev);
    if (gp_in_progress(s) && s.qsmask[pc.id] !== 0) {
      prev.rcu_blocks_gp = true;
      s.gp_tasks++;
    }
  }
  rcu_qs(k, s, pc.id);
}

/** 6.1's WARN_ONCE(!preempt && rcu_preempt_depth() > 0) in rcu_note_context_switch(). */
function voluntary_switch_warning(k: Kernel, s: RcuState): void {
  s.voluntary_warned = true;
  const ctx = k.this_ctx();
  const msg = "Voluntary context switch within RCU read-side critical section!";
  const text = ["------------[ cut here ]------------", msg, warn_header(ctx, "kernel/rcu/tree_plugin.h", "rcu_note_context_switch"), ...dump_stack(ctx, ["schedule", "__schedule", "rcu_note_context_switch"])];
  k.report("bug", text.join("\n"), undefined, msg);
}

/** exit_rcu() and the exiting task's last pass through the scheduler. */
export function rcu_task_exit(k: Kernel, pc: PerCpu, p: Task): void {
  const s = state_of(k);
  if (s === undefined) return;
  if (p.rcu_read_lock_nesting > 0) {
    p.rcu_read_lock_nesting = 0;
    while (p.rcu_lock_at !== undefined && p.rcu_lock_at.length > 0) p.rcu_lock_at.pop();
    while (p.rcu_lock_pos !== undefined && p.rcu_lock_pos.length > 0) p.rcu_lock_pos.pop();
    if (p.rcu_blocked) rcu_read_unlock_special(k, p);
  }
  rcu_qs(k, s, pc.id);
}

/** rcu_read_unlock_special(): a blocked reader left its outermost section; off the list, and the GP it held up may end. */
export function rcu_read_unlock_special(k: Kernel, t: Task): void {
  const s = state_of(k);
  if (s === undefined) return;
  const i = s.blkd_tasks.indexOf(t);
  if (i >= 0) s.blkd_tasks.splice(i, 1);
  t.rcu_blocked = false;
  if (t.rcu_blocks_gp) {
    t.rcu_blocks_gp = false;
    s.gp_tasks--;
    rcu_check_gp_end(k, s);
  }
}

/** `pc` enters the idle loop (a switch to the idle task, or an interrupt's return to it): dyntick-idle, a QS. */
export function rcu_idle_enter(k: Kernel, pc: PerCpu): void {
  const s = state_of(k);
  if (s !== undefined) rcu_qs(k, s, pc.id);
}

/** The tick found `pc` quiescent: it interrupted the idle loop, or (PREEMPT_RCU) a task outside any reader with preemption and softirqs on. */
function quiescent_at_tick(s: RcuState, pc: PerCpu): boolean {
  if (pc.stack.length === 0) return true;
  return s.preempt_rcu && pc.curr.rcu_read_lock_nesting === 0 && (pc.preempt_count & (PREEMPT_MASK | SOFTIRQ_MASK)) === 0;
}

const has_callbacks = (s: RcuState, cpu: number): boolean => s.cbhead[cpu]! < s.cbs[cpu]!.length;
const has_ready_callbacks = (s: RcuState, cpu: number): boolean => has_callbacks(s, cpu) && s.cbs[cpu]![s.cbhead[cpu]!]!.gp <= s.completed;

/**
 * rcu_check_callbacks(cpu, user) (6.1: rcu_sched_clock_irq(user)) at this CPU's tick, as the
 * local timer interrupt is taken (interrupts off; the interrupted context's preempt_count):
 * the QS the tick shows, force_quiescent_state when the GP is old, RCU_SOFTIRQ when callbacks
 * here are ready (it runs at this interrupt's irq_exit), and the tick kept while callbacks wait
 * here (rcu_needs_cpu).
 */
export function rcu_sched_clock_irq(k: Kernel, pc: PerCpu): void {
  const s = state_of(k);
  if (s === undefined) return;
  const cpu = pc.id;
  if (s.qsmask[cpu] !== 0 && quiescent_at_tick(s, pc)) rcu_qs(k, s, cpu);
  if (gp_in_progress(s) && !s.preempt_rcu && k.now() - s.gp_start >= RCU_JIFFIES_TILL_FORCE_QS * k.tick_ns) force_quiescent_state(k, s, pc);
  if (has_ready_callbacks(s, cpu)) __raise_softirq_irqoff(RCU_SOFTIRQ);
  // The tick code stops the tick of a CPU that goes idle after this interrupt: not while
  // callbacks wait here.
  if (has_callbacks(s, cpu) && pc.stack.length === 0 && pc.rq.length === 0) tick_nohz_restart(pc);
}

/** force_quiescent_state(): a reschedule IPI to each busy CPU still owing the GP a QS (once per GP). */
function force_quiescent_state(k: Kernel, s: RcuState, pc: PerCpu): void {
  for (let c = 0; c < s.qsmask.length; c++) {
    if (s.qsmask[c] === 0 || s.fqs_sent[c] !== 0) continue;
    s.fqs_sent[c] = 1;
    if (c === pc.id) pc.need_resched = true;
    else smp_send_reschedule(c);
  }
}

/**
 * __call_rcu(): queues `head` on CPU `cpu` for the first GP to start from now, starts one if
 * none is in progress, and keeps that CPU's tick running.
 */
export function __call_rcu(k: Kernel, s: RcuState, cpu: number, head: rcu_head, cb: RcuCallback): void {
  head.func = cb;
  head.gp = s.gpnum + 1;
  s.cbs[cpu]!.push(head);
  if (head.gp > s.gp_needed) s.gp_needed = head.gp;
  tick_nohz_restart(k.percpu[cpu]!);
  if (!gp_in_progress(s)) rcu_start_gp(k, s);
}

/** The Effect call_rcu() runs `func` as, made once per function (named after it in backtraces). */
export function rcu_callback<H extends rcu_head>(s: RcuState, func: EffectFn<[head: H], void>): RcuCallback {
  let cb = s.fns.get(func);
  if (cb === undefined) {
    const run = effect_fn(func) as unknown as (head: rcu_head) => Effect.Effect<void>;
    cb = { run, frames: [...s.batch_frames, func.name || "rcu_callback"] };
    s.fns.set(func, cb);
  }
  return cb;
}

/** debug_lockdep_rcu_enabled(): lockdep-RCU checks are on (lockdep on, debug_locks still 1). */
const lockdep_rcu_on = (k: Kernel): boolean => lockdep_enabled(k) && k.debug_locks;

/** rcu_read_lock_held() on `k`: lock_is_held(&rcu_lock_map) when lockdep-RCU checks are on, else true. */
export const rcu_read_lock_held_k = (k: Kernel): boolean => !lockdep_rcu_on(k) || k.this_cpu().curr.rcu_read_lock_nesting > 0;

// ---------------------------------------------------------------- lockdep-RCU

/** The 6.1 message's file:line for a site given as a name (scenario code) or a "file:line". */
const site = (where: string): string => (where.includes(":") ? where : `${where}:0`);

/**
 * RCU_LOCKDEP_WARN(c, s) when c holds: lockdep_rcu_suspicious(file, line, s) once per call
 * site (6.1), or 2.6.34's lockdep_rcu_dereference() after debug_locks_off() (once a boot).
 */
export function rcu_lockdep_warn(k: Kernel, where: string, what: string): void {
  if (!lockdep_rcu_on(k)) return;
  const at = site(where);
  const era = k.config.era;
  if (era === "6") {
    const s = rcu_state(k);
    if (s.warned.has(`${at} ${what}`)) return;
    s.warned.add(`${at} ${what}`);
  } else k.debug_locks = false; // debug_locks_off(): this report is lockdep's last
  const ctx = k.this_ctx();
  const t = k.this_cpu().curr;
  const head =
    era === "2.6"
      ? ["===================================================", "[ INFO: suspicious rcu_dereference_check() usage. ]", "---------------------------------------------------", `${at} invoked rcu_dereference_check() without protection!`]
      : ["=============================", "WARNING: suspicious RCU usage", `${uts_release("6")} #1 Not tainted`, "-----------------------------", `${at} ${what}!`];
  const text = [
    ...head,
    "",
    "other info that might help us debug this:",
    "",
    "",
    `rcu_scheduler_active = ${era === "2.6" ? 1 : 2}, debug_locks = ${k.debug_locks ? 1 : 0}`,
    ...print_held_locks(k, t),
    "",
    "stack backtrace:",
    ...dump_stack(ctx, [era === "2.6" ? "lockdep_rcu_dereference" : "lockdep_rcu_suspicious"]),
  ];
  k.report("lockdep", text.join("\n"), undefined, head[1]);
}

/** rcu_sleep_check() (6.1 without PREEMPT_RCU, from __might_resched and schedule_debug): sleeping in a reader. */
export function rcu_sleep_check(k: Kernel): void {
  if (k.config.era !== "6" || k.ext_rcu === undefined || (k.ext_rcu as RcuState).preempt_rcu) return;
  if (k.this_cpu().curr.rcu_read_lock_nesting > 0) rcu_lockdep_warn(k, "include/linux/rcupdate.h:0", "Illegal context switch in RCU read-side critical section");
}

/** CPUs with callbacks queued (rcu_barrier()'s 6.1 choice of CPUs). */
export const rcu_cpu_has_callbacks = (s: RcuState, cpu: number): boolean => has_callbacks(s, cpu);

/** The grace periods started and completed and the blocked readers (for tests and scenarios that observe RCU). */
export function rcu_gp_state(k: Kernel): { readonly gpnum: number; readonly completed: number; readonly blocked_readers: number } {
  const s = state_of(k);
  return { gpnum: s?.gpnum ?? 0, completed: s?.completed ?? 0, blocked_readers: s?.blkd_tasks.length ?? 0 };
}

/**
 * RCU_SOFTIRQ's action (rcu_process_callbacks / 6.1 rcu_core_si): rcu_do_batch() invokes this
 * CPU's ready callbacks in order, at most blimit, and raises the softirq again for the rest.
 */
const rcu_process_callbacks = (): Effect.Effect<void> => rcu_do_batch();

const rcu_do_batch = Effect.fnUntraced(function* (): Effect.fn.Return<void> {
  const k = kernel();
  const s = state_of(k)!;
  const cpu = k.this_cpu().id;
  const q = s.cbs[cpu]!;
  for (let n = 0; has_ready_callbacks(s, cpu); n++) {
    if (n === RCU_BLIMIT) {
      __raise_softirq_irqoff(RCU_SOFTIRQ);
      break;
    }
    const head = q[s.cbhead[cpu]!]!;
    s.cbhead[cpu]!++;
    const cb = head.func!;
    head.func = null;
    yield* with_frames(cb.frames, cb.run(head));
  }
  // All invoked: the list starts again from its first slot (pop(): its store is kept).
  if (s.cbhead[cpu] === q.length) {
    while (q.length > 0) q.pop();
    s.cbhead[cpu] = 0;
  }
});
