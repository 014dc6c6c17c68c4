// kernel/spinlock.c, lib/spinlock_debug.c (2.6.34) and x86 ticket spinlocks: waiters are served
// in FIFO order; a spinner costs virtual time until the lock is handed to it (its clock jumps to
// the release time plus a cache-line transfer). With CONFIG_DEBUG_SPINLOCK the "recursion",
// "cpu recursion", "already unlocked", "wrong owner" and "wrong CPU" checks report as Linux does
// (the first report turns debug_locks off). Per-lock statistics follow /proc/lock_stat.
// spin_lock_nested() is spin_lock() with a lockdep subclass. How a call enters and leaves
// (interrupts, bottom halves, preemption) is lock_entry.ts's, shared with rwlock.ts.
import * as Effect from "effect/Effect";
import { OpClass, PARK, op, type Activation, type OpBase } from "../../sim/op.ts";
import type { ExecContext } from "../context.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { current, preempt_disable, preempt_enable, sched_point } from "../sched/core.ts";
import type { Task } from "../sched/task.ts";
import { dump_stack } from "../dumpstack.ts";
import type { irqflags_t } from "../irqflags.ts";
import { catch_up } from "../entry.ts";
import { check_spin_deadlock } from "../watchdog.ts";
import { TRACE_LOCK_TRY, trace_lock_acquire, trace_lock_acquired, trace_lock_contended, trace_lock_release } from "../trace.ts";
import { MAX_LOCKDEP_SUBCLASSES, lock_acquire, lock_release } from "./lockdep.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { BH, IRQ, IRQSAVE, PLAIN, lock_entry, unlock_exit, unlock_resume } from "./lock_entry.ts";

/**
 * SPINLOCK_MAGIC (0xdead4ead, both eras): CONFIG_DEBUG_SPINLOCK's lock->magic; a lock without it is
 * "BUG: spinlock bad magic".
 */
export const SPINLOCK_MAGIC = 0xdead4ead;

/**
 * spinlock_t: a busy-waiting lock, held with preemption off (x86's ticket lock: spinners get it in
 * the order they came). Made with spin_lock_init(name), which registers it for /proc/lock_stat; its
 * lockdep class is its name. Of its fields, magic, owner and owner_cpu are CONFIG_DEBUG_SPINLOCK's;
 * the rest are the simulator's.
 */
export class spinlock_t {
  magic = SPINLOCK_MAGIC;
  /** The context holding the lock (the simulator's view). */
  holder: ExecContext | null = null;
  /** lock->owner: `current` when it was taken (Linux's debug view; an interrupt's is the task below). */
  owner: Task | null = null;
  owner_cpu = -1;
  /** How it was taken, for held-lock listings ("spin_lock_irqsave" ...). */
  acquired_by = "";
  readonly waiters: ExecContext[] = [];
  // /proc/lock_stat
  acquisitions = 0;
  contentions = 0;
  wait_total = 0;
  wait_max = 0;
  hold_max = 0;
  hold_total = 0;
  private acquired_at = 0;
  /**
   * Virtual time of the last release. A step runs a critical section without interleaving, so
   * a CPU whose clock is behind may find the lock free although, in virtual time, it is held
   * until then: that CPU spins until this time.
   */
  free_at = 0;

  /** The name's id in the trace of the run that last traced the lock (src/kernel/trace.ts). */
  trace_ref: unknown = null;
  trace_id = -1;

  /** Where the lock word lives: a pseudo-physical address in the kernel's data, one cache line per registered lock. */
  word_address = 0x3fffffc0;

  /** The lock's locking and unlocking calls without a flags argument, as ops made once (op.ts: an op value may be yielded again). */
  ops: Effect.Effect<unknown>[] | null = null;
  raw_ops: OpBase[] | null = null;

  constructor(readonly name: string) {}

  /** Called by the lock code only. */
  _take(ctx: ExecContext, by: string, t: number): void {
    this.holder = ctx;
    this.owner = ctx.cpu.curr;
    this.owner_cpu = ctx.cpu.id;
    this.acquired_by = by;
    this.acquired_at = t;
    this.acquisitions++;
    ctx.held.push(this);
  }

  /**
   * For locks built on a spinlock (seqlock.ts): the op object of locking call `how` (PLAIN, IRQ,
   * IRQSAVE, BH), whose run() a wrapping op calls with its own activation.
   */
  _lock_op(how: number): OpBase {
    return raw_op(this, how);
  }

