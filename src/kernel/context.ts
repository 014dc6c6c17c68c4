// An execution context: one Effect fiber that a CPU runs, either a task's (whose fiber lives as
// long as the task) or one run of an interrupt (hardirq handler, then the softirqs run at its
// irq_exit). A CPU holds a stack of contexts, the task's at the bottom and interrupts above it;
// only the top one runs. A context that reaches an interleaving point parks: it stores the
// continuation that the CPU's next step will resume.
import * as Effect from "effect/Effect";
import type { spinlock_t } from "./locking/spinlock.ts";
import type { Task } from "./sched/task.ts";
import type { PerCpu } from "./percpu.ts";

export type Resume = (eff: Effect.Effect<void>) => void;

export class ExecContext {
  /** The parked continuation, if the context is parked at an interleaving point. */
  resume: Resume | null = null;
  started = false;
  finished = false;
  /** The lock this context is spinning on (it runs again once the lock is handed to it). */
  spinning: spinlock_t | null = null;
  spin_since = 0;
  /** The locking call it spins in ("spin_lock_irqsave", ...). */
  spin_by = "";
  /** Spinlocks held, in acquisition order. */
  readonly held: spinlock_t[] = [];
  /** Simulated kernel call stack, outermost first, for backtraces. */
  readonly frames: string[];

  constructor(
    readonly kind: "task" | "irq",
    readonly name: string,
    readonly task: Task | null,
    readonly program: Effect.Effect<void>,
    public cpu: PerCpu,
    frames: string[],
  ) {
    this.frames = frames;
  }

  /** Can the CPU resume this context now (it is not spinning and not running)? */
  ready(): boolean {
    return this.spinning === null && (!this.started || this.resume !== null);
  }
}

const VOID = Effect.void;

/** Parks `ctx`: the fiber stops here until the context's CPU resumes it. */
export function park(ctx: ExecContext): Effect.Effect<void> {
  return Effect.callback<void>((resume) => {
    ctx.resume = resume;
  });
}

/** Resumes a parked context (its fiber runs synchronously up to its next park or its end). */
export function resume(ctx: ExecContext): void {
  const r = ctx.resume!;
  ctx.resume = null;
  r(VOID);
}
