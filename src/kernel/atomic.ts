// include/linux/compiler.h (READ_ONCE/WRITE_ONCE), asm/atomic.h and asm/cmpxchg.h: shared memory
// as the simulator sees it. A plain access to shared data is an interleaving point (another CPU
// may touch the data between this CPU's read and its write); an atomic read-modify-write
// (atomic_*, xchg, cmpxchg) is an interleaving point, then one indivisible step. atomic_t's
// counter is a JS number: no 32-bit wrap-around. Memory ordering: the simulator is sequentially
// consistent, so every atomic is fully ordered (see barrier.ts).
import * as Effect from "effect/Effect";
import { kernel, kernel_if_running } from "./kernel.ts";
import { kmemleak_add_root } from "./mm/kmemleak.ts";
import { PointThen } from "./sched/core.ts";
import { op } from "../sim/op.ts";

/** A shared variable that several contexts read and write. */
export interface Shared<T> {
  value: T;
}

/**
 * shared(value): a shared variable holding `value`, for READ_ONCE / WRITE_ONCE, xchg / cmpxchg and
 * the RCU pointer calls (mmsim's stand-in for a global or a structure field several CPUs use).
 * Context: any, in a run or outside one; a plain call. One made in a run is a root kmemleak scans:
 * a pointer kept in it is a reference.
 */
export const shared = <T>(value: T): Shared<T> => {
  const s = { value };
  // kmemleak reads shared variables as handles (a pointer kept in one is a reference).
  const k = kernel_if_running();
  if (k !== null) kmemleak_add_root(k, s);
  return s;
};

/** READ_ONCE(x): one load, then other CPUs may run. */
class ReadOnce<T> extends PointThen {
  constructor(readonly x: Shared<T>) {
    super();
  }
  after(): unknown {
    return this.x.value;
  }
}
/**
 * READ_ONCE(x): one load of the shared variable, not torn or repeated by the compiler. Context:
 * any; never sleeps. An Effect to `yield*`: an interleaving point, then the load, so it returns the
 * value as of when the context resumes. smp_load_acquire(&x) is this too (sequential consistency
 * gives its ordering).
 */
export const READ_ONCE = <T>(x: Shared<T>): Effect.Effect<T> => op(new ReadOnce(x));

/** WRITE_ONCE(x, v): one store, then other CPUs may run. */
class WriteOnce<T> extends PointThen {
  constructor(
    readonly x: Shared<T>,
    readonly v: T,
  ) {
    super();
  }
  after(): unknown {
    this.x.value = this.v;
    return undefined;
  }
}
/**
 * WRITE_ONCE(x, v): one store of `v` into the shared variable. Context: any; never sleeps. An
 * Effect to `yield*`: an interleaving point, then the store. smp_store_release(&x, v) is this too
 * (sequential consistency gives its ordering).
 */
export const WRITE_ONCE = <T>(x: Shared<T>, v: T): Effect.Effect<void> => op(new WriteOnce(x, v));

/**
 * atomic_t: a counter changed only by the atomic_* operations (Linux's `int counter`). mmsim's
 * counter is a JS number: no 32-bit wrap-around.
 */
export interface atomic_t {
  counter: number;
}

/** ATOMIC_INIT(i): an atomic_t holding `i` (Linux's static initializer; here a new object). */
export const ATOMIC_INIT = (i: number): atomic_t => ({ counter: i });
/**
 * atomic_read(v): the counter's value. Context: any; never sleeps. A plain load, not an
 * interleaving point.
 */
export const atomic_read = (v: atomic_t): number => v.counter;
/**
 * atomic_set(v, i): sets the counter to `i`. Context: any; never sleeps. A plain store, not an
 * interleaving point.
 */
export const atomic_set = (v: atomic_t, i: number): void => {
  v.counter = i;
};

/**
 * What an atomic read-modify-write does and returns: add `a` and return the new value, nothing,
 * or whether it reached 0; exchange (store `a`, return the old value); compare and exchange
 * (store `b` if the value is `a`; return the old value either way).
 */
const NEW_VALUE = 0;
const NOTHING = 1;
const IS_ZERO = 2;
const XCHG = 3;
const CMPXCHG = 4;

/** An atomic read-modify-write: an interleaving point, then one indivisible update (a LOCK-prefixed instruction's cost). */
class Rmw extends PointThen {
  constructor(
    readonly v: atomic_t,
    readonly a: number,
    readonly kind: number,
    readonly b: number = 0,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    k.charge(k.costs.atomic);
    const v = this.v;
    const kind = this.kind;
    if (kind >= XCHG) {
      const old = v.counter;
      if (kind === XCHG || old === this.a) v.counter = kind === XCHG ? this.a : this.b;
      return old;
    }
    v.counter += this.a;
    const n = v.counter;
    return kind === NEW_VALUE ? n : kind === IS_ZERO ? n === 0 : undefined;
  }
}

