// include/linux/compiler.h (READ_ONCE/WRITE_ONCE) and asm/atomic.h: shared memory as the
// simulator sees it. A plain access to shared data is an interleaving point (another CPU may
// touch the data between this CPU's read and its write); an atomic read-modify-write is one
// indivisible step.
import * as Effect from "effect/Effect";
import { kernel, kernel_if_running } from "./kernel.ts";
import { kmemleak_add_root } from "./mm/kmemleak.ts";
import { sched_point } from "./sched/core.ts";

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
export const READ_ONCE = <T>(x: Shared<T>): Effect.Effect<T> => Effect.map(sched_point(), () => x.value);

/** WRITE_ONCE(x, v): one store, then other CPUs may run. */
export const WRITE_ONCE = <T>(x: Shared<T>, v: T): Effect.Effect<void> =>
  Effect.map(sched_point(), () => {
    x.value = v;
  });

export interface atomic_t {
  counter: number;
}

export const ATOMIC_INIT = (i: number): atomic_t => ({ counter: i });
export const atomic_read = (v: atomic_t): number => v.counter;
export const atomic_set = (v: atomic_t, i: number): void => {
  v.counter = i;
};

function rmw(v: atomic_t, delta: number): Effect.Effect<number> {
  return Effect.map(sched_point(), () => {
    const k = kernel();
    k.charge(k.costs.atomic);
    v.counter += delta;
    return v.counter;
  });
}

export const atomic_add_return = (i: number, v: atomic_t): Effect.Effect<number> => rmw(v, i);
export const atomic_inc = (v: atomic_t): Effect.Effect<void> => Effect.asVoid(rmw(v, 1));
export const atomic_dec = (v: atomic_t): Effect.Effect<void> => Effect.asVoid(rmw(v, -1));
export const atomic_add = (i: number, v: atomic_t): Effect.Effect<void> => Effect.asVoid(rmw(v, i));
export const atomic_dec_and_test = (v: atomic_t): Effect.Effect<boolean> => Effect.map(rmw(v, -1), (n) => n === 0);

/** atomic_add_unless(v, a, u): adds `a` unless the value is `u`, in one atomic step; true if it added. */
export const atomic_add_unless = (v: atomic_t, a: number, u: number): Effect.Effect<boolean> =>
  Effect.map(sched_point(), () => {
    const k = kernel();
    k.charge(k.costs.atomic);
    if (v.counter === u) return false;
    v.counter += a;
    return true;
  });
/** atomic_inc_not_zero(v): takes a reference unless the count already fell to 0. */
export const atomic_inc_not_zero = (v: atomic_t): Effect.Effect<boolean> => atomic_add_unless(v, 1, 0);
