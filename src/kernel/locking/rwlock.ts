// include/linux/rwlock.h and rwlock_api_smp.h, kernel/locking/spinlock.c's _raw_read_lock /
// _raw_write_lock family, lib/spinlock_debug.c's rwlock checks (kernel/locking/spinlock_debug.c
// in 6.1), and the x86 lock itself: readers share the lock, a writer has it alone; a spinner
// costs virtual time until the lock is handed to it, as with spinlocks (spinlock.ts), and every
// locking call enters and leaves as the spinlock call of the same suffix (lock_entry.ts:
// preemption off while held, _irq, _irqsave/_irqrestore, _bh).
// Who waits for whom, per era:
// - 2.6.34 (x86's biased counter, readers first): a reader gets in whenever no writer holds the
//   lock, even with writers spinning (they can starve); a writer waits until nobody holds it.
//   When a writer lets go, every spinning reader gets in, or the first spinning writer if no
//   reader spins.
// - 6.1 (qrwlock): waiters queue in arrival order; a reader in process context also waits while
//   a writer is waiting (so a task taking a read lock again while a writer waits deadlocks),
//   a reader in interrupt context (in_interrupt(): hardirq, softirq, or bottom halves off) only
//   while a writer holds the lock. At a release the queue moves on from its head: readers one
//   after another, a writer once no reader holds the lock.
// lockdep: write_lock is an exclusive acquisition; read_lock a recursive read in 2.6.34
// (rwlock_acquire_read: read 2) and in 6.1 only in interrupt context, a non-recursive read (1)
// in process context (read_lock_is_recursive() with CONFIG_QUEUED_RWLOCKS).
// CONFIG_DEBUG_SPINLOCK: "BUG: rwlock bad magic", and for writers "recursion", "cpu recursion",
// "wrong owner", "wrong CPU" (the owner is recorded for writers only), each with the lock's
// address, as rwlock_bug() prints them; the first report turns debug_locks off.
// Simplified: which spinning waiter wins when several could is decided as above rather than by a
// race for the lock word; 6.1's queue is one list of spinners (no wait_lock of its own), and a
// process-context reader waits while any writer waits, not only while the queue's head has set
// _QW_WAITING; the address in rwlock_bug() is an assumed .data address (the lock's index in
// the kernel's list of locks, 64 bytes apart), printed unhashed in 6.1 too (as with
// no_hash_pointers); no read_trylock/write_trylock yet; lock statistics count a class's read and
// write acquisitions in one row.
import * as Effect from "effect/Effect";
import { OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { ScenarioError } from "../../sim/errors.ts";
import type { ExecContext, HeldLock, SpinTarget } from "../context.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { current } from "../sched/core.ts";
import type { Task } from "../sched/task.ts";
import { dump_stack } from "../dumpstack.ts";
import type { irqflags_t } from "../irqflags.ts";
import { irq_count } from "../preempt.ts";
import { catch_up } from "../entry.ts";
import { check_spin_deadlock } from "../watchdog.ts";
import { TRACE_LOCK_READ, trace_lock_acquire, trace_lock_acquired, trace_lock_contended, trace_lock_release } from "../trace.ts";
import { lock_acquire, lock_release } from "./lockdep.ts";
import { BH, IRQ, IRQSAVE, PLAIN, lock_entry, unlock_exit, unlock_resume } from "./lock_entry.ts";

export const RWLOCK_MAGIC = 0xdeaf1eed;

// A locking call: how it enters (PLAIN, IRQ, IRQSAVE, BH), plus WRITE for the write side.
const WRITE = 4;
const LOCK_BY = ["read_lock", "read_lock_irq", "read_lock_irqsave", "read_lock_bh", "write_lock", "write_lock_irq", "write_lock_irqsave", "write_lock_bh"];
/** The _raw_* function each locking call reaches, as lockdep's traces name it. */
const LOCK_RAW = LOCK_BY.map((by) => `_raw_${by}`);
/** ExecContext.spin_mode's bit for a reader spinning in interrupt context (6.1 lets it past waiting writers). */
const IRQ_READER = 8;

/** A holder's entry in its context's held locks: the lock and the call that took it. */
class rwlock_hold implements HeldLock {
  readonly name: string;
  constructor(
    readonly lock: rwlock_t,
    readonly acquired_by: string,
    readonly write: boolean,
  ) {
    this.name = lock.name;
  }
}

/**
 * rwlock_t: a busy-waiting reader-writer lock, held with preemption off: readers share it, a writer
 * has it alone. Who waits for whom follows the era (2.6.34's readers-first counter, 6.1's queued
 * qrwlock; see the module's header). Made with rwlock_init(name), which registers it for
 * /proc/lock_stat; its lockdep class is its name. Of its fields, magic, owner and owner_cpu are
 * CONFIG_DEBUG_SPINLOCK's (owner for writers only); the rest are the simulator's.
 */
export class rwlock_t implements SpinTarget {
  magic = RWLOCK_MAGIC;
  /** Contexts holding it for reading, one entry per read acquisition (a context may hold it more than once). */
  readonly readers: ExecContext[] = [];
  /** When each reader entry was taken (hold times). */
  private readonly readers_at: number[] = [];
  /** The context holding it for writing. */
  writer: ExecContext | null = null;
  /** lock->owner and lock->owner_cpu: the writer's `current` and CPU (set by writers only, as in Linux). */
  owner: Task | null = null;
  owner_cpu = -1;
  /** Spinning contexts in arrival order; each one's spin_mode is its locking call (| IRQ_READER). */
  readonly waiters: ExecContext[] = [];
  /** Writers among the waiters. */
  waiting_writers = 0;
  // /proc/lock_stat (read and write acquisitions together)
  acquisitions = 0;
  contentions = 0;
  wait_total = 0;
  wait_max = 0;
  hold_max = 0;
  hold_total = 0;
  private write_at = 0;
  /** Virtual time of the last write_unlock: a reader whose clock is behind it spins until then (as spinlock_t.free_at). */
  write_free_at = 0;
  /** The latest virtual time of any release: a writer whose clock is behind it spins until then. */
  free_at = 0;
  /** The name's id in the trace of the run that last traced the lock (src/kernel/trace.ts). */
  trace_ref: unknown = null;
  trace_id = -1;
  /** Where the lock word lives (pseudo-physical, for the cache model), and the lock's index among the kernel's locks. */
  word_address = 0x3fffffc0;
  index = 0;
  /** The locking calls (0-7) and unlocking calls without flags (8-15), as ops made once. */
  ops: Effect.Effect<unknown>[] | null = null;
  /** Each locking call's entry in a holder's held locks. */
  readonly holds: readonly rwlock_hold[];

  constructor(readonly name: string) {
    this.holds = LOCK_BY.map((by, i) => new rwlock_hold(this, by, i >= WRITE));
  }

  /**
   * The context a spinner waits for: the writer, else a reader that cannot run now (interrupted,
   * spinning itself, or off its CPU), else the latest reader.
   */
  get holder(): ExecContext | null {
    if (this.writer !== null) return this.writer;
    const r = this.readers;
    for (let i = r.length - 1; i >= 0; i--) {
      const c = r[i]!;
      if (c.spinning !== null || c.cpu.top() !== c) return c;
    }
    return r.length > 0 ? r[r.length - 1]! : null;
  }

  /** Called by the lock code only: `ctx` takes the lock with locking call `call`. */
  _take(ctx: ExecContext, call: number, t: number): void {
    this.acquisitions++;
    ctx.held.push(this.holds[call]!);
    if (call < WRITE) {
      this.readers.push(ctx);
      this.readers_at.push(t);
      return;
    }
    this.writer = ctx;
    this.owner = ctx.cpu.curr;
    this.owner_cpu = ctx.cpu.id;
    this.write_at = t;
  }

  /** Called by the lock code only: reader entry `i` lets go at `t`. */
  _release_read(i: number, t: number): void {
    const ctx = this.readers[i]!;
    this.hold(t - this.readers_at[i]!);
    remove_at(this.readers, i);
    remove_at(this.readers_at, i);
    drop_hold(ctx, this, false);
    if (t > this.free_at) this.free_at = t;
  }

  /** Called by the lock code only: the writer lets go at `t`. */
  _release_write(t: number): void {
    drop_hold(this.writer!, this, true);
    this.hold(t - this.write_at);
    this.writer = null;
    this.owner = null;
    this.owner_cpu = -1;
    this.write_free_at = t;
    if (t > this.free_at) this.free_at = t;
  }

  private hold(ns: number): void {
    this.hold_total += ns;
    if (ns > this.hold_max) this.hold_max = ns;
  }
}

/** Removes element `i` (pop when it is the last: no array made, as splice would). */
function remove_at<T>(a: T[], i: number): void {
  if (i === a.length - 1) a.pop();
  else a.splice(i, 1);
}

/** Takes the context's latest hold of `lock` (of that side) off its held locks. */
function drop_hold(ctx: ExecContext, lock: rwlock_t, write: boolean): void {
  const held = ctx.held;
  for (let i = held.length - 1; i >= 0; i--) {
    const h = held[i];
    if (h instanceof rwlock_hold && h.lock === lock && h.write === write) return remove_at(held, i);
  }
}

/** rwlock_init() / DEFINE_RWLOCK(): registers the lock for statistics. */
export function rwlock_init(name: string): rwlock_t {
  const l = new rwlock_t(name);
  const k = kernel();
  l.index = k.locks.length;
  l.word_address = 0x40000000 + k.locks.length * 64;
  k.locks.push(l);
  return l;
}
/** DEFINE_RWLOCK(name): the same as rwlock_init(name). */
export const DEFINE_RWLOCK = rwlock_init;

/** %p of the lock: an assumed .data address, the lock's index apart (lockdep's base). */
function lock_address(k: Kernel, lock: rwlock_t): string {
  const i386 = k.mm?.arch === "i386";
  const v = (i386 ? 0xc1800000n : 0xffffffff82800000n) + BigInt(lock.index * 64);
  return v.toString(16).padStart(i386 ? 8 : 16, "0");
}

/** rwlock_bug(): "BUG: rwlock MSG on CPU#N, comm/pid, ADDRESS" and a backtrace, once (debug_locks_off). */
function rwlock_bug(k: Kernel, lock: rwlock_t, msg: string): void {
  if (!k.config.debug_spinlock || !k.debug_locks) return;
  k.debug_locks = false;
  const pc = k.this_cpu();
  const cur = pc.curr;
  k.report("spinlock", [`BUG: rwlock ${msg} on CPU#${pc.id}, ${cur.comm}/${cur.pid}, ${lock_address(k, lock)}`, ...dump_stack(k.this_ctx(), ["rwlock_bug"])].join("\n"));
}

/** do_raw_read_lock()'s and do_raw_write_lock()'s checks before the lock. */
function debug_lock_before(k: Kernel, lock: rwlock_t, write: boolean): void {
  if (lock.magic !== RWLOCK_MAGIC) rwlock_bug(k, lock, "bad magic");
  else if (!write) return;
  else if (lock.owner !== null && lock.owner === current()) rwlock_bug(k, lock, "recursion");
  else if (lock.owner_cpu === k.this_cpu().id) rwlock_bug(k, lock, "cpu recursion");
}

/** Whether the lock can be taken now with this call (the era's rule, see the header). */
function can_take(k: Kernel, lock: rwlock_t, read: boolean, irq_reader: boolean): boolean {
  if (lock.writer !== null) return false;
  if (!read) return lock.readers.length === 0;
  return irq_reader || k.config.era === "2.6" || lock.waiting_writers === 0;
}

/** The lock was released at a virtual time ahead of this CPU's clock: spin until its line arrives. */
function spin_until(k: Kernel, lock: rwlock_t, free: number, now: number): void {
  const pc = k.this_cpu();
  const at = free + k.costs.lineTransfer;
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
 * do_raw_read_lock() / do_raw_write_lock() after the call's interleaving point: takes the lock
 * (true) or queues the context as a spinner (false: it parks until the lock is handed to it).
 */
function rw_lock_or_queue(k: Kernel, lock: rwlock_t, call: number): boolean {
  const ctx = k.this_ctx();
  const read = call < WRITE;
  debug_lock_before(k, lock, !read);
  const irq_reader = read && irq_count(k.this_cpu().preempt_count) !== 0;
  lock_acquire(k, lock, lock.name, "rwlock", LOCK_RAW[call]!, false, read ? (k.config.era === "2.6" || irq_reader ? 2 : 1) : 0);
  trace_lock_acquire(lock, read ? TRACE_LOCK_READ : 0);
  k.charge(k.costs.atomic);
  if (k.config.lock_words) k.charge(k.machine.caches.access(k.this_cpu().id, lock.word_address, 4, true));
  if (can_take(k, lock, read, irq_reader)) {
    const now = k.now();
    const free = read ? lock.write_free_at : lock.free_at;
    if (free > now) spin_until(k, lock, free, now);
    lock._take(ctx, call, k.now());
    return true;
  }
  lock.contentions++;
  trace_lock_contended(lock);
  lock.waiters.push(ctx);
  if (!read) lock.waiting_writers++;
  ctx.spinning = lock;
  ctx.spin_since = k.now();
  ctx.spin_by = LOCK_BY[call]!;
  ctx.spin_mode = call | (irq_reader ? IRQ_READER : 0);
  ctx.frames.push(LOCK_RAW[call]!);
  check_spin_deadlock(k, ctx);
  return false;
}

/** A spinner gets the lock released at `t`, once the line reaches its CPU. */
function hand(k: Kernel, lock: rwlock_t, c: ExecContext, t: number): void {
  const at = t + k.costs.lineTransfer;
  const waited = Math.max(0, at - c.spin_since);
  if (c.cpu.top() === c) catch_up(c.cpu, at);
  c.spinning = null;
  c.cpu.hw.changed();
  lock.wait_total += waited;
  if (waited > lock.wait_max) lock.wait_max = waited;
  const call = c.spin_mode & ~IRQ_READER;
  if (call >= WRITE) lock.waiting_writers--;
  lock._take(c, call, at);
  trace_lock_acquired(lock, waited);
}

/** After a release at `t`: the spinners that may go in now get the lock (the era's order, see the header). */
function rw_grant(k: Kernel, lock: rwlock_t, t: number): void {
  const w = lock.waiters;
  if (w.length === 0) return;
  if (k.config.era === "2.6") {
    // Readers first, all of them; a writer only when no reader holds or spins.
    if (lock.writer !== null) return;
    for (let i = 0; i < w.length; ) {
      const c = w[i]!;
      if ((c.spin_mode & ~IRQ_READER) >= WRITE) {
        i++;
        continue;
      }
      remove_at(w, i);
      hand(k, lock, c, t);
    }
    if (lock.readers.length === 0 && w.length > 0) hand(k, lock, w.shift()!, t);
    return;
  }
  // qrwlock: from the head of the queue; a waiting writer holds back the process-context readers behind it.
  let blocked = false;
  for (let i = 0; i < w.length; ) {
    const c = w[i]!;
    const mode = c.spin_mode;
    const read = (mode & ~IRQ_READER) < WRITE;
    const go = lock.writer === null && (read ? (mode & IRQ_READER) !== 0 || !blocked : !blocked && lock.readers.length === 0);
    if (go) {
      remove_at(w, i);
      hand(k, lock, c, t);
      continue;
    }
    if (!read) blocked = true;
    i++;
  }
}

/** do_raw_read_unlock(): one reader lets go (this context's entry; any one if it holds none: the count does not know who took it). */
function read_release(k: Kernel, lock: rwlock_t): void {
  if (lock.magic !== RWLOCK_MAGIC) rwlock_bug(k, lock, "bad magic");
  const r = lock.readers;
  let i = r.lastIndexOf(k.this_ctx());
  if (i < 0) i = r.length - 1;
  if (i < 0) throw new ScenarioError(`read_unlock(${lock.name}): the lock is not held for reading`);
  const t = k.now();
  lock_release(k, lock);
  lock._release_read(i, t);
  trace_lock_release(lock);
  rw_grant(k, lock, t);
  // A writer still waits for the other readers: the one it waits for now may be stuck.
  if (lock.waiting_writers > 0 && lock.writer === null) check_spin_deadlock(k, lock.waiters[0]!);
}

/** do_raw_write_unlock(): debug_write_unlock()'s checks, then the writer lets go. */
function write_release(k: Kernel, lock: rwlock_t): void {
  if (lock.magic !== RWLOCK_MAGIC) rwlock_bug(k, lock, "bad magic");
  else if (lock.owner !== current()) rwlock_bug(k, lock, "wrong owner");
  else if (lock.owner_cpu !== k.this_cpu().id) rwlock_bug(k, lock, "wrong CPU");
  if (lock.writer === null) return;
  const t = k.now();
  lock_release(k, lock);
  lock._release_write(t);
  trace_lock_release(lock);
  rw_grant(k, lock, t);
}

/**
 * read_lock(), write_lock() and their _irq, _irqsave, _bh variants: the entry (lock_entry.ts),
 * an interleaving point, then the lock or a spin. Phases: 0 entering, 1 after the interleaving
 * point, 2 handed the lock after spinning. The _irqsave calls return the saved flags.
 */
class RwLockOp extends OpClass {
  constructor(
    readonly lock: rwlock_t,
    readonly call: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    switch (act.phase) {
      case 0:
        return lock_entry(k, this.call & 3, act);
      case 1:
        if (!rw_lock_or_queue(k, this.lock, this.call)) {
          act.phase = 2;
          return PARK;
        }
        break;
      default:
        k.this_ctx().frames.pop();
    }
    return (this.call & 3) === IRQSAVE ? act.n : undefined;
  }
}

/** read_unlock(), write_unlock() and their variants: releases, then leaves as the matching lock entered. */
class RwUnlockOp extends OpClass {
  constructor(
    readonly lock: rwlock_t,
    readonly call: number,
    readonly flags: irqflags_t,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return unlock_resume(act);
    const k = kernel();
    if (this.call < WRITE) read_release(k, this.lock);
    else write_release(k, this.lock);
    return unlock_exit(k, this.call & 3, this.flags, act);
  }
}

/** The lock's op for locking call `i` (0-7; unlocking: 8 + call), made on first use. */
function rw_op<A>(lock: rwlock_t, i: number): Effect.Effect<A> {
  const ops = (lock.ops ??= []);
  return (ops[i] ??= op(i < 8 ? new RwLockOp(lock, i) : new RwUnlockOp(lock, i - 8, 0))) as Effect.Effect<A>;
}

/** read_lock(): shares the lock with other readers. Context: any; does not sleep. */
export const read_lock = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, PLAIN);
/**
 * read_unlock(lock): this context's read hold let go (the latest reader's if it holds none: the
 * count does not know who took it; none at all is a ScenarioError), waiting spinners let in as the
 * era's rule allows, then preemption back on: a preemption point. Context: a reader; never sleeps.
 * An Effect to `yield*`: an interleaving point, or the preemption when CONFIG_PREEMPT has one due.
 */
export const read_unlock = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + PLAIN);
/**
 * read_lock_irq(lock): read_lock() with local interrupts disabled first (not saved:
 * read_unlock_irq() turns them on). Context: any; never sleeps. An Effect to `yield*`: interrupts
 * and preemption off, an interleaving point, then the lock or a spin until it is handed over.
 */
