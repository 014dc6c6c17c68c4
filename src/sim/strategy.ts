// Scheduling strategies: which of the lanes tied at the earliest clock steps next, and how much
// extra virtual time a lane spends before its step. Every choice is drawn from the run's "sched"
// stream, so a seed (or a recorded schedule) replays it. A step is one run of a CPU's context
// (task, hardirq, softirq) up to its next interleaving point, so interrupts and softirq runs are
// scheduling points like any other.
// - random: a seeded random walk: random tie-breaks, and one step in `1/rate` on average delayed
//   by up to maxDelayNs.
// - pct: Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS
//   2010) for a timed simulator: the lanes get random distinct priorities (ties go to the
//   highest), and d - 1 change points are drawn uniformly from the first k steps; at the i-th,
//   the lane about to step drops to priority i (below every initial one) and is held back until
//   every other runnable lane has caught up with it, plus up to 10 us so that timed events
//   (interrupts) can land there too. No other randomness: a bug of depth d shows with
//   probability at least 1 / (n k^(d-1)) per run.
// - pb: preemption-bounded random: the random walk with at most `preemptions` delayed steps.
import type { Rng } from "./rng.ts";
import { SimError } from "./errors.ts";

/** What a strategy sees of a lane. */
export interface StrategyLane {
  readonly id: number;
  readonly clock: number;
  runnable(): boolean;
}

/**
 * A scheduling strategy for one run (made by a CustomStrategy's make()): which of the lanes tied
 * at the earliest clock steps next (pick) and how much extra virtual time a lane spends before its
 * step (delay).
 */
export interface Strategy {
  readonly name: string;
  /** Which of the lanes tied at the earliest clock runs next: an index into `tied` (`lanes`: all of them). */
  pick(tied: readonly StrategyLane[], lanes: readonly StrategyLane[]): number;
  /** Extra virtual nanoseconds before `lane`'s step (0 most of the time); `lanes` are all of them. */
  delay(lane: StrategyLane, lanes: readonly StrategyLane[]): number;
}

export interface RandomWalkOptions {
  /** Probability that a step is delayed. */
  readonly rate: number;
  /** Upper bound (exclusive) of a delay, in ns. */
  readonly maxDelayNs: number;
}

export const DEFAULT_RANDOM_WALK: RandomWalkOptions = { rate: 1 / 8, maxDelayNs: 1000 };

export class RandomWalk implements Strategy {
  readonly name: string = "random";
  private countdown: number;
  /** log(1 - rate), the gaps' denominator (the same double every time, computed once). */
  private readonly logKeep: number;
  constructor(protected readonly rng: Rng, private readonly opts: RandomWalkOptions = DEFAULT_RANDOM_WALK) {
    this.logKeep = Math.log(1 - opts.rate);
    this.countdown = this.gap();
  }
  /** Undelayed steps before the next delayed one: geometric with success probability `rate`. */
  private gap(): number {
    const u = this.rng.next();
    return Math.floor(Math.log(1 - u) / this.logKeep);
  }
  pick(tied: readonly StrategyLane[], _lanes?: readonly StrategyLane[]): number {
    return tied.length <= 1 ? 0 : this.rng.int(tied.length);
  }
  delay(_lane?: StrategyLane, _lanes?: readonly StrategyLane[]): number {
    if (this.countdown > 0) {
      this.countdown--;
      return 0;
    }
    this.countdown = this.gap();
    return 1 + this.rng.int(this.opts.maxDelayNs - 1);
  }
}

/** Preemption-bounded random: the random walk's delays, `preemptions` of them at most. */
export class PreemptionBounded extends RandomWalk {
  override readonly name = "pb";
  private left: number;
  constructor(rng: Rng, readonly preemptions: number) {
    super(rng);
    this.left = preemptions;
  }
  override delay(): number {
    if (this.left === 0) return 0;
    const d = super.delay();
    if (d > 0) this.left--;
    return d;
  }
}

export interface PctOptions {
  /** d: the bug depth aimed at (d - 1 priority change points). */
  readonly depth: number;
  /** k: the steps over which change points are drawn (about a run's length). */
  readonly steps: number;
}

/** Extra time a preempted lane waits after the others have caught up, at most (ns). */
const PCT_WINDOW_NS = 10_000;

