// Runs one scenario on one seed: builds the engine, the machine and the kernel, boots, calls the
// scenario's setup, runs to the end and collects the result. Everything that varies comes from
// the seed's labelled streams (or from a recording of them, which replays the run exactly).
import { detectors_init, type Detector } from "../kernel/detector.ts";
import "../sim/effect_check.ts";
import { lockdep_init } from "../kernel/locking/lockdep.ts";
import { kmemleak_add_root, kmemleak_scan } from "../kernel/mm/kmemleak.ts";
import { kmemleak_init } from "../kernel/mm/kmemleak.ts";
import { kasan_init, kasan_init_vmalloc } from "../kernel/mm/kasan.ts";
import { check_fault_injection, fault_injection_init, merge_fault_injection } from "../kernel/fault_inject.ts";
import { Engine, type StopReason } from "../sim/engine.ts";
import { Streams, type Recording, type Seed } from "../sim/rng.ts";
import { make_strategy, type CustomStrategy, type StrategySpec } from "../sim/strategy.ts";
import { RecordingStrategy, ScriptedStrategy, script_of, type Script } from "../sim/script.ts";
import { DecisionLabeller, type LabelledDecision } from "./decisions.ts";
import { TraceLog, type TraceEvent, type TraceRecord } from "../sim/trace.ts";
import { TP_BUG_REPORT } from "../kernel/trace.ts";
import { ScenarioError, SimError } from "../sim/errors.ts";
import { Machine } from "../hw/machine.ts";
import { DEFAULT_KERNEL_CONFIG, type KernelConfig } from "../kernel/config.ts";
import { start_kernel } from "../kernel/init.ts";
import { set_running_kernel, type Kernel } from "../kernel/kernel.ts";
import { catch_up } from "../kernel/entry.ts";
import { format_log_line } from "../kernel/printk.ts";
import type { BugReport } from "../kernel/report.ts";
import { irq_set_affinity } from "../kernel/irq/irqdesc.ts";
import { mem_init } from "../kernel/mm/page_alloc.ts";
import { DEFAULT_TLB } from "../hw/mmu/tlb.ts";
import { CACHE_COST_KEYS, DEFAULT_CACHE, DEFAULT_CACHE_COSTS, type CacheCosts } from "../hw/mmu/cache.ts";
import { COST_KEYS, DEFAULT_COSTS, type Costs } from "../hw/costs.ts";
import { verify_interval, verify_mm, verify_mm_quick } from "./checkers.ts";
import type { Scenario, MachineSpec, MachineOverride, Expect, SwarmConfig } from "./scenario.ts";
import { apply_swarm, check_swarm, draw_swarm, without_overridden } from "./swarm.ts";
import type { MemorySpec } from "../kernel/mm/mmzone.ts";
import { collect_stats, type RunStats } from "./stats.ts";
import { read_proc, type ProcFile } from "./proc.ts";

/** How to run a scenario (runScenario): the seed (required), and optional overrides of the machine, the strategy, the limits and what to record. */
export interface RunOptions {
  readonly seed: Seed;
  /** Overrides the scenario's CPU count. */
  readonly cpus?: number;
  /** Overrides the scenario's machine (from --machine FILE; memory fields lie over the scenario's). */
  readonly machine?: MachineOverride;
  /** /proc files to read at the end of the run (RunResult.proc). */
  readonly proc?: readonly ProcFile[];
  /** Replays these recorded draws instead of drawing from the seed. */
  readonly replay?: Recording;
  readonly stepLimit?: number;
  readonly timeLimitMs?: number;
  readonly traceCapacity?: number;
  /** Verify mode: whole-state checkers after every step (pages conserved, free lists agree). */
  readonly verify?: boolean;
  /** The scheduling strategy (default: the seeded random walk): a built-in one's spec, or a strategy of your own (defineStrategy). */
  readonly strategy?: StrategySpec | CustomStrategy;
  /** Detectors to run besides the scenario's own (defineDetector). */
  readonly detectors?: readonly Detector[];
  /** Keep every trace event of the run (RunResult.traceAll), for a trace file. */
  readonly traceAll?: boolean;
  /**
   * Runs these scheduling decisions and device events (src/sim/script.ts) instead of the
   * strategy's and the devices' draws; the other streams come from `replay`, and one that runs
   * out serves a fixed value (no injected fault, the shortest disk latency).
   */
  readonly script?: Script;
  /**
   * Record the run's decisions: true keeps them all (RunResult.script, .delayTimes) besides the
   * labels (.decisions, at most 10,000) and .reportSteps; "labels" keeps only those (bounded
   * memory for a long run).
   */
  readonly record?: boolean | "labels";
  /**
   * Swarm mode: true draws this seed's machine from the scenario's `swarm` ranges (its "swarm"
   * stream, before boot); a configuration (from a schedule) is used as drawn. Either lies over
   * the scenario's machine; `machine` and `cpus` lie over it.
   */
  readonly swarm?: boolean | SwarmConfig;
}

