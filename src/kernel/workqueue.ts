// kernel/workqueue.c and include/linux/workqueue.h (2.6.34's per-workqueue threads; 6.1's
// worker pools) reduced. A work item queued with queue_work() goes on a worker pool and runs later
// in process context (it may sleep) in that pool's worker thread, which takes the work off the
// list (clearing WORK_STRUCT_PENDING: queueing it again meanwhile does nothing and returns false)
// and calls it with the workqueue's and the work's lockdep maps held (6.1's process_one_work,
// 2.6.34's run_workqueue).
// queue_work() picks the pool of the CPU it runs on (queue_work_on: of `cpu`); 6.1 queues a work
// still running on another CPU's pool of the same workqueue there, so it never runs twice at once
// (2.6.34 lets it run on both). Pools and their workers:
// - 2.6.34: each workqueue has its own thread per CPU, "events/N" for system_wq (keventd) and
//   "NAME/N" for create_workqueue(NAME); a single-threaded one (create_singlethread_workqueue,
//   WQ_UNBOUND) has one unbound thread "NAME". system_highpri_wq and system_long_wq (later
//   kernels') are system_wq here.
// - 6.1: per-CPU workqueues share each CPU's pools, normal ("kworker/N:1") and WQ_HIGHPRI
//   ("kworker/N:1H"); unbound ones (create_singlethread_workqueue is an ordered, unbound one)
//   share one unbound pool ("kworker/uM:1", M being its pool id, 2 * nr_cpus).
// flush_work() waits (TASK_UNINTERRUPTIBLE) until the instance queued last has run, or the one
// running has returned, and returns whether it waited; cancel_work_sync() takes a pending work
// off its list (or its delayed work's timer off), then waits for a running one, and returns
// whether it was pending; flush_workqueue() waits for everything queued on the workqueue when it
// was called. With lockdep these take the maps process_one_work holds (2.6.34: flush_work and
// flush_workqueue the workqueue's, cancel_work_sync the work's; 6.1: flush_work and
// cancel_work_sync the work's, flush_work also the workqueue's when it is ordered or has a
// rescuer, flush_workqueue the workqueue's), so waiting from the work itself is recursive
// locking and waiting while holding a lock the work takes is a circular dependency, reported
// before anything deadlocks. A work that returns in atomic context is "BUG: workqueue leaked lock
// or atomic". Delayed work queues its work from a timer (delayed_work_timer_fn, TIMER_IRQSAFE in
// 6.1) on the CPU the timer ran on.
// Simplified: one worker per pool, started on the first queueing there (Linux has kworker/N:0 from
// boot and adds workers as the pool needs them): no concurrency management (a work that sleeps
// holds up the works queued behind it on its pool, as 2.6.34's events/N did, where 6.1 would wake
// another kworker), no rescuers, no max_active limit (one worker runs one work at a time), no
// freezing, no workqueue attributes or NUMA; a flush completes when the work returns rather than
// when a barrier work queued behind it runs; 6.1's check_flush_dependency warning is not made;
// the leak check sees preempt_count only (not mutexes held); no workqueue tracepoints.
// cache_reap's delayed work keeps a timed event for its timer (schedule_delayed_work_on_event).
import * as Effect from "effect/Effect";
import { ScenarioError } from "../sim/errors.ts";
import { with_frames } from "./frames.ts";
import { kernel, type Kernel } from "./kernel.ts";
import { __might_sleep, cond_resched, kthread_run, schedule, set_current_state, wake_up_process } from "./sched/core.ts";
import { TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Task } from "./sched/task.ts";
import { DEFINE_WAIT, finish_wait, prepare_to_wait, wait_queue_head_t, wake_up_all } from "./sched/wait.ts";
import { dump_stack, print_held_locks } from "./dumpstack.ts";
import { lockdep_map, lock_map_acquire, lock_map_release } from "./lockdep_map.ts";
import { TIMER_IRQSAFE, __init_timer, add_timer, add_timer_on, del_timer, del_timer_sync, timer_list } from "./time/timer.ts";
import { effect_fn, gen_fn, type EffectFn } from "./gen_fn.ts";

