// `mmsim run` and `mmsim replay`: one run of a scenario, printed as a dmesg-style log and a
// summary (or JSON), its schedule written when it fails (or when asked), replayed from it.
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { runScenario, DEFAULT_STEP_LIMIT, type RunResult } from "../harness/run.ts";
import { parse_swarm_config } from "../harness/swarm.ts";
import { parseMachineFile } from "../harness/machine_file.ts";
import type { MachineOverride } from "../harness/scenario.ts";
import { parseSeed } from "../sim/rng.ts";
import { SCHEDULE_VERSION, scheduleVersionError, validateSchedule, type MachineSpecJson, type ScheduleFile } from "../sim/schedule.ts";
import { SimError } from "../sim/errors.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import type { StrategySpec } from "../sim/strategy.ts";
import { UsageError, intOption, parseArgs } from "./args.ts";
import { decision_lines, formatRun, runJson } from "./format.ts";
import { chrome_trace } from "../harness/perfetto.ts";
import { defaultScenario, loadScenario, withScenarioName } from "./load.ts";
import { RUN_OPTIONS, machineAndFaults, procOption, strategyOption, swarmOption } from "./options.ts";
import type { Io } from "./io.ts";

/** Where a run's schedule goes by default: <scenario>.seed-<seed>[.<kind>].schedule.json. */
export function schedulePath(r: RunResult, kind?: string): string {
  return `${r.scenario}.seed-${String(r.seed).replace(/[^A-Za-z0-9_-]/g, "_")}${kind !== undefined ? `.${kind}` : ""}.schedule.json`;
}

/** Writes `json` to `path` whole or not at all (a temporary file, then a rename); an error message or null. */
function writeWhole(path: string, what: string, json: unknown): string | null {
  try {
    writeFileSync(`${path}.tmp`, JSON.stringify(json));
    renameSync(`${path}.tmp`, path);
    return null;
  } catch (e) {
    return `cannot write ${what} ${path}: ${(e as Error).message.split("\n")[0]}`;
  }
}

/**
 * Writes the schedule whole or not at all, with the run's decisions in words when it was
 * recorded (`extra`: a shrunk schedule's script); returns an error message or null.
 */
export function writeSchedule(path: string, r: RunResult, source: string | undefined, machine: MachineSpecJson | undefined, stepLimit: number, strategy: StrategySpec | undefined, extra: Pick<ScheduleFile, "script" | "fails"> = {}): string | null {
  const file: ScheduleFile = {
    format: "mmsim-schedule",
    version: SCHEDULE_VERSION,
    scenario: r.scenario,
    ...(source !== undefined ? { source } : {}),
    seed: r.seed,
    cpus: r.cpus,
    traceHash: r.traceHash,
    ...(machine !== undefined ? { machine } : {}),
    ...(stepLimit !== DEFAULT_STEP_LIMIT ? { stepLimit } : {}),
    ...(strategy !== undefined ? { strategy } : {}),
    ...(r.swarm !== undefined ? { swarm: r.swarm as MachineSpecJson } : {}),
    streams: r.recording,
    ...(r.decisions !== undefined ? { decisions: [...r.decisions].sort((a, b) => a.time - b.time) } : {}),
    ...extra,
  };
  return writeWhole(path, "schedule", file);
}

/** Writes the run's whole trace as Chrome Trace Event JSON, whole or not at all; an error message or null. */
function writeTrace(path: string, r: RunResult, name: string): string | null {
  return writeWhole(path, "trace", chrome_trace(r.traceAll ?? [], `mmsim: ${name} seed ${String(r.seed)}`, r.cpus, r.virtualTimeNs));
}