/**
 * What a run gives: how it ended (`stop`), the reports and failed expectations, whether it
 * `failed`, the log, statistics, the trace hash and newest trace events, the recording that
 * replays it, and what RunOptions asked for (/proc files, every trace event, the script).
 */
export interface RunResult {
  readonly scenario: string;
  readonly seed: Seed;
  readonly cpus: number;
  readonly traceHash: string;
  readonly steps: number;
  readonly virtualTimeNs: number;
  /** How the run ended: "done", "stopped: ...", "step-limit", "time-limit". */
  readonly stop: string;
  readonly reports: readonly BugReport[];
  readonly expectations: readonly string[];
  readonly log: readonly string[];
  readonly stats: RunStats;
  /** The /proc files asked for, read at the end of the run. */
  readonly proc: Readonly<Record<string, string>>;
  /**
   * The newest trace events (the engine's bounded ring), oldest first, and how many there were
   * in all. Formatted when first read.
   */
  readonly trace: readonly TraceRecord[];
  readonly traceEvents: number;
  /** Every trace event, oldest first, when RunOptions.traceAll asked for them (formatted when first read). */
  readonly traceAll?: readonly TraceRecord[];
  /** Every stream's draws, compactly (a seeded stream: its generator state and draw count). */
  readonly recording: Recording;
  /** With RunOptions.record: the run as a script, its decisions labelled, and the step count at each report. */
  readonly script?: Script;
  readonly decisions?: readonly LabelledDecision[];
  readonly reportSteps?: readonly number[];
  /** The virtual time of each of the script's delays. */
  readonly delayTimes?: readonly number[];
  /** The swarm configuration the run drew (or was given), less what the command line set. */
  readonly swarm?: SwarmConfig;
  /** A report, a failed expectation, or a run that hit a limit. */
  readonly failed: boolean;
}

/** The steps a run may take (RunOptions.stepLimit's default); a run that has not ended by then stops with "step-limit" and fails. */
export const DEFAULT_STEP_LIMIT = 5_000_000;
/** The virtual time a run may take, in ms (RunOptions.timeLimitMs's default, 10 minutes); a run past it stops with "time-limit" and fails. */
export const DEFAULT_TIME_LIMIT_MS = 600_000;

function kernel_config(m: MachineSpec): KernelConfig {
  return {
    hz: m.hz ?? DEFAULT_KERNEL_CONFIG.hz,
    preempt: m.preempt ?? DEFAULT_KERNEL_CONFIG.preempt,
    debug_spinlock: m.debug_spinlock ?? DEFAULT_KERNEL_CONFIG.debug_spinlock,
    debug_atomic_sleep: m.debug_atomic_sleep ?? DEFAULT_KERNEL_CONFIG.debug_atomic_sleep,
    debug_list: m.debug_list ?? DEFAULT_KERNEL_CONFIG.debug_list,
    debug_preempt: m.debug_preempt ?? DEFAULT_KERNEL_CONFIG.debug_preempt,
    watchdog: m.watchdog ?? DEFAULT_KERNEL_CONFIG.watchdog,
    timeslice_ms: m.timeslice_ms ?? DEFAULT_KERNEL_CONFIG.timeslice_ms,
    watchdog_thresh: m.watchdog_thresh ?? DEFAULT_KERNEL_CONFIG.watchdog_thresh,
    hung_task_timeout_secs: m.hung_task_timeout_secs ?? DEFAULT_KERNEL_CONFIG.hung_task_timeout_secs,
    era: m.memory?.kernel ?? DEFAULT_KERNEL_CONFIG.era,
    lock_words: m.mmu?.detail === "locks" || m.mmu?.detail === "all",
    page_touches: m.mmu?.detail === "all",
  };
}

