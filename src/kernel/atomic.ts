// include/linux/compiler.h (READ_ONCE/WRITE_ONCE) and asm/atomic.h: shared memory as the
// simulator sees it. A plain access to shared data is an interleaving point (another CPU may
// touch the data between this CPU's read and its write); an atomic read-modify-write is one
// indivisible step.
import * as Effect from "effect/Effect";
import { kernel, kernel_if_running } from "./kernel.ts";
import { kmemleak_add_root } from "./mm/kmemleak.ts";
import { PointThen } from "./sched/core.ts";
import { op } from "../sim/op.ts";

/** A shared variable that several contexts read and write. */
export interface Shared<T> {
  value: T;
}

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
export const WRITE_ONCE = <T>(x: Shared<T>, v: T): Effect.Effect<void> => op(new WriteOnce(x, v));

export interface atomic_t {
  counter: number;
}

export const ATOMIC_INIT = (i: number): atomic_t => ({ counter: i });
export const atomic_read = (v: atomic_t): number => v.counter;
export const atomic_set = (v: atomic_t, i: number): void => {
  v.counter = i;
};

/** What an atomic read-modify-write returns: the new value, nothing, or whether it reached 0. */
const NEW_VALUE = 0;
const NOTHING = 1;
const IS_ZERO = 2;

/** An atomic read-modify-write: an interleaving point, then one indivisible update. */
class Rmw extends PointThen {
  constructor(
    readonly v: atomic_t,
    readonly delta: number,
    readonly returns: number,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    k.charge(k.costs.atomic);
    this.v.counter += this.delta;
    const n = this.v.counter;
    return this.returns === NEW_VALUE ? n : this.returns === IS_ZERO ? n === 0 : undefined;
  }
}

export const atomic_add_return = (i: number, v: atomic_t): Effect.Effect<number> => op(new Rmw(v, i, NEW_VALUE));
export const atomic_inc = (v: atomic_t): Effect.Effect<void> => op(new Rmw(v, 1, NOTHING));
export const atomic_dec = (v: atomic_t): Effect.Effect<void> => op(new Rmw(v, -1, NOTHING));
export const atomic_add = (i: number, v: atomic_t): Effect.Effect<void> => op(new Rmw(v, i, NOTHING));
export const atomic_dec_and_test = (v: atomic_t): Effect.Effect<boolean> => op(new Rmw(v, -1, IS_ZERO));

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
export const atomic_add_unless = (v: atomic_t, a: number, u: number): Effect.Effect<boolean> => op(new AddUnless(v, a, u));
/** atomic_inc_not_zero(v): takes a reference unless the count already fell to 0. */
export const atomic_inc_not_zero = (v: atomic_t): Effect.Effect<boolean> => atomic_add_unless(v, 1, 0);
