// Test helpers: run a scenario defined inline.
import { defineScenario, type MachineSpec, type Scenario } from "../src/harness/scenario.ts";
import { runScenario, type RunOptions, type RunResult } from "../src/harness/run.ts";
import type * as Effect from "effect/Effect";
import { kthread_run } from "../src/kernel/index.ts";

export function inline<S>(setup: () => S, machine: MachineSpec = { cpus: 2 }, extra: Partial<Scenario<S>> = {}): Scenario<S> {
  return defineScenario({ name: "inline", description: "test", machine, setup, ...extra });
}

export function run<S>(scn: Scenario<S>, opts: Partial<RunOptions> = {}): RunResult {
  return runScenario(scn, { seed: 1, ...opts });
}

/** The report lines of kind `kind`, as printed (without log timestamps). */
export function reportText(r: RunResult, kind: string): string[] {
  return r.reports.filter((x) => x.kind === kind).map((x) => x.text);
}

/** Runs `body` as the only scenario task, "t" (pid 3 on 2 CPUs, pid 2 on 1), on `machine`. */
export function inTask(body: () => Effect.Effect<unknown>, machine: MachineSpec = { cpus: 2 }, opts: Partial<RunOptions> = {}): RunResult {
  return run(inline(() => void kthread_run((_: null) => body(), null, "t"), machine), opts);
}
