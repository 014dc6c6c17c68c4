// The `mmsim` command: run, sweep, replay, list. Exit codes: 0 no report and expectations met,
// 1 a report, a failed expectation or a run that hit a limit, 2 bad input.
import { existsSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { runScenario, procOfFreshMachine, checkSwarm, DEFAULT_STEP_LIMIT, type RunResult } from "../harness/run.ts";
import { parse_swarm_config } from "../harness/swarm.ts";
import { PROC_FILES, isProcFile, type ProcFile } from "../harness/proc.ts";
import { parseMachineFile } from "../harness/machine_file.ts";
import type { MachineOverride, Scenario } from "../harness/scenario.ts";
import { parseSeed } from "../sim/rng.ts";
import { SCHEDULE_VERSION, scheduleVersionError, validateSchedule, type MachineSpecJson, type ScheduleFile } from "../sim/schedule.ts";
import { ScenarioError, SimError } from "../sim/errors.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import type { StrategySpec } from "../sim/strategy.ts";
import { merge_fault_injection, parse_fault_option, type FaultInjectionSpec, type FaultSpec } from "../kernel/fault_inject.ts";
import { UsageError, intOption, parseArgs, seedRange, type OptionSpec, type Parsed } from "./args.ts";
import { formatRun, runJson } from "./format.ts";
import { chrome_trace } from "../harness/perfetto.ts";
import { isScenarioPath, listScenarios, loadScenario } from "./load.ts";
import { sweep } from "./sweep.ts";
import { cmdMerge } from "./merge.ts";
import { cmdShrink, decision_lines } from "./shrink.ts";
import { DEFAULT_SCENARIO, scenarios } from "../../scenarios/index.ts";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Set the exit code once an asynchronous command (sweep) finishes. */
  exit(code: number): void;
}

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  seed: { value: true, help: "a 32-bit integer or a string" },
  cpus: { value: true, help: `1..${MAX_CPUS}` },
  json: { value: false, help: "print one JSON object" },
  schedule: { value: true, help: "file to write the recorded schedule to" },
  steps: { value: true, help: "step limit" },
  "trace-tail": { value: true, help: "number of trace events to print" },
  trace: { value: true, help: "write the whole trace to FILE as Chrome Trace Event JSON (opens in Perfetto)" },
  machine: { value: true, help: "a machine description file (JSON)" },
  proc: { value: true, help: `a /proc file to print at the end (${PROC_FILES.join(", ")})` },
  verify: { value: false, help: "check the allocator's books after every step (slow)" },
  failslab: { value: true, help: "failslab attributes, e.g. probability=10,times=5" },
  "fail-page-alloc": { value: true, help: "fail_page_alloc attributes, e.g. probability=10,times=-1,min-order=0" },
  lockdep: { value: false, help: "CONFIG_PROVE_LOCKING: lockdep's checks" },
  kmemleak: { value: false, help: "CONFIG_DEBUG_KMEMLEAK: unreferenced objects at the end of the run" },
  kasan: { value: false, help: "CONFIG_KASAN (generic, kernel 6 on x86_64): out-of-bounds, use-after-free and bad frees" },
  detect: { value: true, help: "detectors to turn on: lockdep, kmemleak, kasan, might_sleep, spinlock, watchdog, hung_task" },
  "no-detect": { value: true, help: "detectors to turn off (same names)" },
  swarm: { value: false, help: "draw the seed's machine from the scenario's swarm ranges" },
  "check-determinism": { value: false, help: "run twice and compare the trace hashes" },
  strategy: { value: true, help: "random (default), pct or pb" },
  depth: { value: true, help: "pct: the bug depth d (d - 1 change points; default 3)" },
  "pct-steps": { value: true, help: "pct: the steps k change points are drawn from (default: a random-walk run's length)" },
  preemptions: { value: true, help: "pb: the most delayed steps (default 3)" },
};

/**
 * --strategy and its parameters: the spec for the run(s) and the options for a replay command.
 * pct without --pct-steps takes k from `calibrate()` (the step count of a random-walk run).
 */
