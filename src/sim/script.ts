// A run's scheduling decisions as a script: which lane won each tie at the earliest clock, which
// steps were delayed and by how much, and when each device's events arrived. Every run can be
// recorded as one (RecordingStrategy and the devices' arrival logs), and a script replays it
// exactly; a script with decisions taken out is a simpler run of the same scenario, which is
// what shrinking searches for. Where a script says nothing the run takes the simplest course:
// the lowest lane id wins a tie, no step is delayed, a device raises nothing more.
// Delays are keyed by turn: the engine's n-th call to Strategy.delay() (once each time it is
// about to step a lane); tie-breaks by their own count, the n-th call to Strategy.pick() (a
// turn may break a tie more than once when a due event fires first).
import type { Strategy, StrategyLane } from "./strategy.ts";

/**
 * A run's scheduling decisions and device events as a script (RunOptions.script): the tie-breaks
 * and delays that differ from the simplest course, and each device's event times. Where it says
 * nothing, the lowest lane id wins a tie, no step is delayed and a device raises nothing more.
 */
export interface Script {
  /** [tie-break, lane id]: ties (counted from 0) the lane won that the lowest id would not have. */
  readonly picks: readonly (readonly [number, number])[];
  /** [turn, ns]: delays before a step (preemption points). */
  readonly delays: readonly (readonly [number, number])[];
  /** Each device's event times (absolute virtual ns), by its stream label ("nic/eth0"). */
  readonly arrivals: Readonly<Record<string, readonly number[]>>;
}

/** What was decided at a turn, with who was tied and where (for labels). */
export interface Decision {
  /** The turn (delay) or the tie-break's number (pick). */
  readonly turn: number;
  readonly kind: "pick" | "delay";
  readonly lane: number;
  /** The virtual time of the lane's clock at the decision. */
  readonly time: number;
  /** pick: the lanes tied with it; delay: the ns. */
  readonly others: readonly number[];
  readonly ns: number;
}

/** Wraps a strategy and notes every decision it makes that differs from the script default. */
export class RecordingStrategy implements Strategy {
  readonly name: string;
  private turn = 0;
  private ties = 0;
  /** The decisions made (when kept). */
  readonly decisions: Decision[] = [];
  /** `listener` hears of each decision as it is made; `keep`: keep them all in `decisions`. */
  constructor(private readonly inner: Strategy, private readonly listener?: (d: Decision) => void, private readonly keep = true) {
    this.name = inner.name;
  }
  private note(d: Decision): void {
    if (this.keep) this.decisions.push(d);
    this.listener?.(d);
  }
  pick(tied: readonly StrategyLane[], lanes: readonly StrategyLane[]): number {
    const i = this.inner.pick(tied, lanes);
    const n = this.ties++;
    if (i !== 0) this.note({ turn: n, kind: "pick", lane: tied[i]!.id, time: tied[i]!.clock, others: tied.filter((_, j) => j !== i).map((l) => l.id), ns: 0 });
    return i;
  }
  delay(lane: StrategyLane, lanes: readonly StrategyLane[]): number {
    const d = this.inner.delay(lane, lanes);
    if (d > 0) this.note({ turn: this.turn, kind: "delay", lane: lane.id, time: lane.clock, others: [], ns: d });
    this.turn++;
    return d;
  }
}

/** Replays a script's picks and delays. */
export class ScriptedStrategy implements Strategy {
  readonly name = "script";
  private turn = 0;
  private ties = 0;
  private readonly picks: Map<number, number>;
  private readonly delays: Map<number, number>;
  constructor(script: Script) {
    this.picks = new Map(script.picks.map(([t, l]) => [t, l]));
    this.delays = new Map(script.delays.map(([t, d]) => [t, d]));
  }
  pick(tied: readonly StrategyLane[]): number {
    const want = this.picks.get(this.ties++);
    if (want === undefined) return 0;
    const i = tied.findIndex((l) => l.id === want);
    return i < 0 ? 0 : i;
  }
  delay(): number {
    return this.delays.get(this.turn++) ?? 0;
  }
}

/** The script of a recorded run: its decisions and the device events up to `end` ns. */
export function script_of(decisions: readonly Decision[], arrivals: Readonly<Record<string, readonly number[]>>, end: number): Script {
  return {
    picks: decisions.filter((d) => d.kind === "pick").map((d) => [d.turn, d.lane] as const),
    delays: decisions.filter((d) => d.kind === "delay").map((d) => [d.turn, d.ns] as const),
    arrivals: Object.fromEntries(Object.entries(arrivals).map(([dev, ts]) => [dev, ts.filter((t) => t <= end)])),
  };
}

/** Checks a script from a schedule file; an error message or null. */
export function check_script(v: unknown): string | null {
  if (typeof v !== "object" || v === null) return `"script" must be an object`;
  const o = v as Record<string, unknown>;
  const pairs = (x: unknown) => Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => Number.isInteger(n) && n >= 0));
  if (!pairs(o.picks)) return `"script.picks" must be [turn, lane] pairs of whole numbers`;
  if (!pairs(o.delays)) return `"script.delays" must be [turn, ns] pairs of whole numbers`;
  if (typeof o.arrivals !== "object" || o.arrivals === null) return `"script.arrivals" must map device streams to times`;
  for (const [dev, ts] of Object.entries(o.arrivals as Record<string, unknown>)) {
    if (!Array.isArray(ts) || ts.some((t, i) => !Number.isInteger(t) || t < 0 || (i > 0 && t < (ts[i - 1] as number)))) return `"script.arrivals.${dev}" must be rising whole ns`;
  }
  return null;
}
