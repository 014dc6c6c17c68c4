// include/linux/rcupdate.h, kernel/rcu/update.c (2.6.34: kernel/rcupdate.c) and lockdep-RCU
// (CONFIG_PROVE_RCU: lockdep_rcu_dereference in 2.6.34's kernel/lockdep.c,
// lockdep_rcu_suspicious in 6.1's kernel/locking/lockdep.c): the API a driver's readers and
// updaters use, over the grace periods of tree.ts.
// - rcu_read_lock() / rcu_read_unlock(): with PREEMPT_RCU (6.1, CONFIG_PREEMPT) the task's
//   nesting, current->rcu_read_lock_nesting, which might_sleep prints as "RCU nest depth";
//   otherwise (2.6.34's TREE_RCU, 6.1 without CONFIG_PREEMPT) preempt_disable() /
//   preempt_enable(), so sleeping in a reader is might_sleep's "in_atomic(): 1" or "scheduling
//   while atomic". rcu_read_lock() is a plain call (as preempt_disable()); rcu_read_unlock() is
//   an interleaving point (as preempt_enable(), a preemption point too without PREEMPT_RCU).
// - rcu_dereference(p) / rcu_assign_pointer(p, v) on a shared() cell are READ_ONCE /
//   WRITE_ONCE (smp_store_release), interleaving points; rcu_dereference checks, with lockdep
//   on, that the task holds rcu_read_lock (lock_is_held(&rcu_lock_map)), and reports
//   "suspicious rcu_dereference_check() usage" otherwise (6.1: once per call site,
//   RCU_LOCKDEP_WARN; 2.6.34: debug_locks_off() first, so once, and lockdep goes off).
// - synchronize_rcu(), call_rcu(), kfree_rcu(), rcu_barrier().
// The "file:line" of a lockdep-RCU report from scenario code is `where` (default "scenario") and
// line 0, as might_sleep() from scenario code prints it; mmsim does not know the caller's line.
// Simplified: kfree_rcu() is call_rcu() with a callback that kfrees (the 2.6.38-5.x way; 6.1
// batches kvfree_rcu objects per CPU and frees them from a workqueue after a GP, and 2.6.34 has
// no kfree_rcu() at all); rcu_barrier() queues its callbacks on the CPUs directly rather than
// from on_each_cpu()'s IPIs; no rcu_read_lock_bh/sched, SRCU or rcu_dereference_bh/sched.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { Shared } from "../atomic.ts";
import { WRITE_ONCE, READ_ONCE } from "../atomic.ts";
import { PointThen, __might_sleep, current, preempt_disable, preempt_enable_no_resched, resched_op } from "../sched/core.ts";
import { complete, init_completion, wait_for_completion, type completion } from "../sched/wait.ts";
import { irq_restore_in_op, local_irq_save } from "../irqflags.ts";
import { held_lock_count } from "../dumpstack.ts";
import { kfree } from "../mm/kmalloc.ts";
import type { kaddr_t } from "../mm/page.ts";
import { gen_fn, type EffectFn } from "../gen_fn.ts";
import { __call_rcu, rcu_callback, rcu_cpu_has_callbacks, rcu_lockdep_warn, rcu_read_lock_held_k, rcu_read_unlock_special, rcu_state, type RcuCallback, type RcuState, rcu_head } from "./tree.ts";

export { rcu_head };

// ---------------------------------------------------------------- readers

/** lock_acquire(&rcu_lock_map): where the task took it, and after how many held locks (listings). */
function rcu_lock_acquire(k: Kernel, t: Task): void {
  const frames = k.this_ctx().frames;
  (t.rcu_lock_at ??= []).push(frames[frames.length - 1] ?? "?");
  (t.rcu_lock_pos ??= []).push(held_lock_count(k, t));
}

type Task = ReturnType<typeof current>;

/**
 * rcu_read_lock(): enters a read-side critical section (they nest). PREEMPT_RCU: the task's
 * nesting; otherwise preempt_disable(). Context: any.
 */
export function rcu_read_lock(): void {
  const k = kernel();
  const s = rcu_state(k);
  const t = k.this_cpu().curr;
  if (!s.preempt_rcu) preempt_disable();
  rcu_lock_acquire(k, t);
  t.rcu_read_lock_nesting++;
}

/** rcu_read_unlock(): an interleaving point (phase 1: done); without PREEMPT_RCU preempt_enable()'s preemption point. */
class RcuReadUnlock extends OpClass {
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    const t = k.this_cpu().curr;
    if (t.rcu_read_lock_nesting === 0) throw new ScenarioError(`rcu_read_unlock() by ${t.comm}/${t.pid} without rcu_read_lock()`);
    t.rcu_lock_at?.pop();
    t.rcu_lock_pos?.pop();
    if (--t.rcu_read_lock_nesting === 0 && t.rcu_blocked) rcu_read_unlock_special(k, t);
    if (!(k.ext_rcu as RcuState).preempt_rcu) {
      preempt_enable_no_resched();
      return resched_op(act);
    }
    k.charge(k.costs.step);
    act.phase = 1;
    return PARK;
  }
}
const rcu_read_unlock_op: Effect.Effect<void> = op(new RcuReadUnlock());
/** rcu_read_unlock(): leaves the innermost read-side critical section. Context: any. */
export const rcu_read_unlock = (): Effect.Effect<void> => rcu_read_unlock_op;

