// Seeded random streams. One master seed (a 32-bit integer or a string) yields labelled
// sub-streams (seedrandom's alea), so extra draws in one part of the simulator never shift
// another. Every draw is recorded per stream; a recording replays the same draws without the seed.
import seedrandom from "seedrandom";
import { SimError } from "./errors.ts";

export type Seed = number | string;

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

export type Recording = Record<string, number[]>;

class SeededRng implements Rng {
  private readonly gen: () => number;
  constructor(seed: string, private readonly log: number[]) {
    this.gen = seedrandom.alea(seed);
  }
  next(): number {
    const v = this.gen();
    this.log.push(v);
    return v;
  }
  int(n: number): number {
    return (this.next() * n) | 0;
  }
}

class ReplayRng implements Rng {
  private pos = 0;
  constructor(private readonly label: string, private readonly values: readonly number[], private readonly log: number[], private readonly fallback: number | undefined) {}
  next(): number {
    if (this.pos >= this.values.length) {
      if (this.fallback !== undefined) {
        this.log.push(this.fallback);
        return this.fallback;
      }
      throw new SimError(`replay diverged: stream "${this.label}" ran out of recorded draws after ${this.pos}`);
    }
    const v = this.values[this.pos++]!;
    this.log.push(v);
    return v;
  }
  int(n: number): number {
    return (this.next() * n) | 0;
  }
}

export class Streams {
  private readonly streams = new Map<string, Rng>();
  private readonly logs: Recording = {};

  /**
   * `replay` given: every stream serves its recorded draws instead of drawing from the seed.
   * `fallback` given (a scripted run, whose course may differ from the recording's): a stream
   * that runs out serves fallback(label) from then on instead of failing.
   */
  constructor(readonly seed: Seed, private readonly replay?: Recording, private readonly fallback?: (label: string) => number) {}

  stream(label: string): Rng {
    let s = this.streams.get(label);
    if (s === undefined) {
      const log: number[] = [];
      this.logs[label] = log;
      s = this.replay !== undefined
        ? new ReplayRng(label, this.replay[label] ?? [], log, this.fallback?.(label))
        : new SeededRng(`${String(this.seed)}\u0000${label}`, log);
      this.streams.set(label, s);
    }
    return s;
  }

  /** Every draw made so far, by stream label (labels in creation order). */
  recording(): Recording {
    return this.logs;
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