  /** The same for the unlocking call `how`; spin_unlock_irqrestore's with `flags` is a new op each time, as spin_unlock_irqrestore()'s is. */
  _unlock_op(how: number, flags: irqflags_t): OpBase {
    return how === IRQSAVE ? new SpinUnlockOp(this, IRQSAVE, flags) : raw_op(this, 4 + how);
  }

  _release(t: number): void {
    const h = this.holder!;
    const locks = h.held;
    const i = locks.lastIndexOf(this);
    if (i === locks.length - 1) locks.pop();
    else if (i >= 0) locks.splice(i, 1);
    const held = t - this.acquired_at;
    this.hold_total += held;
    if (held > this.hold_max) this.hold_max = held;
    this.holder = null;
    this.owner = null;
    this.owner_cpu = -1;
    this.free_at = t;
  }
}

/** spin_lock_init() / DEFINE_SPINLOCK(): registers the lock for statistics. */
export function spin_lock_init(name: string): spinlock_t {
  const l = new spinlock_t(name);
  const k = kernel();
  l.word_address = 0x40000000 + k.locks.length * 64;
  k.locks.push(l);
  return l;
}
/** DEFINE_SPINLOCK(name): the same as spin_lock_init(name). */
export const DEFINE_SPINLOCK = spin_lock_init;

function spin_bug(k: Kernel, lock: spinlock_t, msg: string): void {
  if (!k.config.debug_spinlock || !k.debug_locks) return;
  k.debug_locks = false;
  const pc = k.this_cpu();
  const cur = pc.curr;
  const owner = lock.owner;
  k.report(
    "spinlock",
    [
      `BUG: spinlock ${msg} on CPU#${pc.id}, ${cur.comm}/${cur.pid}`,
      ` lock: ${lock.name}, .magic: ${(lock.magic >>> 0).toString(16).padStart(8, "0")}, .owner: ${owner ? owner.comm : "<none>"}/${owner ? owner.pid : -1}, .owner_cpu: ${lock.owner_cpu}`,
      ...dump_stack(k.this_ctx(), ["spin_bug"]),
    ].join("\n"),
  );
}

function debug_spin_lock_before(k: Kernel, lock: spinlock_t): void {
  if (lock.magic !== SPINLOCK_MAGIC) spin_bug(k, lock, "bad magic");
  else if (lock.owner !== null && lock.owner === current()) spin_bug(k, lock, "recursion");
  else if (lock.owner_cpu === k.this_cpu().id) spin_bug(k, lock, "cpu recursion");
}

/** The lock was released at a virtual time ahead of this CPU's clock: spin until its line arrives. */
function spin_until_free(k: Kernel, lock: spinlock_t, now: number): void {
  const pc = k.this_cpu();
  const at = lock.free_at + k.costs.lineTransfer;
  const waited = at - now;
  lock.contentions++;
  trace_lock_contended(lock);
  pc.hw.clock = at;
  pc.times.spin += waited;
  lock.wait_total += waited;
  if (waited > lock.wait_max) lock.wait_max = waited;
  trace_lock_acquired(lock, waited);
}

/**
 * do_raw_spin_lock() after its interleaving point: takes the lock (true) or queues the context as
 * a spinner in ticket order (false: it parks until the lock is handed to it). `by` is the locking
 * call, `raw` the _raw_spin_* function lockdep names, `subclass` spin_lock_nested's.
 */
function raw_spin_lock_or_queue(k: Kernel, lock: spinlock_t, by: string, raw: string, subclass: number): boolean {
  const ctx = k.this_ctx();
  debug_spin_lock_before(k, lock);
  lock_acquire(k, lock, lock.name, "spin", raw, false, 0, subclass);
  trace_lock_acquire(lock, 0);
  k.charge(k.costs.atomic);
  // The lock word's cache line: a write (the ticket xadd) that bounces between contending CPUs.
  if (k.config.lock_words) k.charge(k.machine.caches.access(k.this_cpu().id, lock.word_address, 4, true));
  if (lock.holder === null) {
    const now = k.now();
    if (lock.free_at > now) spin_until_free(k, lock, now);
    lock._take(ctx, by, k.now());
    return true;
  }
  lock.contentions++;
  trace_lock_contended(lock);
  lock.waiters.push(ctx);
  ctx.spinning = lock;
  ctx.spin_since = k.now();
  ctx.spin_by = by;
  ctx.frames.push("_raw_spin_lock");
  check_spin_deadlock(k, ctx);
  return false;
}

