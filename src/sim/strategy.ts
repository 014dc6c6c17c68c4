// Scheduling strategies: they break ties between CPUs whose local clocks are equal and add
// jitter (extra virtual delay) before a step, which is what makes interleavings differ from seed
// to seed. Every choice is a draw from the strategy's own seeded stream, so a recording of that
// stream replays it. PCT and others come with the exploration work.
import type { Rng } from "./rng.ts";

export interface Strategy {
  readonly name: string;
  /** Which of `n` lanes tied at the earliest clock runs next: an index in [0, n). */
  pick(n: number): number;
  /** Extra virtual nanoseconds before the chosen lane's step (0 most of the time). */
  delay(): number;
}

export interface RandomWalkOptions {
  /** Probability that a step is delayed. */
  readonly rate: number;
  /** Upper bound (exclusive) of a delay, in ns. */
  readonly maxDelayNs: number;
}

export const DEFAULT_RANDOM_WALK: RandomWalkOptions = { rate: 1 / 8, maxDelayNs: 1000 };

/** Seeded random walk: random tie-breaks, and each step delayed with probability `rate` by a
 * uniform delay. The gap between delayed steps is drawn geometrically, one draw per delay. */
export class RandomWalk implements Strategy {
  readonly name = "random";
  private countdown: number;
  constructor(private readonly rng: Rng, private readonly opts: RandomWalkOptions = DEFAULT_RANDOM_WALK) {
    this.countdown = this.gap();
  }
  private gap(): number {
    const u = this.rng.next();
    return Math.floor(Math.log(1 - u) / Math.log(1 - this.opts.rate));
  }
  pick(n: number): number {
    return n <= 1 ? 0 : this.rng.int(n);
  }
  delay(): number {
    if (this.countdown > 0) {
      this.countdown--;
      return 0;
    }
    this.countdown = this.gap();
    return 1 + this.rng.int(this.opts.maxDelayNs - 1);
  }
}