// include/linux/workqueue.h (6.1) flags for alloc_workqueue().
/**
 * WQ_UNBOUND (6.1: 1 << 1; 2.6.34 has no WQ_* flags): works run on a worker bound to no CPU. 6.1:
 * the shared unbound pool ("kworker/uN:1"); 2.6.34: the workqueue's one thread "NAME", as
 * create_singlethread_workqueue() makes it.
 */
export const WQ_UNBOUND = 1 << 1;
/**
 * WQ_FREEZABLE (6.1: 1 << 2): the workqueue is frozen for suspend. mmsim has no freezer: it changes
 * nothing.
 */
export const WQ_FREEZABLE = 1 << 2;
/**
 * WQ_MEM_RECLAIM (6.1: 1 << 3): the workqueue may be used in memory reclaim, so Linux gives it a
 * rescuer thread. mmsim has no rescuers; on a 6.1 kernel flush_work() takes the workqueue's lockdep
 * map for it, as for an ordered workqueue.
 */
export const WQ_MEM_RECLAIM = 1 << 3;
/**
 * WQ_HIGHPRI (6.1: 1 << 4): works run on the CPU's high-priority pool ("kworker/N:1H") on a 6.1
 * kernel; on a 2.6.34 kernel (each workqueue its own threads) it changes nothing.
 */
export const WQ_HIGHPRI = 1 << 4;
/**
 * WQ_CPU_INTENSIVE (6.1: 1 << 5): works that do not count for the pool's concurrency management.
 * mmsim has none (one worker per pool): it changes nothing.
 */
export const WQ_CPU_INTENSIVE = 1 << 5;
/** WQ_MAX_ACTIVE (6.1: 512): the largest max_active alloc_workqueue() takes. */
export const WQ_MAX_ACTIVE = 512;
/**
 * WQ_DFL_ACTIVE (6.1: 256, WQ_MAX_ACTIVE / 2): the max_active of alloc_workqueue(name, flags, 0)
 * and of the system workqueues. mmsim keeps max_active but does not limit by it (one worker runs
 * one work at a time).
 */
export const WQ_DFL_ACTIVE = WQ_MAX_ACTIVE / 2;
/** queue_work_on()'s "any CPU": the local one. */
export const WORK_CPU_UNBOUND = -1;

/** struct workqueue_struct: its name, flags and max_active (the per-run state is elsewhere). */
export class workqueue_struct {
  /** lockdep's map of the workqueue, by era (2.6.34 "NAME", 6.1 "(wq_completion)NAME"). */
  readonly maps: [lockdep_map | null, lockdep_map | null] = [null, null];
  constructor(
    readonly name: string,
    readonly flags: number,
    readonly max_active: number,
    /** 2.6.34 has no such workqueue: it is this one there (system_highpri_wq, system_long_wq). */
    readonly alias26: workqueue_struct | null = null,
  ) {}
}

/** system_wq: "events", what schedule_work() queues on. */
export const system_wq = new workqueue_struct("events", 0, WQ_DFL_ACTIVE);
/** system_highpri_wq (6.1 "events_highpri", the highpri pools; system_wq on 2.6.34). */
export const system_highpri_wq = new workqueue_struct("events_highpri", WQ_HIGHPRI, WQ_DFL_ACTIVE, system_wq);
/** system_long_wq (6.1 "events_long"; system_wq on 2.6.34). */
export const system_long_wq = new workqueue_struct("events_long", 0, WQ_DFL_ACTIVE, system_wq);

/** struct work_struct: the function, its pending bit, and lockdep's map. */
export class work_struct {
  pending = false;
  /** The workqueue and pool it was last queued on. */
  wq: workqueue_struct | null = null;
  pool: WorkerPool | null = null;
  /** Runs in progress (more than one only on 2.6.34, on two CPUs) and runs finished. */
  running = 0;
  finished = 0;
  /** Where flush_work() and cancel_work_sync() callers sleep (made on first use). */
  done: wait_queue_head_t | null = null;
  /** The frames a run shows, made once: 2.6.34's run_workqueue, 6.1's process_one_work. */
  readonly frames: readonly [readonly string[], readonly string[]];
  /** lockdep's map of the work, by era (2.6.34 "(EXPR)", 6.1 "(work_completion)(EXPR)"). */
  readonly maps: [lockdep_map | null, lockdep_map | null] = [null, null];
  /** The run whose pools the fields above describe (a work made once and used by several runs starts afresh in each). */
  owner: unknown = null;
  constructor(
    readonly func: (work: work_struct) => Effect.Effect<void>,
    /** The expression INIT_WORK was given ("&dev->work"). */
    readonly expr: string,
  ) {
    const name = func.name || "work_func";
    this.frames = [["run_workqueue", name], ["process_one_work", name]];
  }
}

