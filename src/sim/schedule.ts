// A recorded schedule: every draw the run made from every seeded stream (the strategy's
// tie-breaks and delays, device arrivals, ...) plus what is needed to rebuild the run. Replaying
// it needs no seed and reproduces the run's trace hash. Format version 2 records a seeded
// stream as its generator state and its number of draws (version 1 listed every draw). `decisions` says what each scheduling
// decision made happen, in words (informative: a replay does not read it). A shrunk schedule
// (mmsim shrink) also has a `script`: the decisions it keeps, which a replay runs instead of the
// strategy's and the devices' draws.
import { check_stream_draws, type Recording, type Seed } from "./rng.ts";
import { check_strategy, type StrategySpec } from "./strategy.ts";
import { check_script, type Script } from "./script.ts";

/** The schedule format this mmsim writes and reads. */
export const SCHEDULE_VERSION = 2;

export interface ScheduleFile {
  readonly format: "mmsim-schedule";
  readonly version: typeof SCHEDULE_VERSION;
  readonly scenario: string;
  /** The scenario module's path when it was run from a file rather than by name. */
  readonly source?: string;
  /** The seed the schedule was recorded from (informative: a replay does not use it). */
  readonly seed: Seed;
  readonly cpus: number;
  readonly traceHash: string;
  /** The machine the run used when it was not the scenario's own (from --machine FILE). */
  readonly machine?: MachineSpecJson;
  /** The step limit when it was not the default. */
  readonly stepLimit?: number;
  /** The scheduling strategy when it was not the random walk. */
  readonly strategy?: StrategySpec;
  /** The machine configuration a --swarm run drew (the harness's SwarmConfig), applied as drawn. */
  readonly swarm?: MachineSpecJson;
  readonly streams: Recording;
  /** The scheduling decisions in words, in time order (at most 10,000). */
  readonly decisions?: readonly { readonly time: number; readonly kind: string; readonly cpu: number; readonly text: string }[];
  /** A shrunk schedule's decisions, run instead of the strategy's and the devices' draws. */
  readonly script?: Script;
  /** What a shrunk schedule still fails with (a report kind, "expectation" or "limit"). */
  readonly fails?: string;
}

/** A machine description as stored (the harness's MachineSpec; sim knows no domain). */
export type MachineSpecJson = Readonly<Record<string, unknown>>;

/** Checks a parsed JSON value; returns an error message, or null if it is a valid schedule. */
export function validateSchedule(v: unknown): string | null {
  if (typeof v !== "object" || v === null) return "not a JSON object";
  const o = v as Record<string, unknown>;
  if (o.format !== "mmsim-schedule") return `"format" must be "mmsim-schedule"`;
  if (o.version !== SCHEDULE_VERSION) return `"version" must be ${SCHEDULE_VERSION}, got ${JSON.stringify(o.version)}`;
  if (typeof o.scenario !== "string" || o.scenario === "") return `"scenario" must be a scenario name`;
  if (o.source !== undefined && typeof o.source !== "string") return `"source" must be a path`;
  if (typeof o.seed !== "number" && typeof o.seed !== "string") return `"seed" must be a number or a string`;
  if (typeof o.cpus !== "number" || !Number.isInteger(o.cpus) || o.cpus < 1 || o.cpus > 64) return `"cpus" must be an integer from 1 to 64`;
  if (typeof o.traceHash !== "string" || !/^[0-9a-f]{16}$/.test(o.traceHash)) return `"traceHash" must be 16 hex digits`;
  if (o.machine !== undefined && (typeof o.machine !== "object" || o.machine === null || Array.isArray(o.machine))) return `"machine" must be an object`;
  if (o.swarm !== undefined && (typeof o.swarm !== "object" || o.swarm === null || Array.isArray(o.swarm))) return `"swarm" must be an object`;
  if (o.stepLimit !== undefined && (typeof o.stepLimit !== "number" || !Number.isInteger(o.stepLimit) || o.stepLimit < 1)) return `"stepLimit" must be a positive integer`;
  if (o.strategy !== undefined) {
    const bad = check_strategy(o.strategy);
    if (bad !== null) return bad;
  }
  if (o.script !== undefined) {
    const bad = check_script(o.script);
    if (bad !== null) return bad;
  }
  if (o.decisions !== undefined && !Array.isArray(o.decisions)) return `"decisions" must be an array`;
  if (o.fails !== undefined && typeof o.fails !== "string") return `"fails" must be a report kind`;
  if (typeof o.streams !== "object" || o.streams === null || Array.isArray(o.streams)) return `"streams" must be an object of streams' draws`;
  for (const [label, draws] of Object.entries(o.streams as Record<string, unknown>)) {
    const bad = check_stream_draws(draws);
    if (bad !== null) return `"streams.${label}" ${bad}`;
  }
  return null;
}

/**
 * A schedule of another format version (a parsed file of any content): what to tell the user,
 * or null when it is this version's (or not a schedule at all: validateSchedule says why).
 */
export function scheduleVersionError(v: unknown, path: string): string | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.format !== "mmsim-schedule" || o.version === SCHEDULE_VERSION || typeof o.version !== "number") return null;
  const written = `${path} was written by mmsim schedule format version ${o.version}; this mmsim reads version ${SCHEDULE_VERSION}`;
  if (o.version > SCHEDULE_VERSION) return `${written}: replay it with the newer mmsim that wrote it`;
  const scenario = typeof o.source === "string" ? o.source : typeof o.scenario === "string" ? o.scenario : "<scenario>";
  const seed = typeof o.seed === "number" || typeof o.seed === "string" ? String(o.seed) : "N";
  const again = o.script !== undefined ? `mmsim shrink ${scenario} --seed ${seed} --out ${path}` : `mmsim run ${scenario} --seed ${seed} --schedule ${path}`;
  return `${written}: record it again with ${again}${o.machine !== undefined || o.strategy !== undefined || o.swarm !== undefined || o.stepLimit !== undefined ? " and the options it was recorded with (--machine, --strategy, --swarm, --steps)" : ""}`;
}
