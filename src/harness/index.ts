// mmsim/harness: scenarios and runs (defining, running, shrinking, exporting a timeline), without
// the kernel API (mmsim/kernel) that scenario code calls.
import "../sim/effect_check.ts";
export { defineScenario, type Scenario, type Expect, type MachineSpec, type MachineOverride, type MmuSpec, type NicSpec, type DiskSpec, type SwarmSpec, type SwarmConfig, type SwarmRange, type SwarmNumber, type SwarmSwitch } from "./scenario.ts";
export { runScenario, procOfFreshMachine, DEFAULT_STEP_LIMIT, DEFAULT_TIME_LIMIT_MS, DEFAULT_MEMORY, type RunOptions, type RunResult } from "./run.ts";
export { shrink, failure_kinds, type ShrinkResult, type Measures } from "./shrink.ts";
export { chrome_trace } from "./perfetto.ts";
export type { RunStats, CpuStats, LockStats, MemStats } from "./stats.ts";
export type { LabelledDecision } from "./decisions.ts";
export type { BugReport, ReportKind, BuiltinReportKind, DetectorName } from "../kernel/report.ts";
export type { Seed, Recording } from "../sim/rng.ts";
export { defineStrategy, type StrategySpec, type CustomStrategy, type Strategy, type StrategyLane } from "../sim/strategy.ts";
export type { Rng } from "../sim/rng.ts";
export { defineDetector, type Detector, type DetectorHooks, type DetectorContext, type LockEvent, type AllocEvent, type FreeEvent, type AccessEvent, type ContextEvent } from "../kernel/detector.ts";
export { defineDevice, type DeviceSpec, type DeviceApi } from "../hw/devices/device.ts";
export type { Script } from "../sim/script.ts";
