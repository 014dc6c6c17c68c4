// Test helpers: run a scenario defined inline.
import { defineScenario, type MachineSpec, type Scenario } from "../src/harness/scenario.ts";
import { runScenario, type RunOptions, type RunResult } from "../src/harness/run.ts";

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