export function strategyOption(p: Parsed, calibrate: () => number): { spec?: StrategySpec; args: string } {
  const name = p.options.get("strategy") ?? "random";
  for (const [opt, owner] of [["depth", "pct"], ["pct-steps", "pct"], ["preemptions", "pb"]] as const) {
    if (p.options.has(opt) && name !== owner) throw new UsageError(`--${opt} is for --strategy ${owner}`);
  }
  if (name === "random") return { args: "" };
  if (name === "pct") {
    const depth = intOption(p, "depth", 1, 100) ?? 3;
    const steps = intOption(p, "pct-steps", 1, 1e9) ?? calibrate();
    return { spec: { name, depth, steps }, args: ` --strategy pct --depth ${depth} --pct-steps ${steps}` };
  }
  if (name === "pb") {
    const preemptions = intOption(p, "preemptions", 0, 1e6) ?? 3;
    return { spec: { name, preemptions }, args: ` --strategy pb --preemptions ${preemptions}` };
  }
  throw new UsageError(`--strategy must be random, pct or pb, got "${name}"`);
}

/**
 * --machine FILE with --failslab / --fail-page-alloc over its fault_injection (attribute by
 * attribute): the override for the run, the JSON for its schedule (so replay injects the same
 * faults), and the options to repeat in a replay command.
 */
export function machineAndFaults(p: Parsed): { spec?: MachineOverride; raw?: MachineSpecJson; args: string } {
  const file = machineOption(p);
  // --detect / --no-detect (and --lockdep, --kmemleak, --kasan) over the file's and the scenario's settings.
  const set = detectorOptions(p);
  const m = Object.keys(set.fields).length > 0 ? { spec: { ...file?.spec, ...set.fields }, raw: { ...file?.raw, ...set.fields } } : file;
  let args = (p.options.has("machine") ? ` --machine ${p.options.get("machine")}` : "") + set.args;
  const given: Record<string, FaultSpec> = {};
  for (const [opt, fault] of [["failslab", "failslab"], ["fail-page-alloc", "fail_page_alloc"]] as const) {
    const text = p.options.get(opt);
    if (text === undefined) continue;
    try {
      given[fault] = parse_fault_option(fault, text);
    } catch (e) {
      throw new UsageError(`--${opt}: ${(e as Error).message}`);
    }
    args += ` --${opt} ${text}`;
  }
  if (Object.keys(given).length === 0) return { ...(m !== undefined ? { spec: m.spec, raw: m.raw } : {}), args };
  const spec: MachineOverride = { ...m?.spec, fault_injection: merge_fault_injection(m?.spec.fault_injection, given) };
  const raw: MachineSpecJson = { ...m?.raw, fault_injection: merge_fault_injection(m?.raw.fault_injection as FaultInjectionSpec | undefined, given) };
  return { spec, raw, args };
}

/** The detectors --detect and --no-detect name, and the machine field each sets (on, off). */
export const DETECTORS: Readonly<Record<string, readonly [field: string, on: boolean | number, off: boolean | number]>> = {
  lockdep: ["lockdep", true, false],
  kmemleak: ["kmemleak", true, false],
  kasan: ["kasan", true, false],
  might_sleep: ["debug_atomic_sleep", true, false],
  spinlock: ["debug_spinlock", true, false],
  watchdog: ["watchdog", true, false],
  hung_task: ["hung_task_timeout_secs", 120, 0],
};

/** --detect LIST, --no-detect LIST, --lockdep, --kmemleak, --kasan: the machine fields, and the options for a replay command. */
function detectorOptions(p: Parsed): { fields: Record<string, boolean | number>; args: string } {
  const names = (opt: string): string[] => {
    const v = p.options.get(opt);
    if (v === undefined) return [];
    const list = v.split(",").map((x) => x.trim());
    for (const n of list) if (!(n in DETECTORS)) throw new UsageError(`--${opt}: unknown detector "${n}" (accepted: ${Object.keys(DETECTORS).join(", ")})`);
    return list;
  };
  const detect = names("detect");
  const on = [...detect, ...["lockdep", "kmemleak", "kasan"].filter((d) => p.options.has(d))];
  const off = names("no-detect");
  const both = on.find((n) => off.includes(n));
  if (both !== undefined) throw new UsageError(`detector "${both}" is both turned on and off`);
  const fields: Record<string, boolean | number> = {};
  for (const n of on) fields[DETECTORS[n]![0]] = DETECTORS[n]![1];
  for (const n of off) fields[DETECTORS[n]![0]] = DETECTORS[n]![2];
  const args = ["lockdep", "kmemleak", "kasan"].filter((d) => p.options.has(d)).map((d) => ` --${d}`).join("") + (detect.length > 0 ? ` --detect ${detect.join(",")}` : "") + (off.length > 0 ? ` --no-detect ${off.join(",")}` : "");
  return { fields, args };
}