/**
 * INIT_WORK(work, func) as `const work = INIT_WORK(func, "&dev->work")`: `func(work)` runs in a
 * worker thread; `name` is the expression lockdep names the work by (the function's name if left out).
 */
export const INIT_WORK = (func: EffectFn<[work: work_struct], void>, name?: string): work_struct => new work_struct(effect_fn(func), name ?? (func.name || "work"));

/** A worker pool and its one worker. */
interface WorkerPool {
  /** The CPU its worker is bound to; -1 unbound. */
  readonly cpu: number;
  /** Its worker's comm. */
  readonly comm: string;
  readonly worklist: work_struct[];
  worker: Task | null;
  /** The work its worker is running, and that run's workqueue. */
  current: work_struct | null;
  current_wq: workqueue_struct | null;
  /** destroy_workqueue() (2.6.34, its own threads): the worker exits once the list is empty. */
  stopping: boolean;
}

interface WqState {
  /** 6.1: each CPU's normal and highpri pools, and the unbound pool. */
  readonly normal: (WorkerPool | undefined)[];
  readonly highpri: (WorkerPool | undefined)[];
  unbound: WorkerPool | null;
  /** 2.6.34: each workqueue's own pools (by CPU; index 0 for a single-threaded one). */
  readonly own: Map<workqueue_struct, (WorkerPool | undefined)[]>;
  readonly destroyed: Set<workqueue_struct>;
}

const states = new WeakMap<Kernel, WqState>();

function state_of(k: Kernel): WqState {
  let s = states.get(k);
  if (s === undefined) states.set(k, (s = { normal: [], highpri: [], unbound: null, own: new Map(), destroyed: new Set() }));
  return s;
}

/** The work as the running kernel's: its state reset when it was last used by another run. */
function own(k: Kernel, work: work_struct): work_struct {
  const s = state_of(k);
  if (work.owner !== s) {
    work.owner = s;
    work.pending = false;
    work.wq = null;
    work.pool = null;
    work.running = 0;
    work.finished = 0;
    work.done = null;
  }
  return work;
}

const new_pool = (cpu: number, comm: string): WorkerPool => ({ cpu, comm, worklist: [], worker: null, current: null, current_wq: null, stopping: false });

/** The workqueue as this era has it (2.6.34's aliases are system_wq). */
const wq_of = (k: Kernel, wq: workqueue_struct): workqueue_struct => (k.config.era === "2.6" && wq.alias26 !== null ? wq.alias26 : wq);
const unbound = (wq: workqueue_struct): boolean => (wq.flags & WQ_UNBOUND) !== 0;

/** The pool `wq` runs its works on for CPU `cpu`. */
function pool_for(k: Kernel, wq: workqueue_struct, cpu: number): WorkerPool {
  const s = state_of(k);
  if (k.config.era === "6") {
    if (unbound(wq)) return (s.unbound ??= new_pool(-1, `kworker/u${2 * k.percpu.length}:1`));
    if ((wq.flags & WQ_HIGHPRI) !== 0) return (s.highpri[cpu] ??= new_pool(cpu, `kworker/${cpu}:1H`));
    return (s.normal[cpu] ??= new_pool(cpu, `kworker/${cpu}:1`));
  }
  let own = s.own.get(wq);
  if (own === undefined) s.own.set(wq, (own = []));
  if (unbound(wq)) return (own[0] ??= new_pool(-1, wq.name));
  return (own[cpu] ??= new_pool(cpu, `${wq.name}/${cpu}`));
}

/** Every pool `wq` may have works on. */
function pools_of(k: Kernel, wq: workqueue_struct): WorkerPool[] {
  const s = state_of(k);
  const all = k.config.era === "6" ? (unbound(wq) ? [s.unbound] : (wq.flags & WQ_HIGHPRI) !== 0 ? s.highpri : s.normal) : (s.own.get(wq) ?? []);
  return all.filter((p): p is WorkerPool => p !== undefined && p !== null);
}

