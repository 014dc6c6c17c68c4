// The discrete-event engine. Lanes (the machine's CPUs, but the engine knows no domain) each have
// a local clock; the loop fires due timed events and otherwise steps the runnable lane with the
// earliest clock, ties and jitter coming from the strategy. A lane's step runs one context's
// program from its last interleaving point to its next (stepper.ts); Effect work a program starts
// (forks, wake-ups) runs on the run's SimScheduler, flushed after every step. The loop alone
// decides what runs next.
import type * as Context from "effect/Context";
import { clearCurrentFiber, fiberContext } from "./stepper.ts";
import { LaneQueue, type QueuedLane } from "./lanes.ts";
import { EventQueue, type SimEvent } from "./eventq.ts";
import { SimScheduler } from "./scheduler.ts";
import type { Strategy } from "./strategy.ts";
import { Trace } from "./trace.ts";
import { SimError } from "./errors.ts";

export interface Lane extends QueuedLane {
  readonly id: number;
  /** Local virtual time in ns. */
  clock: number;
  runnable(): boolean;
  /** Runs the lane's current context up to its next interleaving point. */
  step(): void;
  /** Spends `ns` of the lane's time before its step (the strategy's jitter). */
  stall(ns: number): void;
}

export type StopReason =
  | { readonly kind: "done" }
  | { readonly kind: "stopped"; readonly why: string }
  | { readonly kind: "step-limit"; readonly limit: number }
  | { readonly kind: "time-limit"; readonly limitNs: number }
  | { readonly kind: "error"; readonly error: unknown };

export interface EngineOptions {
  readonly stepLimit: number;
  readonly timeLimitNs: number;
  readonly traceCapacity?: number;
}

export class Engine {
  readonly events = new EventQueue();
  readonly scheduler = new SimScheduler();
  /** The Effect context every program of this run runs with (the run's scheduler). */
  readonly fiberContext: Context.Context<never> = fiberContext(this.scheduler);
  readonly trace: Trace;
  private _lanes: Lane[] = [];
  private queue = new LaneQueue<Lane>([]);
  /** Virtual time of the latest step or event. */
  now = 0;
  steps = 0;
  /** Called when no lane is runnable and no event but daemons is pending; must schedule work or stop. */
  onIdle: () => void = () => this.stop({ kind: "done" });
  /** Whole-state checks run after every step and every fired event (verify mode), or null. */
  afterStep: (() => void) | null = null;
  private stopReason: StopReason | undefined;
  /** Verify mode: check the lane queue against a scan of every lane on every turn. */
  checkLanes = false;

  constructor(readonly strategy: Strategy, readonly opts: EngineOptions) {
    this.trace = new Trace(opts.traceCapacity ?? 4096);
  }

  at(time: number, prio: number, label: string, fire: () => void, background = false, daemon = false): SimEvent {
    if (time < this.now) throw new SimError(`event "${label}" scheduled in the past (${time} < ${this.now})`);
    // A stopped run takes no more events (the rest of the step that stopped it still runs).
    if (this.stopReason !== undefined) return { time, prio, seq: -1, label, background, daemon, cancelled: true, fire };
    return this.events.schedule(time, prio, label, fire, background, daemon);
  }

  get lanes(): readonly Lane[] {
    return this._lanes;
  }

  set lanes(lanes: Lane[]) {
    this._lanes = lanes;
    this.queue = new LaneQueue(lanes);
  }

  /**
   * A lane's clock or runnability may have changed outside its own step (the lane stepped and
   * the lane a delay stalled are checked anyway): it is re-checked before the next choice.
   */
  touch(lane: Lane): void {
    this.queue.touch(lane);
  }

  stop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  run(): StopReason {
    try {
      while (this.stopReason === undefined) this.turn();
    } catch (error) {
      this.stopReason = { kind: "error", error };
    }
    clearCurrentFiber();
    return this.stopReason;
  }

  private turn(): void {
    if (this.steps >= this.opts.stepLimit) return this.stop({ kind: "step-limit", limit: this.opts.stepLimit });
    const lane = this.earliest();
    const ev = this.events.peek();
    // Nothing runnable and nothing pending but watchdog checks: the domain decides (done, hung...).
    if (lane === undefined && this.events.pendingLive === 0) return this.onIdle();
    if (ev !== undefined && (lane === undefined || ev.time <= lane.clock)) {
      if (ev.time > this.opts.timeLimitNs) return this.stop({ kind: "time-limit", limitNs: this.opts.timeLimitNs });
      this.events.pop();
      this.now = ev.time;
      ev.fire();
      this.scheduler.flush();
      if (this.afterStep !== null) this.afterStep();
      return;
    }
    if (lane === undefined) return this.onIdle();
    const d = this.strategy.delay(lane, this._lanes);
    if (d > 0) {
      lane.stall(d);
      this.queue.touch(lane);
      // The delay may have carried the lane past a due event: fire it first.
      if (ev !== undefined && ev.time <= lane.clock) return;
    }
    if (lane.clock > this.opts.timeLimitNs) return this.stop({ kind: "time-limit", limitNs: this.opts.timeLimitNs });
    this.now = lane.clock;
    this.steps++;
    lane.step();
    this.queue.touch(lane);
    this.scheduler.flush();
    if (this.afterStep !== null) this.afterStep();
  }

  /** The runnable lane with the earliest clock; ties go to the strategy. */
  private earliest(): Lane | undefined {
    if (this.checkLanes) {
      const bad = this.queue.check();
      if (bad !== null) throw new SimError(`lane queue: ${bad}`);
    }
    const one = this.queue.first();
    if (one !== null) return one;
    const tied = this.queue.earliest();
    return tied[this.strategy.pick(tied, this._lanes)];
  }
}