/** Reads --machine FILE, if given: the spec, and the file's JSON for schedules. */
function machineOption(p: Parsed): { spec: MachineOverride; raw: MachineSpecJson } | undefined {
  const path = p.options.get("machine");
  if (path === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`cannot read machine file ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  try {
    return { spec: parseMachineFile(v), raw: v as MachineSpecJson };
  } catch (e) {
    throw new UsageError(`machine file ${path}: ${(e as Error).message}`);
  }
}

/**
 * --swarm: whether it was given, checked against the scenario (it must declare ranges, and they
 * must fit the machine the command line makes) before anything runs.
 */
export function swarmOption(p: Parsed, scenario: Scenario<unknown>, cpus: number | undefined, machine: MachineOverride | undefined): boolean {
  if (!p.options.has("swarm")) return false;
  if (scenario.swarm === undefined) {
    const some = scenarios.filter((s) => s.swarm !== undefined).map((s) => s.name);
    throw new UsageError(`--swarm: scenario ${scenario.name} declares no swarm ranges (a scenario's swarm: { cpus: [min, max], ... }; shipped ones that do: ${some.join(", ") || "none"})`);
  }
  checkSwarm(scenario, { seed: 1, cpus, machine });
  return true;
}

function procOption(p: Parsed): ProcFile[] {
  const f = p.options.get("proc");
  if (f === undefined) return [];
  if (!isProcFile(f)) throw new UsageError(`--proc must be one of ${PROC_FILES.join(", ")}, got "${f}"`);
  return [f];
}

const USAGE = `usage:
  mmsim run [<scenario name or file>] [--seed N] [--cpus N] [--machine FILE] [--failslab ATTRS] [--fail-page-alloc ATTRS] [--lockdep] [--kmemleak] [--kasan] [--detect LIST] [--no-detect LIST] [--swarm] [--strategy random|pct|pb [--depth D] [--pct-steps K] [--preemptions P]] [--proc F] [--verify] [--check-determinism] [--json] [--schedule FILE] [--steps N] [--trace-tail N] [--trace FILE]
  mmsim sweep <scenario> --seeds A..B [--jobs N] [--all] [--cpus N] [--machine FILE] [--failslab ATTRS] [--fail-page-alloc ATTRS] [--lockdep] [--kmemleak] [--kasan] [--detect LIST] [--no-detect LIST] [--swarm] [--strategy random|pct|pb [--depth D] [--pct-steps K] [--preemptions P]] [--shard I/N] [--verify] [--json]
  mmsim merge <shard files> [--json]
  mmsim shrink <scenario> --seed N [--budget RUNS] [--out FILE] [--cpus N] [--machine FILE] [--failslab ATTRS] [--fail-page-alloc ATTRS] [--lockdep] [--kmemleak] [--kasan] [--detect LIST] [--no-detect LIST] [--swarm] [--strategy random|pct|pb [--depth D] [--pct-steps K] [--preemptions P]] [--steps N] [--json]
  mmsim replay <schedule file> [--json]
  mmsim proc <${PROC_FILES.join("|")}> [--machine FILE]
  mmsim list`;

/**
 * The scenario module files a command line needs, for the launcher to import before main():
 * a file given to run or sweep, or the source recorded in a schedule given to replay.
 */
export function scenarioFiles(argv: readonly string[]): string[] {
  const [cmd, ...rest] = argv;
  const first = rest.find((a, i) => !a.startsWith("--") && (i === 0 || !/^--(seed|cpus|schedule|steps|seeds|jobs|trace-tail|trace|machine|proc|failslab|fail-page-alloc|strategy|depth|pct-steps|preemptions|budget|out|detect|no-detect)$/.test(rest[i - 1]!)));
  if (first === undefined) return [];
  if ((cmd === "run" || cmd === "sweep" || cmd === "shrink") && isScenarioPath(first) && existsSync(first)) return [first];
  if (cmd === "replay") {
    try {
      const source = (JSON.parse(readFileSync(first, "utf8")) as { source?: unknown }).source;
      if (typeof source === "string" && existsSync(source)) return [source];
    } catch {
      // main() reports an unreadable schedule.
    }
  }
  return [];
}

export function main(argv: readonly string[], io: Io): number | "pending" {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "run":
        return cmdRun(rest, io);
      case "replay":
        return cmdReplay(rest, io);
      case "shrink":
        return cmdShrink(rest, io);
      case "list":
        parseArgs("list", rest, {});
        io.out(listScenarios().join("\n"));
        return 0;
      case "sweep":
        return cmdSweep(rest, io);
      case "merge": {
        const p = parseArgs("merge", rest, { json: RUN_OPTIONS.json! });
        return cmdMerge(p.positional, p.options.has("json"), io);
      }
      case "proc":
        return cmdProc(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}" (accepted: run, sweep, merge, shrink, replay, proc, list, help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`mmsim: ${e.message}`);
      return 2;
    }
    if (e instanceof ScenarioError) {
      io.err(`mmsim: ${e.message}`);
      return 2;
    }
    if (e instanceof SimError) {
      io.err(`mmsim: simulator error (a bug in mmsim, please report it with this line): ${e.message}`);
      return 1;
    }
    throw e;
  }
}

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

