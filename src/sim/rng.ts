// Seeded random streams. One master seed (a 32-bit integer or a string) yields labelled
// sub-streams (seedrandom's alea), so extra draws in one part of the simulator never shift
// another. A run's draws are recorded compactly, at no cost per draw: each seeded stream's
// generator state when it was made and how many draws it served; a replay regenerates them
// from that state, without the seed. A stream can also be given its draws as a list (a shrunk
// schedule's edited streams), and a scripted run's stream that runs out serves a fixed value.
import seedrandom from "seedrandom";
import { SimError } from "./errors.ts";

/** A run's master seed: a 32-bit integer or a string. Every random stream of the run derives from it. */
export type Seed = number | string;

/** A random stream (seeded, or serving a recording's draws): floats in [0, 1) and integers in [0, n). */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** seedrandom's alea state: what its generator needs to go on from there. */
export interface AleaState {
  readonly c: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
}

/**
 * One stream's draws: the generator state it started from and how many draws it served (they
 * are regenerated from the state), or the draws themselves.
 */
export type StreamDraws = { readonly alea: AleaState; readonly draws: number } | readonly number[];

/**
 * A run's draws by stream label ("sched", "fault", "nic/eth0", ...), compactly (RunResult.recording);
 * RunOptions.replay serves them again, which replays the run without its seed.
 */
export type Recording = Record<string, StreamDraws>;

/** How many draws a stream's record holds. */
export const draw_count = (d: StreamDraws): number => (Array.isArray(d) ? d.length : (d as { draws: number }).draws);

/** The draws a stream's record stands for, as a list (regenerated from its state). */
export function draws_of(d: StreamDraws): number[] {
  if (Array.isArray(d)) return [...(d as readonly number[])];
  const { alea, draws } = d as { alea: AleaState; draws: number };
  const gen = seedrandom.alea("", { state: { ...alea } });
  const out = new Array<number>(draws);
  for (let i = 0; i < draws; i++) out[i] = gen();
  return out;
}

/** Checks a stream's record from a schedule file; an error message (after `"streams.LABEL"`) or null. */
export function check_stream_draws(v: unknown): string | null {
  const unit = (x: unknown) => typeof x === "number" && x >= 0 && x < 1;
  if (Array.isArray(v)) return v.every(unit) ? null : "must be an array of numbers in [0, 1)";
  const bad = `must be an array of numbers in [0, 1) or { "alea": { "c", "s0", "s1", "s2" }, "draws": N }`;
  if (typeof v !== "object" || v === null) return bad;
  const o = v as Record<string, unknown>;
  const s = o.alea as Record<string, unknown> | undefined;
  if (Object.keys(o).length !== 2 || typeof s !== "object" || s === null || !Number.isInteger(o.draws) || (o.draws as number) < 0) return bad;
  if (Object.keys(s).length !== 4 || !Number.isInteger(s.c) || (s.c as number) < 0 || !unit(s.s0) || !unit(s.s1) || !unit(s.s2)) return bad;
  return null;
}

interface Recorded extends Rng {
  recorded(): StreamDraws;
}

class SeededRng implements Recorded {
  private readonly gen: () => number;
  private readonly start: AleaState;
  private n = 0;
  constructor(seed: string) {
    const g = seedrandom.alea(seed, { state: true });
    this.start = g.state();
    this.gen = g;
  }
  next(): number {
    this.n++;
    return this.gen();
  }
  int(n: number): number {
    return (this.next() * n) | 0;
  }
  recorded(): StreamDraws {
    return { alea: this.start, draws: this.n };
  }
}

class ReplayRng implements Recorded {
  private pos = 0;
  /** Draws served from the fallback after the recorded ones ran out. */
  private fell = 0;
  private readonly values: readonly number[] | null;
  private readonly gen: (() => number) | null;
  private readonly limit: number;
  constructor(private readonly label: string, private readonly source: StreamDraws, private readonly fallback: number | undefined) {
    if (Array.isArray(source)) {
      this.values = source;
      this.gen = null;
      this.limit = source.length;
    } else {
      const { alea, draws } = source as { alea: AleaState; draws: number };
      this.values = null;
      this.gen = seedrandom.alea("", { state: { ...alea } });
      this.limit = draws;
    }
  }
  next(): number {
    if (this.pos >= this.limit) {
      if (this.fallback !== undefined) {
        this.fell++;
        return this.fallback;
      }
      throw new SimError(`replay diverged: stream "${this.label}" ran out of recorded draws after ${this.pos}`);
    }
    const i = this.pos++;
    return this.values !== null ? this.values[i]! : this.gen!();
  }
  int(n: number): number {
    return (this.next() * n) | 0;
  }
  recorded(): StreamDraws {
    const served: StreamDraws = this.values !== null ? this.values.slice(0, this.pos) : { alea: (this.source as { alea: AleaState }).alea, draws: this.pos };
    if (this.fell === 0) return served;
    const out = draws_of(served);
    for (let i = 0; i < this.fell; i++) out.push(this.fallback!);
    return out;
  }
}

export class Streams {
  private readonly streams = new Map<string, Recorded>();

  /**
   * `replay` given: every stream serves its recorded draws instead of drawing from the seed.
   * `fallback` given (a scripted run, whose course may differ from the recording's): a stream
   * that runs out serves fallback(label) from then on instead of failing.
   */
  constructor(readonly seed: Seed, private readonly replay?: Recording, private readonly fallback?: (label: string) => number) {}

  stream(label: string): Rng {
    let s = this.streams.get(label);
    if (s === undefined) {
      s = this.replay !== undefined ? new ReplayRng(label, this.replay[label] ?? [], this.fallback?.(label)) : new SeededRng(`${String(this.seed)}\u0000${label}`);
      this.streams.set(label, s);
    }
    return s;
  }

  /** Every draw made so far, by stream label (labels in creation order), compactly. */
  recording(): Recording {
    const out: Record<string, StreamDraws> = {};
    for (const [label, s] of this.streams) out[label] = s.recorded();
    return out;
  }
}

/** Parses a seed given on a command line: a 32-bit integer stays a number, anything else is a string. */
export function parseSeed(text: string): Seed {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n) && n >= -0x80000000 && n <= 0xffffffff) return n;
  }
  return text;
}