/** Without `cpus`, a rotating line goes to every CPU ([] = all), a fixed one to CPU0. */
const default_cpus = (d: { delivery?: string }): number[] => (d.delivery === "round-robin" ? [] : [0]);

function add_devices(k: Kernel, m: MachineSpec): void {
  for (const n of m.nics ?? []) {
    k.machine.addNic(n);
    irq_set_affinity(n.irq, n.cpus ?? default_cpus(n), n.delivery === "round-robin");
  }
  for (const d of m.disks ?? []) {
    k.machine.addDisk(d);
    irq_set_affinity(d.irq, d.cpus ?? default_cpus(d), d.delivery === "round-robin");
  }
}

function stop_text(s: StopReason): string {
  switch (s.kind) {
    case "done":
      return "done";
    case "stopped":
      return `stopped: ${s.why}`;
    case "step-limit":
      return `step-limit: the run took ${s.limit} steps without finishing`;
    case "time-limit":
      return `time-limit: the run reached ${s.limitNs / 1e9} s of virtual time without finishing`;
    case "error":
      return "error";
  }
}

/** The `costs` overrides, checked: hardware operation costs and cache costs. */
function machine_costs(c: Readonly<Record<string, number>> | undefined): { costs?: Costs; cache_costs?: CacheCosts } {
  if (c === undefined) return {};
  const hw: Record<string, number> = { ...DEFAULT_COSTS };
  const cache: Record<string, number> = { ...DEFAULT_CACHE_COSTS };
  for (const [key, v] of Object.entries(c)) {
    const field = COST_KEYS[key] ?? CACHE_COST_KEYS[key];
    if (field === undefined) throw new ScenarioError(`costs: unknown field "${key}" (accepted: ${[...Object.keys(COST_KEYS), ...Object.keys(CACHE_COST_KEYS)].join(", ")})`);
    if (!Number.isInteger(v) || v < 0 || v > 1e9) throw new ScenarioError(`costs.${key} must be a whole number of ns from 0 to 1000000000, got ${JSON.stringify(v)}`);
    if (key in COST_KEYS) hw[field] = v;
    else cache[field] = v;
  }
  return { costs: hw as unknown as Costs, cache_costs: cache as unknown as CacheCosts };
}

/** Every trace event of runs that asked for them (RunOptions.traceAll), by engine. */
const traced = new WeakMap<Engine, TraceLog>();
/** What a recorded run (RunOptions.record) keeps, by engine. */
const recorded = new WeakMap<Engine, { strategy: RecordingStrategy; labeller: DecisionLabeller; reportSteps: number[]; arrivals: Record<string, number[]> | null }>();

/** A stream of a scripted run that runs out of recorded draws: no injected fault; 0 elsewhere (the shortest disk latency). */
const script_fallback = (label: string): number => (label === "fault" ? 1 - 2 ** -40 : 0);