/** The map of a workqueue or a work for this era, made on first use. */
function wq_map(k: Kernel, wq: workqueue_struct): lockdep_map {
  const i = k.config.era === "2.6" ? 0 : 1;
  return (wq.maps[i] ??= new lockdep_map(i === 0 ? wq.name : `(wq_completion)${wq.name}`));
}
function work_map(k: Kernel, work: work_struct): lockdep_map {
  const i = k.config.era === "2.6" ? 0 : 1;
  return (work.maps[i] ??= new lockdep_map(i === 0 ? `(${work.expr})` : `(work_completion)(${work.expr})`));
}

/**
 * process_one_work() (2.6.34: run_workqueue()'s loop body): the work runs with both maps held and
 * its name on the stack, then the leak check and cond_resched().
 */
function* process_one_work(k: Kernel, pool: WorkerPool, work: work_struct): Effect.fn.Return<void> {
  const wq = work.wq ?? system_wq;
  const era = k.config.era === "2.6" ? 0 : 1;
  const frames = work.frames[era];
  pool.current = work;
  pool.current_wq = wq;
  work.running++;
  lock_map_acquire(wq_map(k, wq), frames[0]!);
  lock_map_acquire(work_map(k, work), frames[0]!);
  yield* with_frames(frames, work.func(work));
  lock_map_release(work_map(k, work));
  lock_map_release(wq_map(k, wq));
  leak_check(k, frames);
  pool.current = null;
  pool.current_wq = null;
  work.running--;
  work.finished++;
  if (work.done !== null && work.done.task_list.length > 0) wake_up_all(work.done);
  yield* cond_resched();
}

/** The check after a work returns: it left a lock held or preemption off. */
function leak_check(k: Kernel, frames: readonly string[]): void {
  const pc = k.this_cpu();
  if (pc.preempt_count === 0) return;
  const cur = pc.curr;
  const text = [
    `BUG: workqueue leaked lock or atomic: ${cur.comm}/0x${pc.preempt_count.toString(16).padStart(8, "0")}/${cur.pid}`,
    `${k.config.era === "2.6" ? "    " : "     "}last function: ${frames[1]}`,
    ...print_held_locks(k, cur),
    ...dump_stack(k.this_ctx(), [frames[0]!]),
  ].join("\n");
  k.report("bug", text);
}

/** worker_thread(): runs the pool's work items in order, then sleeps until more are queued. */
const worker_thread = gen_fn(function* worker_thread(pool: WorkerPool): Effect.fn.Return<void> {
  const k = kernel();
  for (;;) {
    set_current_state(TASK_RUNNING);
    while (pool.worklist.length > 0) {
      const work = pool.worklist.shift()!;
      work.pending = false;
      yield* process_one_work(k, pool, work);
    }
    if (pool.stopping) return;
    set_current_state(TASK_INTERRUPTIBLE); // worker_enter_idle()
    yield* schedule();
  }
});

/** insert_work(): onto the pool's list; its worker woken, or started. */
function insert_work(k: Kernel, pool: WorkerPool, work: work_struct): void {
  pool.worklist.push(work);
  if (pool.worker === null) pool.worker = kthread_run(worker_thread, pool, pool.comm, { cpus: pool.cpu >= 0 ? [pool.cpu] : [], kernelThread: true });
  else wake_up_process(pool.worker);
}

/** __queue_work(): `work` (pending already set) onto `wq`'s pool for `cpu` (-1: this CPU). */
function __queue_work(k: Kernel, cpu: number, wq0: workqueue_struct, work: work_struct): void {
  const wq = wq_of(k, wq0);
  if (state_of(k).destroyed.has(wq)) throw new ScenarioError(`queue_work on workqueue "${wq.name}" after destroy_workqueue()`);
  let pool = pool_for(k, wq, cpu >= 0 ? cpu : k.this_cpu().id);
  // 6.1: a work still running on another pool of this workqueue is queued there (non-reentrancy).
  const last = work.pool;
  if (k.config.era === "6" && last !== null && last !== pool && last.current === work && last.current_wq === wq) pool = last;
  work.wq = wq;
  work.pool = pool;
  insert_work(k, pool, work);
}

