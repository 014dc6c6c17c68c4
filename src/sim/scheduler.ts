// The one Effect Scheduler of a run. Effect's own work (fiber starts, latch wake-ups) is queued
// on a single shared dispatcher and flushed synchronously by the engine after every step, so no
// fiber ever runs unless the simulator's loop asked for it. Nothing here touches real time.
import type * as Scheduler from "effect/Scheduler";

export class SimScheduler implements Scheduler.Scheduler {
  readonly executionMode = "sync" as const;
  private queue: Array<() => void> = [];
  private flushing = false;
  private readonly dispatcher: Scheduler.SchedulerDispatcher = {
    scheduleTask: (task) => {
      this.queue.push(task);
    },
    flush: () => this.flush(),
  };

  shouldYield(): boolean {
    return false;
  }

  makeDispatcher(): Scheduler.SchedulerDispatcher {
    return this.dispatcher;
  }

  /** Runs queued tasks in FIFO order until none is left. */
  flush(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    try {
      for (let i = 0; i < this.queue.length; i++) this.queue[i]!();
    } finally {
      // pop() rather than `length = 0`, which gives the array's store back (a new one each flush).
      const q = this.queue;
      while (q.length > 0) q.pop();
      this.flushing = false;
    }
  }
}