/** Builds the engine, the machine and the kernel for `spec`, and boots (memory included). */
function boot(spec: MachineSpec, opts: RunOptions, streams: Streams, scn?: Scenario<unknown>): { k: Kernel; streams: Streams } {
  const scripted = opts.script !== undefined;
  const base = scripted ? new ScriptedStrategy(opts.script!) : make_strategy(opts.strategy, streams.stream("sched"));
  let labeller: DecisionLabeller | null = null;
  const strategy = opts.record !== undefined && opts.record !== false ? new RecordingStrategy(base, (d) => labeller?.decision(d), opts.record === true) : base;
  const engine = new Engine(strategy, {
    stepLimit: opts.stepLimit ?? DEFAULT_STEP_LIMIT,
    timeLimitNs: (opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS) * 1e6,
    traceCapacity: opts.traceCapacity,
  });
  engine.checkLanes = opts.verify === true;
  const log = opts.traceAll === true ? new TraceLog() : null;
  if (log !== null) traced.set(engine, log);
  const machine = new Machine(engine, streams, {
    cpus: spec.cpus!,
    tlb: { ...DEFAULT_TLB, ...spec.mmu?.tlb },
    cache: { ...DEFAULT_CACHE, ...spec.mmu?.cache },
    ...machine_costs(spec.costs),
    ...(scripted ? { arrivals: opts.script!.arrivals } : {}),
  });
  const k = start_kernel(engine, machine, kernel_config(spec));
  try {
    if (spec.lockdep === true) lockdep_init(k);
    if (spec.kmemleak === true) kmemleak_init(k);
    fault_injection_init(k, spec.fault_injection === undefined ? undefined : check_fault_injection(spec.fault_injection), streams.stream("fault"));
    add_devices(k, spec);
    for (const d of scn?.devices ?? []) {
      k.machine.addDevice(d);
      irq_set_affinity(d.irq, d.cpus ?? default_cpus(d), d.delivery === "round-robin");
    }
    detectors_init(k, [...(scn?.detectors ?? []), ...(opts.detectors ?? [])]);
    if (spec.kasan === true) kasan_init(k, spec.memory);
    if (spec.memory !== undefined) mem_init(k, spec.memory);
    if (spec.kasan === true) kasan_init_vmalloc(k);
  } catch (e) {
    set_running_kernel(null);
    throw e;
  }
  if (strategy instanceof RecordingStrategy) {
    // The context an interrupt interrupted sits just below the interrupt's on the CPU's stack.
    const holding = (cpu: number): string[] => k.percpu[cpu]!.stack.at(-2)?.held.map((l) => l.name) ?? [];
    const l = new DecisionLabeller(engine.trace, machine.nics.map((n) => ({ irq: n.config.irq, name: n.config.name })), holding);
    labeller = l;
    const reportSteps: number[] = [];
    const arrivals: Record<string, number[]> | null = opts.record === true ? {} : null;
    machine.nics.forEach((n, i) => {
      const log: number[] | null = arrivals !== null ? (arrivals[`nic/${n.config.name}`] = []) : null;
      n.onArrival = (t) => {
        log?.push(t);
        l.arrival(i, t);
      };
    });
    recorded.set(engine, { strategy, labeller: l, reportSteps, arrivals });
    engine.trace.sink = (e: TraceEvent) => {
      log?.push(e);
      if (e.type === TP_BUG_REPORT) reportSteps.push(engine.steps);
      l.event(e);
    };
  } else if (log !== null) engine.trace.sink = (e) => log.push(e);
  return { k, streams };
}

/** The memory a machine file describes without a scenario's to lay over: i386, kernel 2.6, 128 MiB. */
export const DEFAULT_MEMORY: MemorySpec = { arch: "i386", kernel: "2.6", mb: 128 };

/**
 * The scenario's memory with a machine file's fields over it. A file giving the layout (mb,
 * zones or nodes) replaces the scenario's layout whole.
 */
function merge_memory(base: MemorySpec | undefined, o: Partial<MemorySpec> | undefined): MemorySpec | undefined {
  if (o === undefined) return base;
  const b: Partial<MemorySpec> = { ...(base ?? DEFAULT_MEMORY) };
  if (o.mb !== undefined || o.zones !== undefined || o.nodes !== undefined) {
    delete (b as { mb?: number }).mb;
    delete (b as { zones?: unknown }).zones;
    delete (b as { nodes?: number }).nodes;
  }
  return { ...b, ...o } as MemorySpec;
}

/** The scenario's machine with the command line's overrides (--cpus, --machine FILE). */
function machine_spec(scn: Scenario<unknown> | undefined, opts: RunOptions, swarm?: SwarmConfig): MachineSpec {
  const base: MachineSpec = swarm !== undefined ? apply_swarm(scn?.machine ?? {}, swarm) : (scn?.machine ?? {});
  const { memory: over, ...rest } = opts.machine ?? {};
  const memory = merge_memory(base.memory, over);
  const fault_injection = merge_fault_injection(base.fault_injection, rest.fault_injection);
  const m: MachineSpec = { ...base, ...rest, ...(memory !== undefined ? { memory } : {}), ...(fault_injection !== undefined ? { fault_injection } : {}) };
  return { ...m, cpus: opts.cpus ?? m.cpus ?? 2 };
}