function check_cpu(k: Kernel, fn: string, cpu: number): void {
  if (cpu !== WORK_CPU_UNBOUND && (!Number.isInteger(cpu) || cpu < 0 || cpu >= k.percpu.length)) throw new ScenarioError(`${fn}: no CPU ${cpu} on a ${k.percpu.length}-CPU machine`);
}

/**
 * queue_work_on(cpu, wq, work): queues `work` on `wq` for `cpu` (WORK_CPU_UNBOUND: this CPU);
 * false if it was already pending. Context: any, hardirq included; never sleeps.
 */
export function queue_work_on(cpu: number, wq: workqueue_struct, work: work_struct): boolean {
  const k = kernel();
  check_cpu(k, "queue_work_on", cpu);
  if (own(k, work).pending) return false;
  work.pending = true;
  __queue_work(k, cpu, wq, work);
  return true;
}

/** queue_work(wq, work): on this CPU's pool of `wq`; false if already pending. Context: any. */
export const queue_work = (wq: workqueue_struct, work: work_struct): boolean => queue_work_on(WORK_CPU_UNBOUND, wq, work);

/** schedule_work(work): queue_work(system_wq, work). Context: any. */
export const schedule_work = (work: work_struct): boolean => queue_work_on(WORK_CPU_UNBOUND, system_wq, work);

/** schedule_work_on(cpu, work): queue_work_on(cpu, system_wq, work). Context: any. */
export const schedule_work_on = (cpu: number, work: work_struct): boolean => queue_work_on(cpu, system_wq, work);

/** work_pending(work): queued and not yet taken by its worker. */
export const work_pending = (work: work_struct): boolean => own(kernel(), work).pending;

// ---------------------------------------------------------------- delayed work

/** struct delayed_work: a work item and the timer that queues it. */
export class delayed_work {
  /** The workqueue and CPU the timer queues the work on. */
  wq: workqueue_struct | null = null;
  cpu = WORK_CPU_UNBOUND;
  readonly timer: timer_list;
  constructor(
    readonly work: work_struct,
    expr: string,
  ) {
    const dwork = this;
    // INIT_DELAYED_WORK's init_timer(&(_work)->timer) / __init_timer(&(_work)->timer, ...).
    this.timer = new timer_list(`&(${expr})->timer`);
    __init_timer(this.timer, function* delayed_work_timer_fn(_t: timer_list) {
      dwork_queue_from_timer(dwork);
    }, 0);
  }
}

/** delayed_work_timer_fn()'s work: the timer queues the work (2.6.34 on the CPU the timer ran on). */
function dwork_queue_from_timer(dwork: delayed_work): void {
  const k = kernel();
  __queue_work(k, k.config.era === "6" ? dwork.cpu : WORK_CPU_UNBOUND, dwork.wq ?? system_wq, dwork.work);
}

/** INIT_DELAYED_WORK(dwork, func) as `const dwork = INIT_DELAYED_WORK(func, "&dev->dwork")`. */
export function INIT_DELAYED_WORK(func: EffectFn<[work: work_struct], void>, name?: string): delayed_work {
  const expr = name ?? (func.name || "dwork");
  const d = new delayed_work(INIT_WORK(func, `&(${expr})->work`), expr);
  return d;
}

/** __queue_delayed_work(): at once for no delay (6.1; 2.6.34 only from queue_delayed_work), else `delay` jiffies from now by the timer. */
function __queue_delayed_work(k: Kernel, cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: number, now_if_zero: boolean): void {
  if (delay <= 0 && (now_if_zero || k.config.era === "6")) {
    __queue_work(k, cpu, wq, dwork.work);
    return;
  }
  dwork.wq = wq;
  dwork.cpu = cpu;
  const t = dwork.timer;
  // 6.1 flags the timer TIMER_IRQSAFE (__INIT_DELAYED_WORK): it runs with interrupts off.
  t.flags = k.config.era === "6" ? t.flags | TIMER_IRQSAFE : t.flags & ~TIMER_IRQSAFE;
  t.expires = Math.floor(k.now() / k.tick_ns) + Math.max(0, delay);
  if (cpu !== WORK_CPU_UNBOUND) add_timer_on(t, cpu);
  else add_timer(t);
}

