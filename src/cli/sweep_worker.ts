// One sweep job: runs a seed and reduces the result to what the sweep prints. Used in-process
// for --jobs 1 and in each worker thread otherwise (booted by bin/sweep-worker.mjs, which imports
// a scenario file first when the job names one).
import { parentPort, workerData } from "node:worker_threads";
import { runScenario } from "../harness/run.ts";
import { loadScenario } from "./load.ts";
import type { MachineOverride, SwarmConfig } from "../harness/scenario.ts";
import type { StrategySpec } from "../sim/strategy.ts";

export interface SweepJob {
  /** Scenario name or file path. */
  readonly ref: string;
  readonly cpus: number | undefined;
  /** From --machine FILE and the fault options (plain JSON data, so it crosses to worker threads). */
  readonly machine?: MachineOverride;
  /** --strategy and its parameters (k resolved). */
  readonly strategy?: StrategySpec;
  readonly verify?: boolean;
  /** --swarm: each seed draws its machine from the scenario's swarm ranges. */
  readonly swarm?: boolean;
}

export interface SeedOutcome {
  readonly seed: number;
  /** Set when the run could not be made at all (bad scenario, simulator error). */
  readonly error?: { readonly name: string; readonly message: string };
  readonly failed: boolean;
  readonly traceHash: string;
  readonly steps: number;
  /** Report titles and failed expectations. */
  readonly problems: string[];
  /** The machine configuration the seed drew (--swarm). */
  readonly swarm?: SwarmConfig;
}

export function runSeed(job: SweepJob, seed: number): SeedOutcome {
  const { scenario } = loadScenario(job.ref);
  const r = runScenario(scenario, { seed, cpus: job.cpus, machine: job.machine, verify: job.verify, strategy: job.strategy, swarm: job.swarm });
  const problems = [...r.reports.map((x) => x.title), ...r.expectations];
  if (r.failed && problems.length === 0) problems.push(r.stop);
  return { seed, failed: r.failed, traceHash: r.traceHash, steps: r.steps, problems, ...(r.swarm !== undefined ? { swarm: r.swarm } : {}) };
}

/** Worker-thread side: answer each seed posted with its outcome. */
export function serveWorker(): void {
  const job = workerData as SweepJob;
  parentPort!.on("message", (seed: number) => {
    let outcome: SeedOutcome;
    try {
      outcome = runSeed(job, seed);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      outcome = { seed, error: { name: err.name, message: err.message }, failed: true, traceHash: "", steps: 0, problems: [] };
    }
    parentPort!.postMessage(outcome);
  });
}
