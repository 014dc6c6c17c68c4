// The options run, sweep and shrink share: the machine (--cpus, --machine FILE, fault
// injection, detectors), --swarm, --strategy and --proc, each parsed once, with the text a
// replay command repeats.
import { readFileSync } from "node:fs";
import { checkSwarm } from "../harness/run.ts";
import { PROC_FILES, isProcFile, type ProcFile } from "../harness/proc.ts";
import { parseMachineFile } from "../harness/machine_file.ts";
import type { MachineOverride, Scenario } from "../harness/scenario.ts";
import type { MachineSpecJson } from "../sim/schedule.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import type { StrategySpec } from "../sim/strategy.ts";
import { merge_fault_injection, parse_fault_option, type FaultInjectionSpec, type FaultSpec } from "../kernel/fault_inject.ts";
import { UsageError, intOption, type OptionSpec, type Parsed } from "./args.ts";
import { swarmScenarios } from "./load.ts";

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  seed: { value: true, help: "a 32-bit integer or a string" },
  scenario: { value: true, help: "which scenario of a file that holds several (or FILE#NAME)" },
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
  detect: { value: true, help: "detectors to turn on: lockdep, kmemleak, kasan, might_sleep, spinlock, list, preempt, watchdog, hung_task" },
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
  list: ["debug_list", true, false],
  preempt: ["debug_preempt", true, false],
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
export function machineOption(p: Parsed): { spec: MachineOverride; raw: MachineSpecJson } | undefined {
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
    const some = swarmScenarios();
    throw new UsageError(`--swarm: scenario ${scenario.name} declares no swarm ranges (a scenario's swarm: { cpus: [min, max], ... }; shipped ones that do: ${some.join(", ") || "none"})`);
  }
  checkSwarm(scenario, { seed: 1, cpus, machine });
  return true;
}

export function procOption(p: Parsed): ProcFile[] {
  const f = p.options.get("proc");
  if (f === undefined) return [];
  if (!isProcFile(f)) throw new UsageError(`--proc must be one of ${PROC_FILES.join(", ")}, got "${f}"`);
  return [f];
}