/**
 * The run's machine: the scenario's, with a swarm configuration over it (drawn from the seed's
 * "swarm" stream before anything else draws, or given), then --machine FILE and --cpus.
 */
function run_machine(scn: Scenario<unknown>, opts: RunOptions, streams: Streams): { spec: MachineSpec; swarm?: SwarmConfig } {
  if (opts.swarm === undefined || opts.swarm === false) return { spec: machine_spec(scn, opts) };
  let drawn: SwarmConfig;
  if (opts.swarm === true) {
    if (scn.swarm === undefined) throw new ScenarioError(`declares no swarm ranges (machine fields to vary: swarm: { cpus: [min, max], ... })`);
    const plain = machine_spec(scn, opts);
    check_swarm(scn.swarm, plain);
    drawn = draw_swarm(scn.swarm, plain, streams.stream("swarm"));
  } else drawn = opts.swarm;
  const swarm = without_overridden(drawn, opts.cpus, opts.machine);
  return { spec: machine_spec(scn, opts, swarm), swarm };
}

/** Checks a scenario's swarm ranges for a run with these options, without running (the CLI's early check). */
export function checkSwarm(scn: Scenario<unknown>, opts: RunOptions): void {
  try {
    run_machine(scn, { ...opts, swarm: true }, new Streams(opts.seed));
  } catch (e) {
    throw classify(e, scn.name, opts.seed);
  }
}

/**
 * Runs `scn` once on `opts.seed`: builds the machine and boots the kernel, calls setup, runs until
 * every scenario task has exited (or for duration_ms) and, if the machine got there, calls check;
 * the same options give the same run. A failing run is a result with `failed` set; bad input (the
 * scenario, its machine, an exception from its code) throws a ScenarioError, a fault of the
 * simulator's own a SimError.
 */
export function runScenario<S>(scn: Scenario<S>, opts: RunOptions): RunResult {
  const scripted = opts.script !== undefined;
  const streams = new Streams(opts.seed, scripted ? (opts.replay ?? {}) : opts.replay, scripted ? script_fallback : undefined);
  let booted: { k: Kernel; streams: Streams };
  let spec: MachineSpec;
  let swarm: SwarmConfig | undefined;
  try {
    ({ spec, swarm } = run_machine(scn as Scenario<unknown>, opts, streams));
    booted = boot(spec, opts, streams, scn as Scenario<unknown>);
  } catch (e) {
    throw classify(e, scn.name, opts.seed);
  }
  try {
    return run_booted(scn, opts, spec, booted.k, booted.streams, swarm);
  } catch (e) {
    throw classify(e, scn.name, opts.seed);
  } finally {
    set_running_kernel(null);
  }
}

/** A /proc file of a freshly booted machine (`mmsim proc`). */
export function procOfFreshMachine(machine: MachineOverride, file: ProcFile): string {
  const spec = machine_spec(undefined, { seed: 0, machine });
  const { k } = boot(spec, { seed: 0 }, new Streams(0));
  try {
    return read_proc(k, file);
  } finally {
    set_running_kernel(null);
  }
}

/** A simulator error keeps its class and gains the seed; anything scenario code threw is bad input. */
function classify(e: unknown, name: string, seed: Seed): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  // By name: a scenario loaded as a second copy of the modules throws its copy's classes.
  if (err.name === "ScenarioError") return new ScenarioError(`scenario ${name}: ${err.message}`);
  if (err.name === "SimError") return new SimError(`${err.message} (scenario ${name}, seed ${String(seed)})`);
  const where = (err.stack ?? "")
    .split("\n")
    .find((l) => /^\s+at /.test(l) && !l.includes("node_modules") && !/[/\\]src[/\\]/.test(l) && !l.includes("node:"));
  return new ScenarioError(`scenario ${name} threw ${err.name}: ${err.message}${where !== undefined ? ` (${where.trim()})` : ""}`);
}

