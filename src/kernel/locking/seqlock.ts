// include/linux/seqlock.h: sequence counters (seqcount_t) and sequential locks (seqlock_t, a
// seqcount whose writers are serialized by a spinlock). A writer makes the count odd while it
// updates the data and even again after; a reader takes the count in read_*begin(), spinning
// while it is odd, and asks read_*retry() at the end whether it changed, which means a writer
// came in between and what it read may be torn. read_*begin() and read_*retry() are
// interleaving points (a writer on another CPU can run between them); write_seqcount_begin()
// and write_seqcount_end() are plain stores, not interleaving points, as in Linux (the writer's
// own lock or preempt_disable() serializes writers). A reader spinning on an odd count waits
// for the writer inside its section (the lockup finder follows it there: a reader in an
// interrupt handler spinning over the writer it interrupted never gets out), and a reader whose
// clock is behind the end of a write that already ran spins until then, as a spinner does for a
// lock released ahead of it in virtual time.
// lockdep (kernel 6: seqcount_t has a dep_map since 3.13; 2.6.34 has none): the writer's
// section is an exclusive acquisition of the seqcount (write_seqcount_begin's seqcount_acquire),
// a reader's begin a recursive read acquired and released at once with interrupts off
// (seqcount_lockdep_reader_access), so a reader in interrupt context of a seqcount whose
// writer runs with interrupts on is "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-R} usage.".
// seqlock_t's spinlock is an ordinary spinlock_t of the seqlock's name, its seqcount's class is
// "NAME.seqcount" (6.1's DEFINE_SEQLOCK names it so).
// Simplified: no seqcount_LOCKNAME_t (seqcount_spinlock_t ...) association checks, no
// lockdep_assert_preemption_disabled() in write_seqcount_begin (6.1 warns when a plain
// seqcount_t is written with preemption on), no raw_/_nested/_latch variants, no
// read_seqbegin_or_lock or locking readers (read_seqlock_excl); read_*retry() compares the
// count in the order the steps ran, so a write that ran earlier but began later in virtual
// time than the reader's retry still counts (a retry that was not needed, never one missed).
import type * as Effect from "effect/Effect";
import { OpClass, PARK, op, type Activation, type OpBase } from "../../sim/op.ts";
import type { ExecContext, SpinTarget } from "../context.ts";
import { kernel, type Kernel } from "../kernel.ts";
import type { irqflags_t } from "../irqflags.ts";
import { catch_up } from "../entry.ts";
import { check_spin_deadlock } from "../watchdog.ts";
import { lock_acquire, lock_release } from "./lockdep.ts";
import { spin_lock_init, type spinlock_t } from "./spinlock.ts";
import { BH, IRQ, IRQSAVE, PLAIN } from "./lock_entry.ts";

/**
 * seqcount_t: a sequence counter, odd while a writer is inside its write section; readers retry
 * when it moved (read_seqcount_begin / read_seqcount_retry). Writers serialize themselves. Made
 * with seqcount_init(name); `name` is its lockdep class on a 6.1 kernel (2.6.34's seqcount_t has no
 * lockdep map). Fields other than `sequence` are the simulator's.
 */
export class seqcount_t implements SpinTarget {
  sequence = 0;
  /** The context inside the write section (between begin and end): what a spinning reader waits for. */
  writer: ExecContext | null = null;
  /** Virtual times of the last write_seqcount_begin() and write_seqcount_end(). */
  begin_at = 0;
  end_at = 0;
  /** Readers spinning in read_*begin() while the count is odd. */
  readonly waiters: ExecContext[] = [];
  /** read_seqcount_begin's and read_seqbegin's ops, made on first use. */
  begin_ops: Effect.Effect<number>[] | null = null;
  /** The kernel of the run that last used it (one made outside a run starts each run at 0). */
  owner: unknown = null;
  /** The latest read_*retry() op, for `retry_start` (made again only when the start changes). */
  retry_op: Effect.Effect<number> | null = null;
  retry_start = -1;

  constructor(readonly name: string) {}

  get holder(): ExecContext | null {
    return this.writer;
  }
}

/** seqcount_init() / SEQCNT_ZERO: a sequence counter at 0; `name` is its lockdep class. */
export const seqcount_init = (name: string): seqcount_t => new seqcount_t(name);

const lockdep_seqcount = (k: Kernel): boolean => k.config.era === "6";

/** The counter as the running kernel's: back at 0 with no writer or spinner when another run used it last. */
function own(k: Kernel, s: seqcount_t): seqcount_t {
  if (s.owner !== k) {
    s.owner = k;
    s.sequence = 0;
    s.writer = null;
    s.begin_at = 0;
    s.end_at = 0;
    while (s.waiters.length > 0) s.waiters.pop();
  }
  return s;
}