function cmdRun(argv: readonly string[], io: Io): number {
  const p = parseArgs("run", argv, RUN_OPTIONS);
  if (p.positional.length > 1) throw new UsageError(`run takes one scenario, got ${p.positional.join(" ")}`);
  const ref = p.positional[0] ?? DEFAULT_SCENARIO;
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

function cmdReplay(argv: readonly string[], io: Io): number {
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

function cmdProc(argv: readonly string[], io: Io): number {
  const p = parseArgs("proc", argv, { machine: RUN_OPTIONS.machine!, cpus: RUN_OPTIONS.cpus! });
  const [file, ...extra] = p.positional;
  if (file === undefined || extra.length > 0 || !isProcFile(file)) {
    throw new UsageError(`proc takes one file name (accepted: ${PROC_FILES.join(", ")})${file !== undefined ? `, got "${[file, ...extra].join(" ")}"` : ""}`);
  }
  const given = machineOption(p)?.spec ?? {};
  const machine = { ...given, memory: given.memory ?? {} }; // memory fields over DEFAULT_MEMORY (i386, kernel 2.6, 128 MiB)
  const cpus = intOption(p, "cpus", 1, MAX_CPUS);
  io.out(procOfFreshMachine({ ...machine, ...(cpus !== undefined ? { cpus } : {}) }, file).replace(/\n$/, ""));
  return 0;
}


function cmdSweep(argv: readonly string[], io: Io): "pending" {
  const p = parseArgs("sweep", argv, {
    seeds: { value: true, help: "A..B" },
    jobs: { value: true, help: "worker threads" },
    shard: { value: true, help: "I/N: this machine's share of the seeds (0 <= I < N), as JSON lines for mmsim merge" },
    all: { value: false, help: "run every seed instead of stopping at the first failure" },
    cpus: RUN_OPTIONS.cpus!,
    machine: RUN_OPTIONS.machine!,
    verify: RUN_OPTIONS.verify!,
    json: RUN_OPTIONS.json!,
    failslab: RUN_OPTIONS.failslab!,
    "fail-page-alloc": RUN_OPTIONS["fail-page-alloc"]!,
    lockdep: RUN_OPTIONS.lockdep!,
    kmemleak: RUN_OPTIONS.kmemleak!,
    kasan: RUN_OPTIONS.kasan!,
    detect: RUN_OPTIONS.detect!,
    "no-detect": RUN_OPTIONS["no-detect"]!,
    swarm: RUN_OPTIONS.swarm!,
    strategy: RUN_OPTIONS.strategy!,
    depth: RUN_OPTIONS.depth!,
    "pct-steps": RUN_OPTIONS["pct-steps"]!,
    preemptions: RUN_OPTIONS.preemptions!,
  });
  if (p.positional.length !== 1) throw new UsageError("sweep takes one scenario");
  const ref = p.positional[0]!;
  const { scenario, source } = loadScenario(ref);
  const seedsArg = p.options.get("seeds");
  if (seedsArg === undefined) throw new UsageError("sweep needs --seeds A..B");
  const range = seedRange(seedsArg);
  const jobs = intOption(p, "jobs", 1, 64) ?? 1;
  const shardArg = p.options.get("shard");
  let shard: { index: number; count: number } | undefined;
  if (shardArg !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(shardArg);
    if (m === null || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 100000) throw new UsageError(`--shard must be I/N with 0 <= I < N <= 100000 (e.g. 0/4 ... 3/4), got "${shardArg}"`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  const cpus = intOption(p, "cpus", 1, MAX_CPUS);
  const machine = machineAndFaults(p);
  const swarm = swarmOption(p, scenario, cpus, machine.spec);
  const strategy = strategyOption(p, () => runScenario(scenario, { seed: range.from, cpus, machine: machine.spec, swarm }).steps);
  sweep(
    { ref: source ?? scenario.name, range, jobs, cpus, machine: machine.spec, swarm, strategy: strategy.spec, replayArgs: machine.args + (swarm ? " --swarm" : "") + strategy.args, verify: p.options.has("verify"), all: p.options.has("all"), json: p.options.has("json"), ...(shard !== undefined ? { shard } : {}) },
    io,
  );
  return "pending";
}