export const read_lock_irq = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, IRQ);
/**
 * read_unlock_irq(lock): read_unlock()'s release, then local interrupts on (whatever they were
 * before read_lock_irq) and preemption: a preemption point. Context: a reader; never sleeps. An
 * Effect to `yield*`.
 */
export const read_unlock_irq = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + IRQ);
/** read_lock_irqsave(): returns the saved flags for read_unlock_irqrestore(). */
export const read_lock_irqsave = (lock: rwlock_t): Effect.Effect<irqflags_t> => rw_op(lock, IRQSAVE);
/**
 * read_unlock_irqrestore(lock, flags): read_unlock()'s release, then the interrupt flag as
 * read_lock_irqsave() saved it in `flags`, and preemption back on: a preemption point. Context: a
 * reader; never sleeps. An Effect to `yield*`: when `flags` turn interrupts on, local_irq_restore's
 * interleaving point and then preempt_enable's.
 */
export const read_unlock_irqrestore = (lock: rwlock_t, flags: irqflags_t): Effect.Effect<void> => op(new RwUnlockOp(lock, IRQSAVE, flags));
/**
 * read_lock_bh(lock): read_lock() with bottom halves disabled first (local_bh_disable): no softirq
 * or tasklet runs on this CPU while it is held. Context: process or softirq; never sleeps. An
 * Effect to `yield*`: bottom halves and preemption off, an interleaving point, then the lock or a
 * spin.
 */