/**
 * queue_delayed_work_on(cpu, wq, dwork, delay): queues the work on `wq` for `cpu` after `delay`
 * jiffies; false if it was already pending. Context: any; never sleeps.
 */
export function queue_delayed_work_on(cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: number): boolean {
  const k = kernel();
  check_cpu(k, "queue_delayed_work_on", cpu);
  if (own(k, dwork.work).pending) return false;
  dwork.work.pending = true;
  __queue_delayed_work(k, cpu, wq, dwork, delay, false);
  return true;
}

/** queue_delayed_work(wq, dwork, delay). Context: any. */
export function queue_delayed_work(wq: workqueue_struct, dwork: delayed_work, delay: number): boolean {
  const k = kernel();
  if (own(k, dwork.work).pending) return false;
  dwork.work.pending = true;
  __queue_delayed_work(k, WORK_CPU_UNBOUND, wq, dwork, delay, true);
  return true;
}

/** schedule_delayed_work(dwork, delay): on system_wq. Context: any. */
export const schedule_delayed_work = (dwork: delayed_work, delay: number): boolean => queue_delayed_work(system_wq, dwork, delay);

/** schedule_delayed_work_on(cpu, dwork, delay): on system_wq for `cpu`. Context: any. */
export const schedule_delayed_work_on = (cpu: number, dwork: delayed_work, delay: number): boolean => queue_delayed_work_on(cpu, system_wq, dwork, delay);

/**
 * cache_reap's delayed work (start_cpu_timer): queued on system_wq's pool of `cpu` after `delay`
 * jiffies by a timed event standing for its timer, kernel housekeeping that does not keep a run
 * going (as a deferrable timer does not wake an idle CPU), rather than by a timer_list.
 * False if it was already pending. Context: any.
 */
export function schedule_delayed_work_on_event(cpu: number, dwork: delayed_work, delay: number): boolean {
  const k = kernel();
  if (own(k, dwork.work).pending) return false;
  dwork.work.pending = true;
  const pool = pool_for(k, system_wq, cpu);
  const work = dwork.work;
  work.wq = system_wq;
  work.pool = pool;
  if (delay <= 0) insert_work(k, pool, work);
  else k.engine.at(k.now() + delay * k.tick_ns, 3, `delayed_work/${cpu}`, () => insert_work(k, pool, work), true, true);
  return true;
}

// ---------------------------------------------------------------- flushing and cancelling

/** Sleeps (uninterruptibly) until `work` has finished `target` runs, in wait_for_completion under `fn`. */
function* wait_for_work(k: Kernel, work: work_struct, target: number, fn: string): Effect.fn.Return<void> {
  if (work.finished >= target) return;
  const q = (work.done ??= new wait_queue_head_t("work_done"));
  const wait = DEFINE_WAIT();
  const frames = k.this_ctx().frames;
  frames.push(fn, "wait_for_completion");
  for (;;) {
    prepare_to_wait(q, wait, TASK_UNINTERRUPTIBLE);
    // Done, or the instance waited for was cancelled meanwhile (Linux's barrier behind it still runs).
    if (work.finished >= target || (!work.pending && work.running === 0)) break;
    yield* schedule();
  }
  finish_wait(q, wait);
  frames.pop();
  frames.pop();
}

/** Queued on a pool's list (6.1's get_work_pwq(): not a delayed work whose timer is still pending). */
const on_list = (work: work_struct): boolean => work.pending && work.pool !== null && work.pool.worklist.indexOf(work) >= 0;

/** The runs flush_work() waits for: the one on a pool's list (if there is one) or those running. 0: none. */
function flush_target(work: work_struct): number {
  const queued = on_list(work);
  return queued || work.running > 0 ? work.finished + work.running + (queued ? 1 : 0) : 0;
}

/**
 * __flush_work(): lockdep's maps, might_sleep, then the wait; true if it waited. The function
 * taking the maps and waiting: 6.1 __flush_work; 2.6.34 flush_work, or wait_on_work for a cancel.
 */
