// kernel/workqueue.c reduced to system_wq, the per-CPU "events" workqueue that schedule_work()
// queues on: a work item goes on the worker pool of the CPU that queues it and runs later, in
// process context, in that CPU's worker thread. A work item is pending from queueing until its
// worker takes it off the list (set_work_pool_and_clear_pending), so queueing it again meanwhile
// does nothing and returns false. Simplified: one worker per CPU, started on the first
// schedule_work() there and named kworker/N:1 (Linux has kworker/N:0 from boot and adds
// workers as the pool needs them; no concurrency management, no rescuer, no unbound, highpri or
// freezable workqueues, no flush_work / cancel_work_sync). Delayed work (cache_reap) is a timed
// event that queues the work.
import * as Effect from "effect/Effect";
import { with_frames } from "./frames.ts";
import { kernel, type Kernel } from "./kernel.ts";
import { cond_resched, kthread_run, schedule, set_current_state, wake_up_process } from "./sched/core.ts";
import { TASK_INTERRUPTIBLE, TASK_RUNNING, type Task } from "./sched/task.ts";
import { effect_fn, gen_fn, type EffectFn } from "./gen_fn.ts";

/** struct work_struct: the function and its pending bit (WORK_STRUCT_PENDING). */
export interface work_struct {
  readonly func: (work: work_struct) => Effect.Effect<void>;
  pending: boolean;
}

/** INIT_WORK(work, func). */
export const INIT_WORK = (func: EffectFn<[work: work_struct], void>): work_struct => ({ func: effect_fn(func), pending: false });

/** A CPU's worker_pool of system_wq: the worklist and its worker. */
interface WorkerPool {
  readonly cpu: number;
  readonly worklist: work_struct[];
  worker: Task | null;
}

const pools = new WeakMap<Kernel, WorkerPool[]>();

function pool_of(k: Kernel, cpu: number): WorkerPool {
  let ps = pools.get(k);
  if (ps === undefined) pools.set(k, (ps = k.percpu.map((pc) => ({ cpu: pc.id, worklist: [], worker: null }))));
  return ps[cpu]!;
}

/** process_one_work(): the work runs with its name on the worker's stack, then cond_resched(). */
function* process_one_work(k: Kernel, work: work_struct): Effect.fn.Return<void> {
  yield* with_frames(["process_one_work", work.func.name || "work_func"], work.func(work));
  yield* cond_resched();
}

/** worker_thread(): runs the pool's work items in order, then sleeps until more are queued. */
const worker_thread = gen_fn(function* worker_thread(pool: WorkerPool): Effect.fn.Return<void> {
  const k = kernel();
  for (;;) {
    set_current_state(TASK_RUNNING);
    while (pool.worklist.length > 0) {
      const work = pool.worklist.shift()!;
      work.pending = false;
      yield* process_one_work(k, work);
    }
    set_current_state(TASK_INTERRUPTIBLE); // worker_enter_idle()
    yield* schedule();
  }
});

/**
 * schedule_work(work): queues `work` on system_wq on this CPU (queue_work_on with
 * WORK_CPU_UNBOUND picks the local CPU's pool); false if it was already pending. Its worker is
 * woken (started on first use). Context: any, hardirq included; never sleeps.
 */
export function schedule_work(work: work_struct): boolean {
  const k = kernel();
  if (work.pending) return false;
  work.pending = true;
  insert_work(k, pool_of(k, k.this_cpu().id), work);
  return true;
}

/** insert_work(): onto the pool's list; its worker woken, or started (2.6.34 "events/N", 6.1 "kworker/N:1"). */
function insert_work(k: Kernel, pool: WorkerPool, work: work_struct): void {
  pool.worklist.push(work);
  const name = k.config.era === "2.6" ? `events/${pool.cpu}` : `kworker/${pool.cpu}:1`;
  if (pool.worker === null) pool.worker = kthread_run(worker_thread, pool, name, { cpus: [pool.cpu], kernelThread: true });
  else wake_up_process(pool.worker);
}

/** struct delayed_work: a work item and the timer that queues it. */
export interface delayed_work {
  readonly work: work_struct;
}

/** INIT_DELAYED_WORK(dwork, func). */
export const INIT_DELAYED_WORK = (func: EffectFn<[work: work_struct], void>): delayed_work => ({ work: INIT_WORK(func) });

/**
 * schedule_delayed_work_on(cpu, dwork, delay): queues the work on `cpu`'s pool after `delay`
 * jiffies (at once for 0); false if it was already pending. The timer is kernel housekeeping: it
 * does not keep a run going (as a deferrable timer does not wake an idle CPU). Context: any.
 */
export function schedule_delayed_work_on(cpu: number, dwork: delayed_work, delay: number): boolean {
  const k = kernel();
  if (dwork.work.pending) return false;
  dwork.work.pending = true;
  const pool = pool_of(k, cpu);
  if (delay <= 0) insert_work(k, pool, dwork.work);
  else k.engine.at(k.now() + delay * k.tick_ns, 3, `delayed_work/${cpu}`, () => insert_work(k, pool, dwork.work), true, true);
  return true;
}

/** The worker thread of `cpu`'s system_wq pool, if one has been started. */
export const worker_of = (cpu: number): Task | null => pools.get(kernel())?.[cpu]?.worker ?? null;