/**
 * atomic_add_return(i, v): adds `i` and returns the new value. Context: any; never sleeps. An
 * Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_add_return = (i: number, v: atomic_t): Effect.Effect<number> => op(new Rmw(v, i, NEW_VALUE));
/**
 * atomic_sub_return(i, v): subtracts `i` and returns the new value. Context: any; never sleeps. An
 * Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_sub_return = (i: number, v: atomic_t): Effect.Effect<number> => op(new Rmw(v, -i, NEW_VALUE));
/**
 * atomic_inc_return(v): adds 1 and returns the new value. Context: any; never sleeps. An Effect to
 * `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_inc_return = (v: atomic_t): Effect.Effect<number> => op(new Rmw(v, 1, NEW_VALUE));
/**
 * atomic_dec_return(v): subtracts 1 and returns the new value. Context: any; never sleeps. An
 * Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_dec_return = (v: atomic_t): Effect.Effect<number> => op(new Rmw(v, -1, NEW_VALUE));
/**
 * atomic_inc(v): adds 1. Context: any; never sleeps. An Effect to `yield*`: an interleaving point,
 * then one atomic step.
 */
export const atomic_inc = (v: atomic_t): Effect.Effect<void> => op(new Rmw(v, 1, NOTHING));
/**
 * atomic_dec(v): subtracts 1. Context: any; never sleeps. An Effect to `yield*`: an interleaving
 * point, then one atomic step.
 */
export const atomic_dec = (v: atomic_t): Effect.Effect<void> => op(new Rmw(v, -1, NOTHING));
/**
 * atomic_add(i, v): adds `i`. Context: any; never sleeps. An Effect to `yield*`: an interleaving
 * point, then one atomic step.
 */
export const atomic_add = (i: number, v: atomic_t): Effect.Effect<void> => op(new Rmw(v, i, NOTHING));
/**
 * atomic_sub(i, v): subtracts `i`. Context: any; never sleeps. An Effect to `yield*`: an
 * interleaving point, then one atomic step.
 */
export const atomic_sub = (i: number, v: atomic_t): Effect.Effect<void> => op(new Rmw(v, -i, NOTHING));
/**
 * atomic_dec_and_test(v): subtracts 1; true if the result is 0 (the last reference dropped).
 * Context: any; never sleeps. An Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_dec_and_test = (v: atomic_t): Effect.Effect<boolean> => op(new Rmw(v, -1, IS_ZERO));
/**
 * atomic_inc_and_test(v): adds 1; true if the result is 0. Context: any; never sleeps. An Effect to
 * `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_inc_and_test = (v: atomic_t): Effect.Effect<boolean> => op(new Rmw(v, 1, IS_ZERO));
/**
 * atomic_sub_and_test(i, v): subtracts `i`; true if the result is 0. Context: any; never sleeps. An
 * Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_sub_and_test = (i: number, v: atomic_t): Effect.Effect<boolean> => op(new Rmw(v, -i, IS_ZERO));
/** atomic_xchg(v, new): stores `n` and returns the value it replaced, in one atomic step. */
export const atomic_xchg = (v: atomic_t, n: number): Effect.Effect<number> => op(new Rmw(v, n, XCHG));
/**
 * atomic_cmpxchg(v, old, new): if the value is `old`, stores `n`; returns the value found either
 * way (the exchange happened when it equals `old`), in one atomic step.
 */
export const atomic_cmpxchg = (v: atomic_t, old: number, n: number): Effect.Effect<number> => op(new Rmw(v, old, CMPXCHG, n));

/** xchg() / cmpxchg() on a shared variable: an interleaving point, then one indivisible exchange. */
class SharedXchg<T> extends PointThen {
  constructor(
    readonly x: Shared<T>,
    readonly old: T | undefined,
    readonly v: T,
    readonly cmp: boolean,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    k.charge(k.costs.atomic);
    const x = this.x;
    const found = x.value;
    if (!this.cmp || found === this.old) x.value = this.v;
    return found;
  }
}
/** xchg(&x, v): stores `v` into the shared variable and returns what it held, atomically. */
export const xchg = <T>(x: Shared<T>, v: T): Effect.Effect<T> => op(new SharedXchg(x, undefined, v, false));
/**
 * cmpxchg(&x, old, new): stores `n` if the variable holds `old` (compared with ===); returns what
 * it held either way, atomically.
 */
export const cmpxchg = <T>(x: Shared<T>, old: T, n: T): Effect.Effect<T> => op(new SharedXchg(x, old, n, true));

/** atomic_add_unless(v, a, u): adds `a` unless the value is `u`, in one atomic step; true if it added. */
class AddUnless extends PointThen {
  constructor(
    readonly v: atomic_t,
    readonly a: number,
    readonly u: number,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    k.charge(k.costs.atomic);
    if (this.v.counter === this.u) return false;
    this.v.counter += this.a;
    return true;
  }
}
/**
 * atomic_add_unless(v, a, u): adds `a` unless the counter is `u`; true if it added. Context: any;
 * never sleeps. An Effect to `yield*`: an interleaving point, then one atomic step.
 */
export const atomic_add_unless = (v: atomic_t, a: number, u: number): Effect.Effect<boolean> => op(new AddUnless(v, a, u));
/** atomic_inc_not_zero(v): takes a reference unless the count already fell to 0. */
export const atomic_inc_not_zero = (v: atomic_t): Effect.Effect<boolean> => atomic_add_unless(v, 1, 0);