function* __flush_work(k: Kernel, work: work_struct, from_cancel: boolean): Effect.fn.Return<boolean> {
  own(k, work);
  const era6 = k.config.era === "6";
  const fn = era6 ? "__flush_work" : from_cancel ? "wait_on_work" : "flush_work";
  if (era6) {
    lock_map_acquire(work_map(k, work), fn);
    lock_map_release(work_map(k, work));
    __might_sleep("kernel/workqueue.c", 0, 0); // start_flush_work()
  } else {
    __might_sleep("kernel/workqueue.c", 0, 0);
    // 2.6.34: wait_on_work() takes the work's map, flush_work() the map of the workqueue it was queued on.
    const map = from_cancel ? work_map(k, work) : work.wq !== null ? wq_map(k, work.wq) : null;
    if (map === null) return false;
    lock_map_acquire(map, fn);
    lock_map_release(map);
  }
  const target = flush_target(work);
  if (target === 0) return false;
  const wq = work.wq!;
  if (era6 && !from_cancel && (wq.max_active === 1 || (wq.flags & WQ_MEM_RECLAIM) !== 0)) {
    lock_map_acquire(wq_map(k, wq), fn);
    lock_map_release(wq_map(k, wq));
  }
  yield* wait_for_work(k, work, target, fn);
  return true;
}

/**
 * flush_work(work): waits until the instance queued last has run (or the one running has
 * returned); true if it waited, false if the work was idle. Context: process, may sleep.
 */
export const flush_work = gen_fn(function* flush_work(work: work_struct): Effect.fn.Return<boolean> {
  const k = kernel();
  const frames = k.this_ctx().frames;
  if (k.config.era === "6") frames.push("flush_work");
  const r = yield* __flush_work(k, work, false);
  if (k.config.era === "6") frames.pop();
  return r;
});

/** try_to_grab_pending(): takes a pending work off its pool's list (or its delayed work's timer off); true if it was pending. */
function try_to_grab_pending(work: work_struct, dwork: delayed_work | null): boolean {
  if (dwork !== null && del_timer(dwork.timer) === 1) {
    work.pending = false;
    return true;
  }
  if (!work.pending) return false;
  const list = work.pool?.worklist;
  const i = list?.indexOf(work) ?? -1;
  if (i >= 0) list!.splice(i, 1);
  work.pending = false;
  // A flush_work() waiting for the instance taken off goes on (its barrier would have run).
  if (work.done !== null && work.done.task_list.length > 0) wake_up_all(work.done);
  return true;
}

/** __cancel_work_timer(): grab, then wait for a running instance. */
function* __cancel_work_timer(k: Kernel, work: work_struct, dwork: delayed_work | null): Effect.fn.Return<boolean> {
  const frames = k.this_ctx().frames;
  frames.push("__cancel_work_timer");
  const ret = try_to_grab_pending(own(k, work), dwork);
  yield* __flush_work(k, work, true);
  frames.pop();
  return ret;
}

/**
 * cancel_work_sync(work): takes a pending work off its list, then waits until no run of it is in
 * progress; true if it was pending. Must not be called from the work itself, nor holding a lock
 * the work takes (lockdep reports either). Context: process, may sleep.
 */
export const cancel_work_sync = gen_fn(function* cancel_work_sync(work: work_struct): Effect.fn.Return<boolean> {
  const k = kernel();
  const frames = k.this_ctx().frames;
  frames.push("cancel_work_sync");
  const ret = yield* __cancel_work_timer(k, work, null);
  frames.pop();
  return ret;
});

/** cancel_delayed_work_sync(dwork): the same, the timer included. Context: process, may sleep. */
export const cancel_delayed_work_sync = gen_fn(function* cancel_delayed_work_sync(dwork: delayed_work): Effect.fn.Return<boolean> {
  const k = kernel();
  const frames = k.this_ctx().frames;
  frames.push("cancel_delayed_work_sync");
  const ret = yield* __cancel_work_timer(k, dwork.work, dwork);
  frames.pop();
  return ret;
});

/**
 * cancel_delayed_work(dwork): true if it was pending and now is not. 6.1 takes it off its timer
 * or its pool's list and does not wait; 2.6.34 only stops the timer, with del_timer_sync (false
 * once the timer has queued the work). Context: any (2.6.34: not hardirq).
 */
export const cancel_delayed_work = gen_fn(function* cancel_delayed_work(dwork: delayed_work): Effect.fn.Return<boolean> {
  const k = kernel();
  if (k.config.era === "6") return try_to_grab_pending(own(k, dwork.work), dwork);
  const ret = yield* del_timer_sync(dwork.timer);
  if (ret === 1) dwork.work.pending = false;
  return ret === 1;
});