/** do_raw_spin_unlock(): releases, handing the lock to the first spinner. */
function do_raw_spin_unlock(k: Kernel, lock: spinlock_t): void {
  const pc = k.this_cpu();
  if (lock.magic !== SPINLOCK_MAGIC) spin_bug(k, lock, "bad magic");
  else if (lock.holder === null) spin_bug(k, lock, "already unlocked");
  else if (lock.owner !== current()) spin_bug(k, lock, "wrong owner");
  else if (lock.owner_cpu !== pc.id) spin_bug(k, lock, "wrong CPU");
  if (lock.holder === null) return;
  lock_release(k, lock);
  const t = k.now();
  lock._release(t);
  trace_lock_release(lock);
  const next = lock.waiters.shift();
  if (next === undefined) return;
  // The ticket moves on: the first spinner owns the lock once the line reaches its CPU.
  const at = t + k.costs.lineTransfer;
  const waited = Math.max(0, at - next.spin_since);
  if (next.cpu.top() === next) catch_up(next.cpu, at);
  next.spinning = null;
  next.cpu.hw.changed();
  lock.wait_total += waited;
  if (waited > lock.wait_max) lock.wait_max = waited;
  lock._take(next, next.spin_by, at);
  trace_lock_acquired(lock, waited, next.cpu, at);
}

const LOCK_BY = ["spin_lock", "spin_lock_irq", "spin_lock_irqsave", "spin_lock_bh"];
/** The _raw_spin_* function each locking call reaches, as lockdep's traces name it. */
const LOCK_RAW = ["_raw_spin_lock", "_raw_spin_lock_irq", "_raw_spin_lock_irqsave", "_raw_spin_lock_bh"];

/**
 * spin_lock(), spin_lock_irq(), spin_lock_irqsave(), spin_lock_bh(), spin_lock_nested(): the
 * entry (preemption off, and interrupts or bottom halves), an interleaving point, then the lock
 * or a spin. Phases: 0 entering, 1 after the interleaving point, 2 handed the lock after spinning.
 * spin_lock_irqsave returns the saved flags (kept in act.n).
 */
class SpinLockOp extends OpClass {
  readonly by: string;
  readonly raw: string;
  constructor(
    readonly lock: spinlock_t,
    readonly how: number,
    readonly subclass = 0,
  ) {
    super();
    this.by = subclass === 0 ? LOCK_BY[how]! : `${LOCK_BY[how]}_nested`;
    this.raw = subclass === 0 ? LOCK_RAW[how]! : `${LOCK_RAW[how]}_nested`;
  }
  run(act: Activation): unknown {
    const k = kernel();
    switch (act.phase) {
      case 0:
        return lock_entry(k, this.how, act);
      case 1:
        if (!raw_spin_lock_or_queue(k, this.lock, this.by, this.raw, this.subclass)) {
          act.phase = 2;
          return PARK;
        }
        break;
      default:
        k.this_ctx().frames.pop();
    }
    return this.how === IRQSAVE ? act.n : undefined;
  }
}

/**
 * spin_unlock(), spin_unlock_irq(), spin_unlock_irqrestore(), spin_unlock_bh(): releases, then
 * leaves as the matching lock entered.
 */
class SpinUnlockOp extends OpClass {
  constructor(
    readonly lock: spinlock_t,
    readonly how: number,
    readonly flags: irqflags_t,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return unlock_resume(act);
    const k = kernel();
    do_raw_spin_unlock(k, this.lock);
    return unlock_exit(k, this.how, this.flags, act);
  }
}

/**
 * The lock's op object for locking call `how` (unlocking: 4 + how; spin_lock_nested with
 * subclass s: 8 + s), made on first use.
 */
function raw_op(lock: spinlock_t, i: number): OpBase {
  const ops = (lock.raw_ops ??= []);
  return (ops[i] ??= i < 4 ? new SpinLockOp(lock, i) : i < 8 ? new SpinUnlockOp(lock, i - 4, 0) : new SpinLockOp(lock, PLAIN, i - 8));
}

/** The same as the Effect kernel code returns (the op itself on the fast path). */
function lock_op<A>(lock: spinlock_t, i: number): Effect.Effect<A> {
  const ops = (lock.ops ??= []);
  return (ops[i] ??= op(raw_op(lock, i))) as Effect.Effect<A>;
}