/**
 * write_seqcount_begin(): the count goes odd; the current context is inside the write section.
 * Context: the caller serializes writers (a lock, or preemption and interrupts off as needed).
 */
export function write_seqcount_begin(s: seqcount_t): void {
  const k = kernel();
  own(k, s);
  if (lockdep_seqcount(k)) lock_acquire(k, s, s.name, "seqcount", "");
  s.sequence++;
  s.writer = k.this_ctx();
  s.begin_at = k.now();
}

/** write_seqcount_end(): the count goes even; readers spinning on it go on once the line reaches them. */
export function write_seqcount_end(s: seqcount_t): void {
  const k = kernel();
  if (lockdep_seqcount(k)) lock_release(k, s);
  s.sequence++;
  s.writer = null;
  const t = k.now();
  s.end_at = t;
  const w = s.waiters;
  if (w.length === 0) return;
  const at = t + k.costs.lineTransfer;
  while (w.length > 0) {
    const c = w.pop()!;
    if (c.cpu.top() === c) catch_up(c.cpu, at);
    c.spinning = null;
    c.cpu.hw.changed();
  }
}

/** seqcount_lockdep_reader_access(): a recursive read of the class, with interrupts off (local_irq_save), released at once. */
function reader_access(k: Kernel, s: seqcount_t): void {
  if (!lockdep_seqcount(k)) return;
  lock_acquire(k, s, s.name, "seqcount", "", false, 2, 0, true);
  lock_release(k, s);
}

/**
 * read_seqcount_begin() / read_seqbegin(): an interleaving point, then the count once it is
 * even. Phases: 0 entering, 1 after the interleaving point, 2 back from spinning on an odd
 * count (the writer ended its section).
 */
class ReadSeqBeginOp extends OpClass {
  constructor(
    readonly s: seqcount_t,
    readonly by: string,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    if (act.phase === 0) {
      k.charge(k.costs.step);
      act.phase = 1;
      return PARK;
    }
    if (act.phase === 1) reader_access(k, own(k, this.s));
    const s = this.s;
    const now = k.now();
    if ((s.sequence & 1) !== 0) {
      // A writer is inside its section: spin (cpu_relax) until it ends.
      const ctx = k.this_ctx();
      s.waiters.push(ctx);
      ctx.spinning = s;
      ctx.spin_since = now;
      ctx.spin_by = this.by;
      act.phase = 2;
      check_spin_deadlock(k, ctx);
      return PARK;
    }
    // The last write ran ahead in virtual time: the count was odd until then.
    if (now >= s.begin_at && now < s.end_at) {
      const pc = k.this_cpu();
      const at = s.end_at + k.costs.lineTransfer;
      pc.times.spin += at - now;
      pc.hw.clock = at;
    }
    return s.sequence;
  }
}

function begin_op(s: seqcount_t, i: number, by: string): Effect.Effect<number> {
  const ops = (s.begin_ops ??= []);
  return (ops[i] ??= op(new ReadSeqBeginOp(s, by)));
}

/** read_seqcount_retry() / read_seqretry(): an interleaving point, then 1 if the count moved since `start`. */
class ReadSeqRetryOp extends OpClass {
  constructor(
    readonly s: seqcount_t,
    readonly start: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase === 0) {
      const k = kernel();
      k.charge(k.costs.step);
      act.phase = 1;
      return PARK;
    }
    return this.s.sequence !== this.start ? 1 : 0;
  }
}

function retry_op(s: seqcount_t, start: number): Effect.Effect<number> {
  if (s.retry_op === null || s.retry_start !== start) {
    s.retry_op = op(new ReadSeqRetryOp(s, start));
    s.retry_start = start;
  }
  return s.retry_op;
}

/** read_seqcount_begin(): the count to give read_seqcount_retry(), waiting while a writer is in. Context: any. */
export const read_seqcount_begin = (s: seqcount_t): Effect.Effect<number> => begin_op(s, 0, "read_seqcount_begin");
/** read_seqcount_retry(): 1 when a writer came in since `start` (read again), 0 when what was read is consistent. */
export const read_seqcount_retry = (s: seqcount_t, start: number): Effect.Effect<number> => retry_op(s, start);

// ---------------------------------------------------------------- seqlock_t

/**
 * seqlock_t: a seqcount whose writers are serialized by a spinlock (write_seqlock); readers do not
 * take the lock (read_seqbegin / read_seqretry). Made with seqlock_init(name): the spinlock is an
 * ordinary spinlock_t named `name`, the seqcount's lockdep class (6.1) "NAME.seqcount". 2.6.34's
 * seqlock_t holds the count itself, 6.1's a seqcount_spinlock_t; mmsim's is one shape for both.
 */
