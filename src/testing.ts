// mmsim/testing: scenarios as assertions in a test suite (uvu, node:test, vitest, jest: anything
// that treats a thrown Error as a failure). expectClean() runs a scenario over a range of seeds and
// throws on the first that fails, with the report and the command that replays it; expectFails()
// throws unless some seed fails, of the kind asked for, and returns that run for more assertions.
import "./sim/effect_check.ts";
import type { Scenario } from "./harness/scenario.ts";
import { runScenario, type RunOptions, type RunResult } from "./harness/run.ts";
import { failure_kinds } from "./harness/shrink.ts";
import type { ReportKind } from "./kernel/report.ts";

/** Seeds to run: "A..B" (inclusive), a list, or one seed. */
export type Seeds = `${number}..${number}` | readonly number[] | number;

/** expectClean()'s options (and expectFails'): the seeds to run, the scenario's file for the replay command, and every RunOptions field but seed, replay and script. */
export interface SweepOptions extends Omit<RunOptions, "seed" | "replay" | "script"> {
  /** Seeds to run (default "1..100"). */
  readonly seeds?: Seeds;
  /** The file the scenario is in, for the replay command in a failure's message (without it, the command names the scenario as a shipped one). */
  readonly file?: string;
}

/** expectFails()'s options: SweepOptions (seeds 1..1000 by default here) and the kind of failure wanted. */
export interface FailsOptions extends SweepOptions {
  /** The kind of failure wanted: a report kind ("might_sleep", "lockdep", ...), "expectation" or "limit"; any when left out. */
  readonly kind?: ReportKind | "limit";
}

/** A failed expectation of mmsim/testing (name "MmsimAssertionError", code "ERR_ASSERTION"). */
export class MmsimAssertionError extends Error {
  override readonly name = "MmsimAssertionError";
  readonly code = "ERR_ASSERTION";
  constructor(
    message: string,
    /** The run that failed (expectClean), or undefined. */
    readonly run?: RunResult,
  ) {
    super(message);
  }
}

/** The seeds `s` names, in order. */
export function seedList(s: Seeds): number[] {
  if (typeof s === "number") return [check(s)];
  if (typeof s !== "string") return s.map(check);
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(s);
  if (m === null) throw new TypeError(`seeds must look like "A..B" (e.g. "1..200"), a list of integers or one integer, got "${s}"`);
  const from = check(Number(m[1]));
  const to = check(Number(m[2]));
  if (from > to) throw new TypeError(`seeds "${s}": the first seed must not exceed the last`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function check(n: number): number {
  if (!Number.isSafeInteger(n)) throw new TypeError(`a seed must be an integer, got ${n}`);
  return n;
}

/** `mmsim run` with the options a failing run needs to be replayed. */
function replayCommand(scn: Scenario<unknown>, o: SweepOptions, seed: number): string {
  // FILE#NAME picks the scenario in a file of several (and in a file of one); a name alone is a shipped scenario's.
  const parts = ["mmsim run", o.file !== undefined ? `${o.file}#${scn.name}` : scn.name, `--seed ${seed}`];
  if (o.cpus !== undefined) parts.push(`--cpus ${o.cpus}`);
  const st = o.strategy;
  if (st !== undefined && "make" in st) return `${parts.join(" ")} (under strategy ${st.name}, which runs from code: runScenario(scenario, { seed: ${seed}, strategy }))`;
  if (st !== undefined && st.name === "pct") parts.push(`--strategy pct --depth ${st.depth} --pct-steps ${st.steps}`);
  if (st !== undefined && st.name === "pb") parts.push(`--strategy pb --preemptions ${st.preemptions}`);
  if (o.swarm === true) parts.push("--swarm");
  if (o.verify === true) parts.push("--verify");
  return parts.join(" ") + (o.machine !== undefined ? " (with the test's machine options in a --machine file)" : "");
}

function describe(r: RunResult, kinds: readonly string[]): string {
  const lines = [`${r.scenario} failed at seed ${r.seed} (${kinds.join(", ")}; ${r.stop})`];
  for (const e of r.expectations) lines.push(`  expectation: ${e}`);
  const first = r.reports.find((x) => kinds.includes(x.kind));
  if (first !== undefined) lines.push(...first.text.split("\n").map((l) => `  ${l}`));
  return lines.join("\n");
}

function runOptions(o: FailsOptions, seed: number): RunOptions {
  const { seeds: _seeds, file: _file, kind: _kind, ...rest } = o;
  return { ...rest, seed };
}

/** Runs `scn` on every seed of `opts.seeds` (default 1..100); throws on the first seed that fails. */
export function expectClean<S>(scn: Scenario<S>, opts: SweepOptions = {}): void {
  const seeds = seedList(opts.seeds ?? "1..100");
  for (const seed of seeds) {
    const r = runScenario(scn, runOptions(opts, seed));
    if (!r.failed) continue;
    const kinds = failure_kinds(r, scn.expected_reports ?? []);
    throw new MmsimAssertionError(`${describe(r, kinds)}\nreplay: ${replayCommand(scn as Scenario<unknown>, opts, seed)}`, r);
  }
}

/**
 * Runs `scn` over `opts.seeds` (default 1..1000) until a seed fails (with a failure of
 * `opts.kind`, when given) and returns that run; throws if none does.
 */
export function expectFails<S>(scn: Scenario<S>, opts: FailsOptions = {}): RunResult {
  const seeds = seedList(opts.seeds ?? "1..1000");
  const seen = new Map<string, number>();
  for (const seed of seeds) {
    const r = runScenario(scn, runOptions(opts, seed));
    if (!r.failed) continue;
    const kinds = failure_kinds(r, scn.expected_reports ?? []);
    if (opts.kind === undefined || kinds.includes(opts.kind)) return r;
    for (const k of kinds) if (!seen.has(k)) seen.set(k, seed);
  }
  const range = seeds.length === 0 ? "no seeds" : `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  const other = [...seen].map(([k, s]) => `${k} at seed ${s}`).join(", ");
  throw new MmsimAssertionError(
    `${scn.name}: no run failed${opts.kind !== undefined ? ` with ${opts.kind}` : ""} over ${range} (${seeds.length} runs)${other !== "" ? `; other failures: ${other}` : ""}`,
  );
}
