// Schedule shrinking: from a failing seed, the smallest run of the same scenario that still fails
// the same way. The seed's run is recorded as a script (src/sim/script.ts: tie-breaks, delays,
// device interrupts); then, keeping each change only while the run still gives a report of the
// same kind, the shrinker drops whole kinds of decisions, tries fewer CPUs, removes decisions in
// halving chunks down to single ones (delta debugging, Zeller's ddmin without complements),
// removes delays and interrupts whose only use was to line a CPU up with a later interrupt
// (moving the later interrupts earlier by the delay, or by the removed handler's time on the
// CPU), and finally cuts the run at the report's step. Every candidate is a whole deterministic run, so
// what is left is a schedule that replays: the few decisions that matter, labelled.
// The other streams (injected faults, disk latencies) replay their recorded draws in order; the
// shrinker also removes draws from them (so a fault the seed injected at the ninth allocation can
// come at the first), and a stream that runs out injects nothing more.
import { ScenarioError, SimError } from "../sim/errors.ts";
import type { Script } from "../sim/script.ts";
import { draw_count, draws_of } from "../sim/rng.ts";
import type { Scenario } from "./scenario.ts";
import { DEFAULT_STEP_LIMIT, runScenario, type RunOptions, type RunResult } from "./run.ts";
import { DEFAULT_COSTS } from "../hw/costs.ts";

/** A run's size as the shrinker counts it: CPUs, the script's delays, tie-breaks (picks) and device events, and steps. */
export interface Measures {
  readonly cpus: number;
  readonly delays: number;
  readonly picks: number;
  readonly interrupts: number;
  readonly steps: number;
}

/**
 * What shrink() found: the failure it kept (`target`), the sizes before and after, the candidate
 * runs it took, and the shrunk run: its CPU count, script, the other streams' draws and step
 * limit, which replay it, and its recorded result beside the seed's.
 */
export interface ShrinkResult {
  /** The failure kept: a report kind, "expectation" or "limit". */
  readonly target: string;
  readonly before: Measures;
  readonly after: Measures;
  /** Candidate runs tried. */
  readonly runs: number;
  /** The budget ran out before the search was done. */
  readonly exhausted: boolean;
  readonly cpus: number;
  readonly script: Script;
  /** The other streams' draws the shrunk run replays. */
  readonly draws: Draws;
  /** The step limit the shrunk run ran under (the report's step, or the search's cap). */
  readonly stepLimit: number;
  /** The shrunk run, recorded (decisions labelled). */
  readonly result: RunResult;
  /** The seed's run. */
  readonly original: RunResult;
}

/** How a run failed: its unexpected report kinds, "expectation", "limit". */
export function failure_kinds(r: RunResult, expected: readonly string[] = []): string[] {
  const kinds = r.reports.map((x) => x.kind as string).filter((k) => !expected.includes(k));
  if (r.expectations.length > 0) kinds.push("expectation");
  if (r.stop.startsWith("step-limit") || r.stop.startsWith("time-limit")) kinds.push("limit");
  return kinds;
}

const measures = (r: RunResult): Measures => ({
  cpus: r.cpus,
  delays: r.script!.delays.length,
  picks: r.script!.picks.length,
  interrupts: Object.values(r.script!.arrivals).reduce((n, a) => n + a.length, 0),
  steps: r.steps,
});

/** Streams' draws as lists (the shrinker takes draws out of them). */
type Draws = Readonly<Record<string, readonly number[]>>;

interface Candidate {
  readonly cpus: number;
  readonly script: Script;
  /** The other streams' draws (injected faults, disk latencies), served in order. */
  readonly draws: Draws;
  readonly stepLimit?: number;
}

/**
 * Removes [from, to) of one list: "delays", "picks", a device's arrivals ("nic/eth0") or a
 * stream's draws ("draws:fault": the calls after the cut see the draws the removed ones had).
 */