export class seqlock_t {
  readonly seqcount: seqcount_t;
  /** The lock of the locking calls without flags (0-3) and of their unlocking calls (4-7), made on first use. */
  ops: Effect.Effect<unknown>[] | null = null;
  constructor(
    readonly name: string,
    readonly lock: spinlock_t,
  ) {
    this.seqcount = new seqcount_t(`${name}.seqcount`);
  }
}

/** seqlock_init() / DEFINE_SEQLOCK(): its spinlock is registered for statistics as spin_lock_init() does. */
export const seqlock_init = (name: string): seqlock_t => new seqlock_t(name, spin_lock_init(name));
/** DEFINE_SEQLOCK(name): the same as seqlock_init(name). */
export const DEFINE_SEQLOCK = seqlock_init;

/** write_seqlock() and its variants: the spinlock call (its op run with this op's activation), then write_seqcount_begin(). */
class WriteSeqlockOp extends OpClass {
  constructor(
    readonly sl: seqlock_t,
    readonly inner: OpBase,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const r = this.inner.run(act);
    if (r !== PARK) write_seqcount_begin(this.sl.seqcount);
    return r;
  }
}

/** write_sequnlock() and its variants: write_seqcount_end(), then the spinlock's unlocking call. */
class WriteSequnlockOp extends OpClass {
  constructor(
    readonly sl: seqlock_t,
    readonly inner: OpBase,
  ) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase === 0) write_seqcount_end(this.sl.seqcount);
    return this.inner.run(act);
  }
}

function seq_op<A>(sl: seqlock_t, i: number): Effect.Effect<A> {
  const ops = (sl.ops ??= []);
  return (ops[i] ??= op(i < 4 ? new WriteSeqlockOp(sl, sl.lock._lock_op(i)) : new WriteSequnlockOp(sl, sl.lock._unlock_op(i - 4, 0)))) as Effect.Effect<A>;
}

/** write_seqlock(): spin_lock() on the seqlock's lock, then the count goes odd. Context: any; does not sleep. */
export const write_seqlock = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, PLAIN);
/**
 * write_sequnlock(sl): the count goes even (readers spinning on it go on), then spin_unlock() of
 * the seqlock's lock. Context: the writer; never sleeps. An Effect to `yield*`, as spin_unlock().
 */
export const write_sequnlock = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, 4 + PLAIN);
/**
 * write_seqlock_irq(sl): spin_lock_irq() on the seqlock's lock, then the count goes odd. Context:
 * any; never sleeps. An Effect to `yield*`, as spin_lock_irq().
 */
export const write_seqlock_irq = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, IRQ);
/**
 * write_sequnlock_irq(sl): the count goes even, then spin_unlock_irq() of the seqlock's lock
 * (interrupts on). Context: the writer; never sleeps. An Effect to `yield*`, as spin_unlock_irq().
 */
export const write_sequnlock_irq = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, 4 + IRQ);
/** write_seqlock_irqsave(): returns the saved flags for write_sequnlock_irqrestore(). */
export const write_seqlock_irqsave = (sl: seqlock_t): Effect.Effect<irqflags_t> => seq_op(sl, IRQSAVE);
/**
 * write_sequnlock_irqrestore(sl, flags): the count goes even, then spin_unlock_irqrestore() of the
 * seqlock's lock with write_seqlock_irqsave()'s `flags`. Context: the writer; never sleeps. An
 * Effect to `yield*`, as spin_unlock_irqrestore().
 */
export const write_sequnlock_irqrestore = (sl: seqlock_t, flags: irqflags_t): Effect.Effect<void> => op(new WriteSequnlockOp(sl, sl.lock._unlock_op(IRQSAVE, flags)));
/**
 * write_seqlock_bh(sl): spin_lock_bh() on the seqlock's lock, then the count goes odd. Context:
 * process or softirq; never sleeps. An Effect to `yield*`, as spin_lock_bh().
 */
export const write_seqlock_bh = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, BH);
/**
 * write_sequnlock_bh(sl): the count goes even, then spin_unlock_bh() of the seqlock's lock (pending
 * softirqs may run there). Context: the writer; never sleeps. An Effect to `yield*`, as
 * spin_unlock_bh().
 */
export const write_sequnlock_bh = (sl: seqlock_t): Effect.Effect<void> => seq_op(sl, 4 + BH);

/** read_seqbegin(): the count to give read_seqretry(), spinning while a writer is in. Context: any. */
export const read_seqbegin = (sl: seqlock_t): Effect.Effect<number> => begin_op(sl.seqcount, 1, "read_seqbegin");
/** read_seqretry(): 1 when a writer came in since `start` (read again), 0 when what was read is consistent. */
export const read_seqretry = (sl: seqlock_t, start: number): Effect.Effect<number> => retry_op(sl.seqcount, start);