export const read_lock_bh = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, BH);
/**
 * read_unlock_bh(lock): read_unlock()'s release, then local_bh_enable(): softirqs pending on this
 * CPU run here (unless in interrupt context), then a preemption point. Context: a reader; never
 * sleeps. An Effect to `yield*`.
 */
export const read_unlock_bh = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + BH);

/** write_lock(): has the lock alone. Context: any; does not sleep. */
export const write_lock = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, WRITE + PLAIN);
/**
 * write_unlock(lock): the writer lets go, waiting spinners let in as the era's rule allows, then
 * preemption back on: a preemption point. Context: the writer; never sleeps. An Effect to `yield*`:
 * an interleaving point, or the preemption when CONFIG_PREEMPT has one due. CONFIG_DEBUG_SPINLOCK
 * reports "wrong owner" and "wrong CPU".
 */
export const write_unlock = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + WRITE + PLAIN);
/**
 * write_lock_irq(lock): write_lock() with local interrupts disabled first (not saved:
 * write_unlock_irq() turns them on). Context: any; never sleeps. An Effect to `yield*`: interrupts
 * and preemption off, an interleaving point, then the lock or a spin until it is handed over.
 */
export const write_lock_irq = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, WRITE + IRQ);
/**
 * write_unlock_irq(lock): write_unlock()'s release, then local interrupts on (whatever they were
 * before write_lock_irq) and preemption: a preemption point. Context: the writer; never sleeps. An
 * Effect to `yield*`.
 */