function without(c: Candidate, list: string, from: number, to: number): Candidate {
  const cut = <T>(a: readonly T[]) => [...a.slice(0, from), ...a.slice(to)];
  const s = c.script;
  if (list.startsWith("draws:")) return { ...c, draws: { ...c.draws, [list.slice(6)]: cut(c.draws[list.slice(6)]!) } };
  if (list === "delays") return { ...c, script: { ...s, delays: cut(s.delays) } };
  if (list === "picks") return { ...c, script: { ...s, picks: cut(s.picks) } };
  return { ...c, script: { ...s, arrivals: { ...s.arrivals, [list]: cut(s.arrivals[list]!) } } };
}
function list_of(c: Candidate, list: string): readonly unknown[] {
  if (list.startsWith("draws:")) return c.draws[list.slice(6)]!;
  return list === "delays" ? c.script.delays : list === "picks" ? c.script.picks : c.script.arrivals[list]!;
}

/** The search's state as the passes see it: the best candidate so far, its run, a try, budget left. */
interface Search {
  cur(): Candidate;
  last(): RunResult;
  attempt(c: Candidate): boolean;
  left(): boolean;
  /** The machine's interrupt entry and exit cost (ns). */
  readonly irqEntry: number;
}

/** The lists a candidate's decisions are in (a swarm run's machine draws are kept: the machine is the seed's). */
const lists = (c: Candidate): string[] => ["delays", "picks", ...Object.keys(c.script.arrivals), ...Object.keys(c.draws).filter((l) => l !== "swarm").map((l) => `draws:${l}`)];

/** Chunks of each list, halving, down to single decisions (ddmin's reduce-to-subset steps); true if any went. */
function remove_chunks(s: Search): boolean {
  let changed = false;
  for (const l of lists(s.cur())) {
    for (let size = Math.ceil(list_of(s.cur(), l).length / 2); size >= 1 && s.left(); size = size === 1 ? 0 : Math.ceil(size / 2)) {
      for (let i = 0; i < list_of(s.cur(), l).length && s.left(); ) {
        if (s.attempt(without(s.cur(), l, i, i + size))) changed = true;
        else i += size;
      }
    }
  }
  return changed;
}

/** Every device's events after `at` ns moved `ns` earlier (not before `at`), in order. */
function retimed(arrivals: Script["arrivals"], at: number, ns: number): Script["arrivals"] {
  return Object.fromEntries(Object.entries(arrivals).map(([d, ts]) => [d, ts.map((t) => (t > at ? Math.max(at, t - ns) : t)).sort((a, b) => a - b)]));
}

/**
 * A delay that only lined a CPU up with an interrupt: without it the CPU is that much earlier,
 * so the interrupts after it come that much earlier too.
 */
function remove_delays_retimed(s: Search): boolean {
  let changed = false;
  for (let i = 0; i < s.cur().script.delays.length && s.left(); ) {
    const at = s.last().delayTimes![i]!;
    const ns = s.cur().script.delays[i]![1];
    const c = without(s.cur(), "delays", i, i + 1);
    if (s.attempt({ ...c, script: { ...c.script, arrivals: retimed(c.script.arrivals, at, ns) } })) changed = true;
    else i++;
  }
  return changed;
}

/**
 * An interrupt whose only part was its time on the CPU (the later ones land where they do
 * because of it): without it the CPU gets that far sooner, so the interrupts after it come as
 * much earlier: the handler's span plus the entry and exit.
 */
function remove_interrupts_retimed(s: Search): boolean {
  let changed = false;
  for (const dev of Object.keys(s.cur().script.arrivals)) {
    for (let i = 0; i < s.cur().script.arrivals[dev]!.length && s.left(); ) {
      const t = s.cur().script.arrivals[dev]![i]!;
      // This device's handler run that took it (the first at or after it was raised).
      const taken = s.last().decisions!.filter((d) => d.kind === "irq" && d.device === dev && d.span !== undefined && d.time >= t).sort((a, b) => a.time - b.time)[0];
      let gone = false;
      if (taken !== undefined) {
        const c = without(s.cur(), dev, i, i + 1);
        for (const extra of [s.irqEntry, 0, 2 * s.irqEntry]) {
          if (!s.left()) break;
          if ((gone = s.attempt({ ...c, script: { ...c.script, arrivals: retimed(c.script.arrivals, taken.time, taken.span! + extra) } }))) break;
        }
      }
      if (gone) changed = true;
      else i++;
    }
  }
  return changed;
}