/** spin_lock(): Context: any; does not sleep. */
export const spin_lock = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, PLAIN);
/**
 * spin_unlock(lock): releases the lock (the first spinner gets it), then preemption back on: a
 * preemption point. Context: the holder; never sleeps. An Effect to `yield*`: an interleaving
 * point, or the preemption when CONFIG_PREEMPT has one due. CONFIG_DEBUG_SPINLOCK reports "already
 * unlocked", "wrong owner" and "wrong CPU".
 */
export const spin_unlock = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, 4 + PLAIN);
/**
 * spin_lock_irq(lock): spin_lock() with local interrupts disabled first (not saved:
 * spin_unlock_irq() turns them on). Context: any; never sleeps. An Effect to `yield*`: interrupts
 * and preemption off, an interleaving point, then the lock or a spin until it is handed over.
 */
export const spin_lock_irq = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, IRQ);
/**
 * spin_unlock_irq(lock): releases the lock, enables local interrupts (whatever they were before
 * spin_lock_irq) and then preemption: a preemption point. Context: the holder; never sleeps. An
 * Effect to `yield*`, as spin_unlock().
 */
export const spin_unlock_irq = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, 4 + IRQ);
/** spin_lock_irqsave(): returns the saved flags for spin_unlock_irqrestore(). */
export const spin_lock_irqsave = (lock: spinlock_t): Effect.Effect<irqflags_t> => lock_op(lock, IRQSAVE);
/**
 * spin_unlock_irqrestore(lock, flags): releases the lock, restores the interrupt flag as
 * spin_lock_irqsave() saved it in `flags`, then preemption back on: a preemption point. Context:
 * the holder; never sleeps. An Effect to `yield*`: when `flags` turn interrupts on,
 * local_irq_restore's interleaving point and then preempt_enable's.
 */
export const spin_unlock_irqrestore = (lock: spinlock_t, flags: irqflags_t): Effect.Effect<void> => op(new SpinUnlockOp(lock, IRQSAVE, flags));
/**
 * spin_lock_bh(lock): spin_lock() with bottom halves disabled first (local_bh_disable): no softirq
 * or tasklet runs on this CPU while it is held. Context: process or softirq; never sleeps. An
 * Effect to `yield*`: bottom halves and preemption off, an interleaving point, then the lock or a
 * spin.
 */
export const spin_lock_bh = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, BH);
/**
 * spin_unlock_bh(lock): releases the lock, then local_bh_enable(): softirqs pending on this CPU run
 * here (unless in interrupt context), then a preemption point. Context: the holder; never sleeps.
 * An Effect to `yield*`.
 */
export const spin_unlock_bh = (lock: spinlock_t): Effect.Effect<void> => lock_op(lock, 4 + BH);

/**
 * spin_lock_nested(lock, subclass): spin_lock() that tells lockdep the lock is of subclass
 * `subclass` of its class (SINGLE_DEPTH_NESTING, 1, for a second lock of one class taken in a
 * fixed order), so that taking it while holding another lock of the class is not reported as
 * recursion. Without lockdep it is spin_lock(). Context: any; does not sleep.
 */
export function spin_lock_nested(lock: spinlock_t, subclass: number): Effect.Effect<void> {
  if (!Number.isInteger(subclass) || subclass < 0) throw new ScenarioError(`spin_lock_nested(${lock.name}, ${subclass}): the subclass must be a whole number from 0`);
  // A subclass past MAX_LOCKDEP_SUBCLASSES is lockdep's report to make: its op is not kept.
  return subclass < MAX_LOCKDEP_SUBCLASSES ? lock_op(lock, 8 + subclass) : op(new SpinLockOp(lock, PLAIN, subclass));
}

/** spin_trylock(): 1 if taken, 0 if held by someone (never spins). */
export const spin_trylock = (lock: spinlock_t): Effect.Effect<number> =>
  Effect.flatMap(sched_point(), () =>
    Effect.suspend(() => {
      const k = kernel();
      preempt_disable();
      k.charge(k.costs.atomic);
      // Held, or released later in virtual time than this CPU's clock: the attempt fails.
      if (lock.holder === null && lock.free_at <= k.now()) {
        lock._take(k.this_ctx(), "spin_trylock", k.now());
        lock_acquire(k, lock, lock.name, "spin", "_raw_spin_trylock", true);
        trace_lock_acquire(lock, TRACE_LOCK_TRY);
        return Effect.succeed(1);
      }
      return Effect.as(preempt_enable(), 0);
    }),
  );

/**
 * spin_is_locked(lock): true if some context holds the lock. Context: any; never sleeps. A plain
 * call.
 */
export const spin_is_locked = (lock: spinlock_t): boolean => lock.holder !== null;