export const write_unlock_irq = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + WRITE + IRQ);
/** write_lock_irqsave(): returns the saved flags for write_unlock_irqrestore(). */
export const write_lock_irqsave = (lock: rwlock_t): Effect.Effect<irqflags_t> => rw_op(lock, WRITE + IRQSAVE);
/**
 * write_unlock_irqrestore(lock, flags): write_unlock()'s release, then the interrupt flag as
 * write_lock_irqsave() saved it in `flags`, and preemption back on: a preemption point. Context:
 * the writer; never sleeps. An Effect to `yield*`: when `flags` turn interrupts on,
 * local_irq_restore's interleaving point and then preempt_enable's.
 */
export const write_unlock_irqrestore = (lock: rwlock_t, flags: irqflags_t): Effect.Effect<void> => op(new RwUnlockOp(lock, WRITE + IRQSAVE, flags));
/**
 * write_lock_bh(lock): write_lock() with bottom halves disabled first (local_bh_disable): no
 * softirq or tasklet runs on this CPU while it is held. Context: process or softirq; never sleeps.
 * An Effect to `yield*`: bottom halves and preemption off, an interleaving point, then the lock or
 * a spin.
 */
export const write_lock_bh = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, WRITE + BH);
/**
 * write_unlock_bh(lock): write_unlock()'s release, then local_bh_enable(): softirqs pending on this
 * CPU run here (unless in interrupt context), then a preemption point. Context: the writer; never
 * sleeps. An Effect to `yield*`.
 */
export const write_unlock_bh = (lock: rwlock_t): Effect.Effect<void> => rw_op(lock, 8 + WRITE + BH);