/**
 * Shrinks `seed`'s failure. `base` carries the run's options (machine, strategy, step limit);
 * `budget` bounds the candidate runs.
 */
export function shrink<S>(scn: Scenario<S>, base: RunOptions, budget = 1000): ShrinkResult {
  const original = runScenario(scn, { ...base, record: true });
  const expected = (scn.expected_reports ?? []) as readonly string[];
  const target = failure_kinds(original, expected)[0];
  if (target === undefined) throw new ScenarioError(`scenario ${scn.name}: seed ${String(base.seed)} does not fail (no report, every expectation met): nothing to shrink`);
  let runs = 0;
  let refused = false;
  let best: { c: Candidate; r: RunResult } | null = null;
  // A candidate that runs on and on (a removed delay that leaves a livelock) is cut at ten times
  // the seed's steps, unless running out of steps is the failure.
  const limit = target === "limit" ? (base.stepLimit ?? DEFAULT_STEP_LIMIT) : Math.min(base.stepLimit ?? DEFAULT_STEP_LIMIT, Math.max(10 * original.steps, 100_000));
  const attempt = (c: Candidate): boolean => {
    if (runs >= budget) {
      refused = true;
      return false;
    }
    runs++;
    let r: RunResult;
    try {
      r = runScenario(scn, { ...base, cpus: c.cpus, script: c.script, replay: c.draws, record: true, stepLimit: c.stepLimit ?? limit });
    } catch (e) {
      // A machine the scenario cannot run on (fewer CPUs than it pins to) is not a smaller failure.
      if (e instanceof ScenarioError) return false;
      throw e;
    }
    if (!failure_kinds(r, expected).includes(target)) return false;
    best = { c, r };
    return true;
  };
  // The streams a script does not replace: the strategy's and the devices' draws are its decisions.
  const draws = Object.fromEntries(Object.entries(original.recording).filter(([l, d]) => l !== "sched" && !(l in original.script!.arrivals) && draw_count(d) > 0).map(([l, d]) => [l, draws_of(d)]));
  if (!attempt({ cpus: original.cpus, script: original.script!, draws })) {
    throw new SimError(`scenario ${scn.name}: seed ${String(base.seed)}: its recorded schedule does not fail the same way when scripted`);
  }
  const irqEntry = base.machine?.costs?.irq_entry ?? scn.machine?.costs?.irq_entry ?? DEFAULT_COSTS.irqEntry;
  const search: Search = { cur: () => best!.c, last: () => best!.r, attempt, left: () => runs < budget, irqEntry };
  // 1. Whole kinds of decisions: all delays, all tie-breaks, all of a device's interrupts.
  const cur = search.cur;
  attempt({ ...cur(), script: { picks: [], delays: [], arrivals: Object.fromEntries(Object.keys(cur().script.arrivals).map((d) => [d, []])) } });
  for (const l of lists(cur())) if (list_of(cur(), l).length > 0) attempt(without(cur(), l, 0, Infinity));
  // 2. Fewer CPUs, the fewest first.
  for (let n = 1; n < cur().cpus; n++) if (attempt({ ...cur(), cpus: n })) break;
  // 3. Until nothing more goes: chunks of each list, delays with the interrupts after them, interrupts with what follows them.
  let changed = true;
  while (changed && search.left()) changed = [remove_chunks(search), remove_delays_retimed(search), remove_interrupts_retimed(search)].some((x) => x);
  // 4. Stop at the step of the first report of that kind (reports found at the end need the end).
  const r = best!.r;
  const at = r.reports.findIndex((x) => x.kind === target);
  // (A report an event raised before the step's turn needs the step after.)
  const n = at >= 0 ? r.reportSteps![at]! : r.steps;
  if (n < r.steps && !attempt({ ...cur(), stepLimit: n }) && n + 1 < r.steps) attempt({ ...cur(), stepLimit: n + 1 });
  const final = best!;
  return {
    target,
    before: measures(original),
    after: measures(final.r),
    runs,
    exhausted: refused || (runs >= budget && changed),
    cpus: final.c.cpus,
    script: final.c.script,
    draws: final.c.draws,
    stepLimit: final.c.stepLimit ?? limit,
    result: final.r,
    original,
  };
}