export function cmdRun(argv: readonly string[], io: Io): number {
  const p = parseArgs("run", argv, RUN_OPTIONS);
  if (p.positional.length > 1) throw new UsageError(`run takes one scenario, got ${p.positional.join(" ")}`);
  const ref = withScenarioName(p.positional[0] ?? defaultScenario(), p.options.get("scenario"));
  const { scenario, source } = loadScenario(ref);
  const seed = parseSeed(p.options.get("seed") ?? "1");
  const cpus = intOption(p, "cpus", 1, MAX_CPUS);
  const stepLimit = intOption(p, "steps", 1, 1e9) ?? DEFAULT_STEP_LIMIT;
  const tail = intOption(p, "trace-tail", 0, 1_000_000) ?? 0;
  const machine = machineAndFaults(p);
  const proc = procOption(p);
  const verify = p.options.has("verify");
  const swarm = swarmOption(p, scenario, cpus, machine.spec);
  const base = { seed, cpus, stepLimit, machine: machine.spec, swarm };
  const strategy = strategyOption(p, () => runScenario(scenario, base).steps);
  const traceFile = p.options.get("trace");
  const opts = { ...base, traceCapacity: Math.max(tail, 1), proc, verify, strategy: strategy.spec, traceAll: traceFile !== undefined, record: "labels" as const };
  const r = runScenario(scenario, opts);
  // --check-determinism: the same run again in this process must give the same trace.
  const again = p.options.has("check-determinism") ? runScenario(scenario, opts).traceHash : undefined;
  const nondeterministic = again !== undefined && again !== r.traceHash;
  const json = p.options.has("json");
  const explicit = p.options.get("schedule");
  let path = explicit ?? (r.failed ? schedulePath(r) : undefined);
  const writeError = path !== undefined ? writeSchedule(path, r, source, machine.raw, stepLimit, strategy.spec) : null;
  if (writeError !== null) path = undefined;
  const traceError = traceFile !== undefined ? writeTrace(traceFile, r, scenario.name) : null;
  const determinism = again === undefined ? {} : { determinism: { same: !nondeterministic, traceHashes: [r.traceHash, again] } };
  if (json) io.out(JSON.stringify({ ...runJson(r), ...determinism, ...(path !== undefined ? { schedule: path } : {}), ...(writeError !== null ? { scheduleError: writeError } : {}) }));
  else {
    io.out(formatRun(r, tail));
    if (traceFile !== undefined && traceError === null) io.out(`trace: ${traceFile} (${r.traceAll!.length} events; open it in Perfetto, ui.perfetto.dev)`);
    if (again !== undefined) io.out(nondeterministic ? `determinism: DIFFERENT trace hashes in two runs: ${r.traceHash}, then ${again} (a bug in mmsim, please report it)` : `determinism: the same trace hash in two runs (${again})`);
    for (const f of proc) io.out(`\n--- /proc/${f} at the end ---\n${r.proc[f]!.replace(/\n$/, "")}`);
    if (r.failed) {
      const args = [cpus !== undefined ? ` --cpus ${cpus}` : "", machine.args, swarm ? " --swarm" : "", strategy.args, p.options.has("steps") ? ` --steps ${stepLimit}` : ""].join("");
      io.out(`FAILED: seed ${String(r.seed)}`);
      io.out(`  replay by seed:     mmsim run ${source ?? scenario.name} --seed ${String(r.seed)}${args}`);
      if (path !== undefined) io.out(`  replay by schedule: mmsim replay ${path}`);
      io.out(`  shrink it:          mmsim shrink ${source ?? scenario.name} --seed ${String(r.seed)}${args}`);
    }
  }
  if (writeError !== null) {
    io.err(`mmsim: ${writeError}`);
    if (explicit !== undefined) return 2;
  }
  if (traceError !== null) {
    io.err(`mmsim: ${traceError}`);
    return 2;
  }
  return r.failed || nondeterministic ? 1 : 0;
}

export function cmdReplay(argv: readonly string[], io: Io): number {
  const p = parseArgs("replay", argv, { json: RUN_OPTIONS.json! });
  if (p.positional.length !== 1) throw new UsageError("replay takes one schedule file");
  const path = p.positional[0]!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`cannot read schedule ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  const old = scheduleVersionError(parsed, path);
  if (old !== null) throw new UsageError(old);
  const bad = validateSchedule(parsed);
  if (bad !== null) throw new UsageError(`${path} is not an mmsim schedule: ${bad}`);
  const file = parsed as ScheduleFile;
  const { scenario } = loadScenario(file.source ?? file.scenario);
  let r: RunResult;
  try {
    let machine: MachineOverride | undefined;
    try {
      machine = file.machine !== undefined ? parseMachineFile(file.machine) : undefined;
    } catch (e) {
      throw new UsageError(`${path}: its "machine": ${(e as Error).message}`);
    }
    let swarm;
    try {
      swarm = file.swarm !== undefined ? parse_swarm_config(file.swarm) : undefined;
    } catch (e) {
      throw new UsageError(`${path}: its ${(e as Error).message}`);
    }
    // A drawn CPU count comes back with the configuration (cpus would override it).
    const cpus = swarm?.cpus !== undefined ? undefined : file.cpus;
    r = runScenario(scenario, { seed: file.seed, cpus, machine, stepLimit: file.stepLimit, replay: file.streams, strategy: file.strategy as StrategySpec | undefined, swarm, record: "labels", ...(file.script !== undefined ? { script: file.script } : {}) });
  } catch (e) {
    // The run asked for more draws than were recorded: it is not the recorded run.
    if (e instanceof SimError && e.message.startsWith("replay diverged")) {
      io.err(`mmsim: replay: DIFFERENT run from ${path}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const same = r.traceHash === file.traceHash;
  if (p.options.has("json")) io.out(JSON.stringify({ ...runJson(r), replayOf: path, recordedTraceHash: file.traceHash, sameTrace: same }));
  else {
    io.out(formatRun(r));
    const ds = decision_lines(r.decisions!);
    const shown = 20;
    io.out(`\nscheduling decisions${file.script !== undefined ? " (shrunk schedule)" : ""}: ${ds.length}${ds.length > shown ? `, the first ${shown} (all are in the file)` : ""}`);
    for (const l of ds.slice(0, shown)) io.out(l);
    io.out(same ? `replay: same trace as recorded (${file.traceHash})` : `replay: DIFFERENT trace: recorded ${file.traceHash}, replayed ${r.traceHash}`);
  }
  return r.failed || !same ? 1 : 0;
}
