// include/asm-generic/barrier.h and arch/x86/include/asm/barrier.h: memory barriers as the
// simulator sees them. mmsim executes every context's accesses in program order and makes each
// one visible to every CPU at once (sequential consistency): there are no store buffers, no
// load reordering and no compiler reordering to forbid, so a barrier orders nothing that was not
// ordered already. What a barrier is here: an interleaving point (the step ends, another CPU may
// run), so code written with the barriers Linux needs still runs and interleaves as expected.
// smp_mb() also charges a LOCK-prefixed instruction's cost (x86's smp_mb() is `lock; addl` or
// `mfence`); smp_rmb(), smp_wmb() and barrier() are compiler barriers on x86 and cost a step.
// Consequence: a missing barrier is never a bug here (the store-buffer and message-passing
// litmus tests always give the sequentially consistent outcome); see docs/limits.md.
import type * as Effect from "effect/Effect";
import { kernel } from "./kernel.ts";
import { PointThen } from "./sched/core.ts";
import { op } from "../sim/op.ts";

/** A barrier: an interleaving point, then (smp_mb) the cost of a locked instruction. */
class Barrier extends PointThen {
  constructor(readonly full: boolean) {
    super();
  }
  after(): unknown {
    if (this.full) {
      const k = kernel();
      k.charge(k.costs.atomic);
    }
    return undefined;
  }
}

const mb_op: Effect.Effect<void> = op(new Barrier(true));
const compiler_op: Effect.Effect<void> = op(new Barrier(false));

/** smp_mb(): full barrier; here an interleaving point costing a locked instruction. Context: any. */
export const smp_mb = (): Effect.Effect<void> => mb_op;
/** smp_rmb(): read barrier (a compiler barrier on x86); here an interleaving point. Context: any. */
export const smp_rmb = (): Effect.Effect<void> => compiler_op;
/** smp_wmb(): write barrier (a compiler barrier on x86); here an interleaving point. Context: any. */
export const smp_wmb = (): Effect.Effect<void> => compiler_op;
/** barrier(): the compiler barrier; here an interleaving point. Context: any. */
export const barrier = (): Effect.Effect<void> => compiler_op;

// smp_load_acquire(&x) and smp_store_release(&x, v): READ_ONCE and WRITE_ONCE, whose acquire and
// release ordering sequential consistency gives anyway.
export { READ_ONCE as smp_load_acquire, WRITE_ONCE as smp_store_release } from "./atomic.ts";
