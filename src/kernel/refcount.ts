// refcount_t (include/linux/refcount.h and lib/refcount.c of 6.1): a reference count that
// saturates instead of wrapping. An increment from 0 ("addition on 0; use-after-free"), a
// decrement below 0 ("underflow; use-after-free"), refcount_dec() to 0 ("decrement hit 0;
// leaking memory") or an overflow ("saturated; leaking memory") sets the count to
// REFCOUNT_SATURATED and warns once per kind (WARN_ONCE), at the lib/refcount.c line 6.1 has:
//   refcount_t: underflow; use-after-free.
//   WARNING: CPU: 0 PID: 4 at lib/refcount.c:28 refcount_warn_saturate
// Each operation is one atomic step (an interleaving point, as atomic_t's). refcount_t came with
// 4.11; a "2.6" machine has it too and prints the warning in 2.6.34's WARN format.
// Not modelled: the memory-ordering variants (they are all fully ordered here), refcount_dec_if_one
// and the lock-taking refcount_dec_and_lock family.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "./kernel.ts";
import { sched_point } from "./sched/core.ts";
import { dump_stack } from "./dumpstack.ts";

/** refcount_t: a reference count that saturates (and warns) instead of wrapping or going below 0; make one with REFCOUNT_INIT(n). */
export interface refcount_t {
  refs: number;
}

/** REFCOUNT_MAX (INT_MAX): the largest count; an increment past it saturates the count and warns. */
export const REFCOUNT_MAX = 0x7fffffff;
/** INT_MIN / 2 */
export const REFCOUNT_SATURATED = -0x40000000;

/** REFCOUNT_INIT(n): a refcount_t holding `n`. */
export const REFCOUNT_INIT = (n: number): refcount_t => ({ refs: n });
/** refcount_read(r): the count (atomic_read). Context: any; never sleeps. A plain load, not an interleaving point. */
export const refcount_read = (r: refcount_t): number => r.refs;
/** refcount_set(r, n): sets the count (atomic_set). Context: any; never sleeps. A plain store, not an interleaving point. */
export const refcount_set = (r: refcount_t, n: number): void => {
  r.refs = n;
};

type Saturation = "REFCOUNT_ADD_NOT_ZERO_OVF" | "REFCOUNT_ADD_OVF" | "REFCOUNT_ADD_UAF" | "REFCOUNT_SUB_UAF" | "REFCOUNT_DEC_LEAK";

/** refcount_warn_saturate()'s message and the line of its REFCOUNT_WARN in 6.1's lib/refcount.c. */
const WARNINGS: Record<Saturation, readonly [string, number]> = {
  REFCOUNT_ADD_NOT_ZERO_OVF: ["saturated; leaking memory", 19],
  REFCOUNT_ADD_OVF: ["saturated; leaking memory", 22],
  REFCOUNT_ADD_UAF: ["addition on 0; use-after-free", 25],
  REFCOUNT_SUB_UAF: ["underflow; use-after-free", 28],
  REFCOUNT_DEC_LEAK: ["decrement hit 0; leaking memory", 31],
};

/** Which WARN_ONCE()s have fired, by kernel. */
const warned = new WeakMap<Kernel, Set<Saturation>>();

/** refcount_warn_saturate(): saturates the count and warns once per kind. */
function refcount_warn_saturate(k: Kernel, r: refcount_t, t: Saturation, caller: string): void {
  r.refs = REFCOUNT_SATURATED;
  let w = warned.get(k);
  if (w === undefined) warned.set(k, (w = new Set()));
  if (w.has(t)) return;
  w.add(t);
  const [msg, line] = WARNINGS[t];
  const ctx = k.this_ctx();
  const message = `refcount_t: ${msg}.`;
  // 6.1 prints the message, then the WARNING line; 2.6.34's warn_slowpath_fmt the other way round.
  const head = k.config.era === "2.6" ? [`WARNING: at lib/refcount.c:${line} refcount_warn_saturate()`, message] : [message, `WARNING: CPU: ${ctx.cpu.id} PID: ${ctx.cpu.curr.pid} at lib/refcount.c:${line} refcount_warn_saturate`];
  k.report("refcount", ["------------[ cut here ]------------", ...head, ...dump_stack(ctx, [caller, "refcount_warn_saturate"])].join("\n"), undefined, message);
}

/** One atomic step on the count: `f` gets the kernel and the old value. */
function step<T>(f: (k: Kernel) => T): Effect.Effect<T> {
  return Effect.map(sched_point(), () => {
    const k = kernel();
    k.charge(k.costs.atomic);
    return f(k);
  });
}

/** refcount_add_not_zero(): adds unless the count is 0; true if it added. */
export const refcount_add_not_zero = (i: number, r: refcount_t): Effect.Effect<boolean> =>
  step((k) => {
    const old = r.refs;
    if (old !== 0) r.refs = old + i;
    if (old < 0 || old + i < 0 || old + i > REFCOUNT_MAX) refcount_warn_saturate(k, r, "REFCOUNT_ADD_NOT_ZERO_OVF", "refcount_add_not_zero");
    return old !== 0;
  });
/**
 * refcount_inc_not_zero(r): increments the count unless it is 0; true if it did (a lookup taking
 * a reference on an object not yet being freed). Context: any; never sleeps. One atomic step.
 */
export const refcount_inc_not_zero = (r: refcount_t): Effect.Effect<boolean> => refcount_add_not_zero(1, r);

/** refcount_add(): an addition on 0 is a use after free. */
export const refcount_add = (i: number, r: refcount_t): Effect.Effect<void> =>
  step((k) => {
    const old = r.refs;
    r.refs = old + i;
    if (old === 0) refcount_warn_saturate(k, r, "REFCOUNT_ADD_UAF", "refcount_add");
    else if (old < 0 || old + i < 0 || old + i > REFCOUNT_MAX) refcount_warn_saturate(k, r, "REFCOUNT_ADD_OVF", "refcount_add");
  });
/**
 * refcount_inc(r): increments the count; an increment from 0 warns "refcount_t: addition on 0;
 * use-after-free." and saturates the count. Context: any; never sleeps. One atomic step.
 */
export const refcount_inc = (r: refcount_t): Effect.Effect<void> => refcount_add(1, r);

/** refcount_sub_and_test(): true when this dropped the last reference; below 0 is an underflow. */
export const refcount_sub_and_test = (i: number, r: refcount_t): Effect.Effect<boolean> =>
  step((k) => {
    const old = r.refs;
    r.refs = old - i;
    if (old === i) return true;
    if (old < 0 || old - i < 0) refcount_warn_saturate(k, r, "REFCOUNT_SUB_UAF", "refcount_sub_and_test");
    return false;
  });
/**
 * refcount_dec_and_test(r): decrements the count; true when that dropped the last reference (the
 * caller frees the object). A decrement from 0 warns "refcount_t: underflow; use-after-free." and
 * saturates the count. Context: any; never sleeps. One atomic step.
 */
export const refcount_dec_and_test = (r: refcount_t): Effect.Effect<boolean> => refcount_sub_and_test(1, r);

/** refcount_dec(): a decrement that must not drop the last reference (that would leak the object). */
export const refcount_dec = (r: refcount_t): Effect.Effect<void> =>
  step((k) => {
    const old = r.refs;
    r.refs = old - 1;
    if (old <= 1) refcount_warn_saturate(k, r, "REFCOUNT_DEC_LEAK", "refcount_dec");
  });
