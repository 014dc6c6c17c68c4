// An execution context: one Effect program that a CPU runs, either a task's (whose program lives
// as long as the task) or one run of an interrupt (hardirq handler, then the softirqs run at its
// irq_exit). A CPU holds a stack of contexts, the task's at the bottom and interrupts above it;
// only the top one runs. The engine steps a context's program with a Stepper (src/sim/stepper.ts)
// from one interleaving point (an op that parks) to the next.
import type * as Effect from "effect/Effect";
import type { Stepper } from "../sim/stepper.ts";
import type { Task } from "./sched/task.ts";
import type { PerCpu } from "./percpu.ts";

/**
 * What a spinning context waits on (a spinlock, an rwlock, a seqcount whose writer is inside its
 * section): its name, and the context that must let go before the spinner can go on (null when
 * none can be named), which the lockup finder follows.
 */
export interface SpinTarget {
  readonly name: string;
  readonly holder: ExecContext | null;
}

/** A spinning lock a context holds, as lockup reports and held-lock listings without lockdep print it. */
export interface HeldLock {
  readonly name: string;
  /** The locking call that took it ("spin_lock_irqsave", "read_lock" ...). */
  readonly acquired_by: string;
}

export class ExecContext {
  /** Steps the program; made when the context first runs. */
  stepper: Stepper | null = null;
  /** The lock this context is spinning on (it runs again once the lock is handed to it). */
  spinning: SpinTarget | null = null;
  spin_since = 0;
  /** The locking call it spins in ("spin_lock_irqsave", ...). */
  spin_by = "";
  /** What the spinning call wants, for locks with more than one way in (rwlock.ts: read or write, and which call). */
  spin_mode = 0;
  /** Spinning locks held (spinlocks, rwlocks), in acquisition order. */
  readonly held: HeldLock[] = [];
  /** Simulated kernel call stack, outermost first, for backtraces. */
  readonly frames: string[];
  /** The DS register as this context left it (src/kernel/segment.ts; null: never loaded). */
  data_segment: unknown = null;

  constructor(
    readonly kind: "task" | "irq",
    public name: string,
    readonly task: Task | null,
    public program: Effect.Effect<void>,
    public cpu: PerCpu,
    frames: string[],
  ) {
    this.frames = frames;
  }

  /**
   * An interrupt context that ended, from its CPU's pool, for the next interrupt there: as a new
   * one would be (no lock held or spun on, which the pool requires; DS not loaded; new frames).
   */
  reuse(name: string, program: Effect.Effect<void>, outer: string, inner: string): void {
    this.name = name;
    this.program = program;
    this.data_segment = null;
    this.spin_since = 0;
    this.spin_by = "";
    this.spin_mode = 0;
    // Shortened with pop(): setting `length` lower gives the array's store back, and the next
    // interrupt's pushes would allocate a new one.
    const f = this.frames;
    while (f.length > 2) f.pop();
    while (f.length < 2) f.push("");
    f[0] = outer;
    f[1] = inner;
    this.stepper?.reset(program);
  }

  /** Can the CPU run this context now (it is not spinning, and it has not started or it parked)? */
  ready(): boolean {
    return this.spinning === null && (this.stepper === null || this.stepper.ready());
  }

}