function run_booted<S>(scn: Scenario<S>, opts: RunOptions, spec: MachineSpec, k: Kernel, streams: Streams, swarm: SwarmConfig | undefined): RunResult {
  const { engine, machine } = k;
  const state = scn.setup();
  kmemleak_add_root(k, state);
  if (scn.duration_ms !== undefined) {
    if (!(scn.duration_ms > 0)) throw new ScenarioError(`duration_ms must be a positive number of virtual ms, got ${scn.duration_ms}`);
    k.stop_on_last_exit = false;
    engine.at(scn.duration_ms * 1e6, 9, "duration", () => engine.stop({ kind: "done" }));
  } else if (k.live === 0) {
    throw new ScenarioError(`setup started no task and gave no duration_ms, so the run has no end`);
  }
  for (const n of machine.nics) n.start();
  for (const d of machine.devices.values()) d.start();
  const mm = k.mm;
  if (opts.verify && mm !== null) {
    const every = verify_interval(mm);
    let n = 0;
    engine.afterStep = () => {
      verify_mm_quick(mm);
      if (++n >= every) {
        n = 0;
        verify_mm(mm);
      }
    };
  }
  const stop = engine.run();
  if (opts.verify && mm !== null && stop.kind !== "error") verify_mm(mm);
  if (stop.kind === "error") throw stop.error;
  // kmemleak's scan of a finished run (a stopped machine's objects say nothing), and the scenario's detectors' end.
  if (stop.kind === "done") kmemleak_scan(k, machine.disks.map((d) => d.tags()));
  if (stop.kind === "done") k.detectors?.end();
  const end = Math.max(engine.now, k.halted_at, ...machine.cpus.map((c) => c.clock));
  for (const pc of k.percpu) catch_up(pc, end);
  const expectations: string[] = [];
  // A run the machine did not finish (lockup, panic, limit) has its reports; its end state says nothing.
  if (scn.check !== undefined && stop.kind === "done") scn.check(state, make_expect(expectations));
  const stopText = stop_text(stop);
  const limit = stop.kind === "step-limit" || stop.kind === "time-limit";
  if (limit) k.printk(`mmsim: ${stopText}`);
  const result: Omit<RunResult, "trace"> = {
    scenario: scn.name,
    seed: opts.seed,
    cpus: spec.cpus!,
    traceHash: engine.trace.hash(),
    steps: engine.steps,
    virtualTimeNs: end,
    stop: stopText,
    reports: k.reports,
    expectations,
    log: k.log.lines.map(format_log_line),
    stats: collect_stats(k),
    proc: Object.fromEntries((opts.proc ?? []).map((f) => [f, read_proc(k, f)])),
    traceEvents: engine.trace.count,
    ...recorded_result(engine, end),
    recording: streams.recording(),
    ...(swarm !== undefined ? { swarm } : {}),
    failed: k.reports.some((r) => !(scn.expected_reports ?? []).includes(r.kind)) || expectations.length > 0 || limit,
  };
  // The trace as text only when something reads it; the result keeps the trace (its ring and
  // strings), not the engine, kernel and memory the trace's listener could reach.
  const tr = engine.trace;
  tr.sink = null;
  lazy(result, "trace", () => tr.recent());
  const log = traced.get(engine);
  if (log !== undefined) lazy(result, "traceAll", () => log.records(tr));
  return result as RunResult;
}

/** Defines `key` on `o` as a value computed the first time it is read. */
function lazy<T>(o: object, key: string, f: () => T): void {
  let v: T | undefined;
  Object.defineProperty(o, key, { enumerable: true, configurable: true, get: () => (v ??= f()) });
}

/** A recorded run's script, labelled decisions and report steps. */
function recorded_result(engine: Engine, end: number): Pick<RunResult, "script" | "decisions" | "reportSteps" | "delayTimes"> {
  const rec = recorded.get(engine);
  if (rec === undefined) return {};
  rec.labeller.finish(end);
  const labels = { decisions: rec.labeller.labelled, reportSteps: rec.reportSteps };
  if (rec.arrivals === null) return labels;
  const delayTimes = rec.strategy.decisions.filter((d) => d.kind === "delay").map((d) => d.time);
  return { ...labels, script: script_of(rec.strategy.decisions, rec.arrivals, end), delayTimes };
}

function make_expect(out: string[]): Expect {
  return {
    that(cond, message) {
      if (!cond) out.push(message);
    },
    equal(actual, expected, what) {
      if (actual !== expected) out.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
    },
  };
}