/**
 * rcu_read_lock_held(): lock_is_held(&rcu_lock_map) for the current task when lockdep-RCU
 * checks are on, else true (as Linux without CONFIG_DEBUG_LOCK_ALLOC). Context: any.
 */
export const rcu_read_lock_held = (): boolean => rcu_read_lock_held_k(kernel());

/** rcu_dereference_check(p, c): READ_ONCE(p), then the lockdep-RCU check of `c || rcu_read_lock_held()`. */
class RcuDereference<T> extends PointThen {
  constructor(
    readonly p: Shared<T>,
    readonly c: boolean,
    readonly where: string,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    const v = this.p.value;
    if (!this.c && !rcu_read_lock_held()) rcu_lockdep_warn(k, this.where, "suspicious rcu_dereference_check() usage");
    return v;
  }
}

/**
 * rcu_dereference(p): the pointer an RCU reader may follow until its rcu_read_unlock(); an
 * interleaving point, as READ_ONCE. With lockdep, called outside rcu_read_lock() it is the
 * "suspicious RCU usage" report, naming `where` as its site. Context: any.
 */
export const rcu_dereference = <T>(p: Shared<T>, where = "scenario"): Effect.Effect<T> => op(new RcuDereference(p, false, where));

/** rcu_dereference_check(p, c): rcu_dereference() that is also legal where `c` holds (an update-side lock held, say). */
export const rcu_dereference_check = <T>(p: Shared<T>, c: boolean, where = "scenario"): Effect.Effect<T> => op(new RcuDereference(p, c, where));

/** rcu_dereference_protected(p, c): the updater's plain read under its lock; with lockdep, `c` false is a report. Context: any. */
export function rcu_dereference_protected<T>(p: Shared<T>, c: boolean, where = "scenario"): T {
  if (!c) rcu_lockdep_warn(kernel(), where, "suspicious rcu_dereference_protected() usage");
  return p.value;
}

/** rcu_access_pointer(p): the pointer's value, not to be followed (no check): READ_ONCE. */
export const rcu_access_pointer = <T>(p: Shared<T>): Effect.Effect<T> => READ_ONCE(p);

/** rcu_assign_pointer(p, v): publishes `v` to readers (smp_store_release): an interleaving point, as WRITE_ONCE. */
export const rcu_assign_pointer = <T>(p: Shared<T>, v: T): Effect.Effect<void> => WRITE_ONCE(p, v);

/** RCU_INIT_POINTER(p, v): a plain store, for NULL or a value no reader can see yet. */
export function RCU_INIT_POINTER<T>(p: Shared<T>, v: T): void {
  p.value = v;
}

// ---------------------------------------------------------------- updaters

/** call_rcu(head, func): queued here with interrupts off, then local_irq_restore's interleaving point. */
class CallRcu<H extends rcu_head> extends OpClass {
  constructor(
    readonly head: H,
    readonly func: EffectFn<[head: H], void>,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    const s = rcu_state(k);
    // Left queued by another run (a head made outside a run): not queued in this one.
    if (this.head.owner !== s) {
      this.head.owner = s;
      this.head.func = null;
    }
    if (this.head.func !== null) throw new ScenarioError("call_rcu(): this rcu_head is already queued (a second call_rcu before its callback ran)");
    const flags = local_irq_save();
    __call_rcu(k, s, k.this_cpu().id, this.head, rcu_callback(s, this.func));
    return irq_restore_in_op(act, flags, 1);
  }
}

/**
 * call_rcu(head, func): `func(head)` runs in RCU_SOFTIRQ on this CPU once a grace period that
 * started after this call has ended. `func` is a generator function or returns an Effect, and
 * is made an Effect once and remembered for the run: pass a function written once, not a new
 * closure each call. The head is usually a subclass for (or a field of) the object it frees; a
 * head already queued is refused. Context: any.
 */
export function call_rcu<H extends rcu_head>(head: H, func: EffectFn<[head: H], void>): Effect.Effect<void> {
  return op(new CallRcu(head, func));
}

/** The rcu_head kfree_rcu() queues for an object (in Linux, a field of the object). */
class kfree_rcu_head extends rcu_head {
  ptr: kaddr_t = 0;
}

/** kfree_rcu()'s callback for this run: __rcu_reclaim() of a kfree_rcu() offset, the kfree itself in rcu_do_batch. */
function kfree_rcu_callback(s: RcuState): RcuCallback {
  let cb = s.fns.get(kfree_rcu_head);
  if (cb === undefined) {
    const pool = s.kfree_pool as kfree_rcu_head[];
    const run = (head: rcu_head): Effect.Effect<void> => {
      const h = head as kfree_rcu_head;
      const p = h.ptr;
      h.ptr = 0;
      pool.push(h);
      return kfree(p);
    };
    s.fns.set(kfree_rcu_head, (cb = { run, frames: s.batch_frames }));
  }
  return cb;
}