export class Pct implements Strategy {
  readonly name = "pct";
  private readonly priority = new Map<number, number>();
  /** Change point step -> its index i (1-based): the priority the lane drops to. */
  private readonly changes = new Map<number, number>();
  private step = 0;
  constructor(private readonly rng: Rng, readonly opts: PctOptions) {
    for (let i = 1; i < opts.depth; i++) {
      let s: number;
      do s = 1 + rng.int(opts.steps);
      while (this.changes.has(s));
      this.changes.set(s, i);
    }
  }
  /** Initial priorities d .. d + n - 1, a random permutation over the lanes, drawn when first needed. */
  private prio(lanes: readonly StrategyLane[], id: number): number {
    if (this.priority.size === 0) {
      const order = lanes.map((l) => l.id);
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      order.forEach((lane, i) => this.priority.set(lane, this.opts.depth + i));
    }
    return this.priority.get(id) ?? 0;
  }
  pick(tied: readonly StrategyLane[], lanes: readonly StrategyLane[]): number {
    let best = 0;
    for (let i = 1; i < tied.length; i++) if (this.prio(lanes, tied[i]!.id) > this.prio(lanes, tied[best]!.id)) best = i;
    return best;
  }
  delay(lane: StrategyLane, lanes: readonly StrategyLane[]): number {
    this.prio(lanes, lane.id);
    const i = this.changes.get(++this.step);
    if (i === undefined) return 0;
    this.priority.set(lane.id, i);
    let ahead = 0;
    for (const l of lanes) if (l !== lane && l.runnable() && l.clock > lane.clock) ahead = Math.max(ahead, l.clock - lane.clock);
    return ahead + 1 + this.rng.int(PCT_WINDOW_NS);
  }
}

/** A run's strategy as options, scheduling files and sweeps carry it. */
export type StrategySpec = { readonly name: "random" } | { readonly name: "pct"; readonly depth: number; readonly steps: number } | { readonly name: "pb"; readonly preemptions: number };

/**
 * A scheduling strategy of your own: `make` is called once per run with the run's "sched"
 * stream (draw every choice from it, and a seed replays the run; a recorded schedule replays
 * whatever it chose). The engine asks it which of the lanes tied at the earliest clock steps next
 * (pick) and how much virtual time a lane spends before its step (delay).
 */
export interface CustomStrategy {
  readonly name: string;
  make(rng: Rng): Strategy;
}

/** A strategy for RunOptions.strategy (and mmsim/testing's options). */
export function defineStrategy(s: CustomStrategy): CustomStrategy {
  return s;
}

export function make_strategy(spec: StrategySpec | CustomStrategy | undefined, rng: Rng): Strategy {
  if (spec !== undefined && "make" in spec) return checked(spec.name, spec.make(rng));
  switch (spec?.name ?? "random") {
    case "pct":
      return new Pct(rng, spec as PctOptions);
    case "pb":
      return new PreemptionBounded(rng, (spec as { preemptions: number }).preemptions);
    default:
      return new RandomWalk(rng);
  }
}

/** Checks a strategy spec from a schedule file or the command line; an error message or null. */
/** A custom strategy's answers, checked as the engine takes them (a bad one names the strategy). */
function checked(name: string, s: Strategy): Strategy {
  if (typeof s?.pick !== "function" || typeof s.delay !== "function") throw new SimError(`strategy ${name}: make() must return an object with pick() and delay()`);
  return {
    name,
    pick(tied, lanes) {
      const i = s.pick(tied, lanes);
      if (!Number.isInteger(i) || i < 0 || i >= tied.length) throw new SimError(`strategy ${name}: pick() returned ${String(i)} for ${tied.length} tied lanes (an index from 0 to ${tied.length - 1})`);
      return i;
    },
    delay(lane, lanes) {
      const d = s.delay(lane, lanes);
      if (!Number.isInteger(d) || d < 0) throw new SimError(`strategy ${name}: delay() returned ${String(d)} (a whole number of ns, 0 or more)`);
      return d;
    },
  };
}

export function check_strategy(v: unknown): string | null {
  if (typeof v !== "object" || v === null) return `"strategy" must be an object`;
  const o = v as Record<string, unknown>;
  const int = (x: unknown, lo: number, hi: number) => typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi;
  if (o.name === "random") return null;
  if (o.name === "pct") return int(o.depth, 1, 100) && int(o.steps, 1, 1e9) ? null : `"strategy" pct needs "depth" (1..100) and "steps" (1..1000000000)`;
  if (o.name === "pb") return int(o.preemptions, 0, 1e6) ? null : `"strategy" pb needs "preemptions" (0..1000000)`;
  return `"strategy.name" must be "random", "pct" or "pb"`;
}