/**
 * flush_delayed_work(dwork): a pending timer is stopped and the work queued at once, then
 * flush_work(); true if it waited. Context: process, may sleep.
 */
export const flush_delayed_work = gen_fn(function* flush_delayed_work(dwork: delayed_work): Effect.fn.Return<boolean> {
  const k = kernel();
  if ((yield* del_timer_sync(dwork.timer)) === 1) __queue_work(k, k.config.era === "6" ? dwork.cpu : WORK_CPU_UNBOUND, dwork.wq ?? system_wq, dwork.work);
  return yield* flush_work(dwork.work);
});

/**
 * flush_workqueue(wq): waits until every work queued on `wq` when it was called has run (delayed
 * works still in their timers are not waited for). Context: process, may sleep.
 */
export const flush_workqueue = gen_fn(function* flush_workqueue(wq0: workqueue_struct): Effect.fn.Return<void> {
  const k = kernel();
  const wq = wq_of(k, wq0);
  __might_sleep("kernel/workqueue.c", 0, 0);
  lock_map_acquire(wq_map(k, wq), k.config.era === "6" ? "__flush_workqueue" : "flush_workqueue");
  lock_map_release(wq_map(k, wq));
  const targets: [work_struct, number][] = [];
  for (const pool of pools_of(k, wq)) {
    if (pool.current !== null && pool.current_wq === wq) targets.push([pool.current, flush_target(pool.current)]);
    for (const w of pool.worklist) if (w.wq === wq && !targets.some(([x]) => x === w)) targets.push([w, flush_target(w)]);
  }
  for (const [w, target] of targets) yield* wait_for_work(k, w, target, k.config.era === "6" ? "__flush_workqueue" : "flush_workqueue");
});

// ---------------------------------------------------------------- workqueues

/**
 * alloc_workqueue(name, flags, max_active): a workqueue (WQ_UNBOUND, WQ_HIGHPRI, WQ_MEM_RECLAIM,
 * ...; max_active 0 is WQ_DFL_ACTIVE). Its workers start on first use. Context: process.
 */
export function alloc_workqueue(name: string, flags = 0, max_active = 0): workqueue_struct {
  if (!Number.isInteger(max_active) || max_active < 0 || max_active > WQ_MAX_ACTIVE) throw new ScenarioError(`alloc_workqueue(${name}): max_active ${max_active} not in 0..${WQ_MAX_ACTIVE}`);
  return new workqueue_struct(name, flags, max_active === 0 ? WQ_DFL_ACTIVE : max_active);
}

/** create_workqueue(name): alloc_workqueue(name, WQ_MEM_RECLAIM, 1) (2.6.34: a thread per CPU). */
export const create_workqueue = (name: string): workqueue_struct => alloc_workqueue(name, WQ_MEM_RECLAIM, 1);

/** create_singlethread_workqueue(name): an ordered, unbound workqueue (2.6.34: one thread "NAME"). */
export const create_singlethread_workqueue = (name: string): workqueue_struct => alloc_workqueue(name, WQ_UNBOUND | WQ_MEM_RECLAIM, 1);

/** destroy_workqueue(wq): flushes it, then it is gone (2.6.34: its threads exit). Context: process, may sleep. */
export const destroy_workqueue = gen_fn(function* destroy_workqueue(wq: workqueue_struct): Effect.fn.Return<void> {
  const k = kernel();
  if (wq === system_wq || wq.alias26 !== null) throw new ScenarioError(`destroy_workqueue(${wq.name}): a system workqueue`);
  yield* flush_workqueue(wq);
  const s = state_of(k);
  s.destroyed.add(wq);
  if (k.config.era === "2.6") {
    for (const pool of pools_of(k, wq)) {
      pool.stopping = true;
      if (pool.worker !== null) wake_up_process(pool.worker);
    }
  }
});

/** The worker thread of `cpu`'s system_wq pool, if one has been started. */
export const worker_of = (cpu: number): Task | null => {
  const k = kernel();
  const s = states.get(k);
  if (s === undefined) return null;
  const pool = k.config.era === "6" ? s.normal[cpu] : s.own.get(system_wq)?.[cpu];
  return pool?.worker ?? null;
};