/** kfree_rcu(ptr): a head from this run's pool, queued as call_rcu() queues one. */
class KfreeRcu extends OpClass {
  constructor(readonly ptr: kaddr_t) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    const s = rcu_state(k);
    const h = (s.kfree_pool.pop() as kfree_rcu_head | undefined) ?? new kfree_rcu_head();
    h.ptr = this.ptr;
    const flags = local_irq_save();
    __call_rcu(k, s, k.this_cpu().id, h, kfree_rcu_callback(s));
    return irq_restore_in_op(act, flags, 1);
  }
}

/**
 * kfree_rcu(ptr): kfree(ptr) after a grace period (from RCU_SOFTIRQ on this CPU); NULL does
 * nothing. Context: any.
 */
export const kfree_rcu = (ptr: kaddr_t): Effect.Effect<void> => (ptr === 0 ? Effect.void : op(new KfreeRcu(ptr)));

/** struct rcu_synchronize: wait_rcu_gp()'s head and completion. */
class rcu_synchronize extends rcu_head {
  readonly completion: completion = init_completion("rcu_synchronize");
}

/** wakeme_after_rcu(): the callback synchronize_rcu() waits for. */
const wakeme_after_rcu = gen_fn(function* wakeme_after_rcu(head: rcu_synchronize): Effect.fn.Return<void> {
  complete(head.completion);
});

/** wait_for_completion() as synchronize_rcu() and rcu_barrier() call it: might_sleep first (wait_for_common). */
function* wait_for_gp(k: Kernel, done: completion): Generator<Effect.Effect<void>, void, void> {
  const frames = k.this_ctx().frames;
  frames.push("wait_for_completion", "wait_for_common");
  __might_sleep(k.config.era === "2.6" ? "kernel/sched.c" : "kernel/sched/completion.c", 0, 0);
  frames.pop();
  frames.pop();
  yield* wait_for_completion(done);
}

/**
 * synchronize_rcu(): returns once a grace period has elapsed: every reader that was inside
 * rcu_read_lock() when it was called has left. 2.6.34 (TREE_RCU: synchronize_sched) and 6.1
 * without CONFIG_PREEMPT return at once on a 1-CPU machine (rcu_blocking_is_gp); 6.1 checks
 * might_sleep there first and, with lockdep, reports a call from inside a reader. Context:
 * process, may sleep.
 */
export const synchronize_rcu = gen_fn(function* synchronize_rcu(): Effect.fn.Return<void> {
  const k = kernel();
  const s = rcu_state(k);
  const era = k.config.era;
  const frames = k.this_ctx().frames;
  frames.push(era === "2.6" ? "synchronize_sched" : "synchronize_rcu");
  if (era === "6" && k.this_cpu().curr.rcu_read_lock_nesting > 0) rcu_lockdep_warn(k, "kernel/rcu/tree.c:0", "Illegal synchronize_rcu() in RCU read-side critical section");
  if (!s.preempt_rcu) {
    if (era === "6") __might_sleep("kernel/rcu/tree.c", 0, 0);
    if (k.percpu.length === 1) {
      frames.pop();
      return;
    }
  }
  const rs = new rcu_synchronize();
  __call_rcu(k, s, k.this_cpu().id, rs, rcu_callback(s, wakeme_after_rcu));
  if (era === "6") frames.push("__wait_rcu_gp");
  yield* wait_for_gp(k, rs.completion);
  if (era === "6") frames.pop();
  frames.pop();
});

/** rcu_barrier()'s head on each CPU: the count of CPUs still to come and the completion. */
class rcu_barrier_head extends rcu_head {
  constructor(readonly barrier: { count: number; readonly done: completion }) {
    super();
  }
}

/** rcu_barrier_callback(): the last CPU's completes the barrier. */
const rcu_barrier_callback = gen_fn(function* rcu_barrier_callback(head: rcu_barrier_head): Effect.fn.Return<void> {
  if (--head.barrier.count === 0) complete(head.barrier.done);
});

/**
 * rcu_barrier(): waits until every callback queued before it has run. 2.6.34 queues a callback
 * on every CPU, 6.1 on the CPUs that have callbacks (none: returns at once). Context: process,
 * may sleep.
 */
export const rcu_barrier = gen_fn(function* rcu_barrier(): Effect.fn.Return<void> {
  const k = kernel();
  const s = rcu_state(k);
  const barrier = { count: 1, done: init_completion("rcu_barrier_completion") };
  const cb = rcu_callback(s, rcu_barrier_callback);
  for (const pc of k.percpu) {
    if (k.config.era === "6" && !rcu_cpu_has_callbacks(s, pc.id)) continue;
    barrier.count++;
    __call_rcu(k, s, pc.id, new rcu_barrier_head(barrier), cb);
  }
  if (--barrier.count === 0) return;
  const frames = k.this_ctx().frames;
  frames.push("rcu_barrier");
  yield* wait_for_gp(k, barrier.done);
  frames.pop();
});
