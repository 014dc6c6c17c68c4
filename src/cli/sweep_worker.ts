// One sweep job: runs a seed and reduces the result to what the sweep prints. Used in-process
// for --jobs 1, and in each worker thread otherwise: a worker (booted once by
// bin/sweep-worker.mjs, which imports the compiled simulator and the job's scenario) takes seed
// after seed from a counter it shares with the other workers, until the range is done or a
// failure below its next seed is known, and sends each outcome back as the seed ends.
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
  // A sweep reads a run's hash and reports, never its newest trace events: a ring of one.
  const r = runScenario(scenario, { seed, cpus: job.cpus, machine: job.machine, verify: job.verify, strategy: job.strategy, swarm: job.swarm, traceCapacity: 1 });
  const problems = [...r.reports.map((x) => x.title), ...r.expectations];
  if (r.failed && problems.length === 0) problems.push(r.stop);
  return { seed, failed: r.failed, traceHash: r.traceHash, steps: r.steps, problems, ...(r.swarm !== undefined ? { swarm: r.swarm } : {}) };
}

/**
 * The sweep's state shared by the parent and its workers (an Int32Array over a
 * SharedArrayBuffer). Seeds are numbered by index: seed = first + index * stride.
 */
export const SHARED = {
  /** The next index to run: a worker takes one with Atomics.add, so no seed runs twice and no worker waits for another. */
  NEXT: 0,
  /** The highest index that may still start: total - 1, then the lowest failing index (without --all), -1 to stop. */
  LIMIT: 1,
  /** RUNNING + slot: the index worker `slot` is running, -1 between seeds (the seed a crashed worker lost). */
  RUNNING: 2,
} as const;

/** What a worker thread is given. */
export interface WorkerSetup {
  readonly job: SweepJob;
  readonly first: number;
  readonly stride: number;
  readonly all: boolean;
  readonly slot: number;
  readonly shared: SharedArrayBuffer;
}

/** Lowers the shared limit to `index` unless it is lower already. */
function lowerLimit(shared: Int32Array, index: number): void {
  for (let cur = Atomics.load(shared, SHARED.LIMIT); index < cur; ) {
    const was = Atomics.compareExchange(shared, SHARED.LIMIT, cur, index);
    if (was === cur) return;
    cur = was;
  }
}

function errorOutcome(seed: number, e: unknown): SeedOutcome {
  const err = e instanceof Error ? e : new Error(String(e));
  return { seed, error: { name: err.name, message: err.message }, failed: true, traceHash: "", steps: 0, problems: [] };
}

/**
 * Worker-thread side: run seeds until none is left, then say "done". Each outcome is posted as
 * soon as its seed ends (a message is tens of microseconds against milliseconds a seed), so a
 * worker that dies loses only the seed it was running.
 */
export function serveWorker(): void {
  const w = workerData as WorkerSetup;
  const shared = new Int32Array(w.shared);
  for (;;) {
    const index = Atomics.add(shared, SHARED.NEXT, 1);
    // The limit starts at the last index and only comes down.
    if (index > Atomics.load(shared, SHARED.LIMIT)) break;
    Atomics.store(shared, SHARED.RUNNING + w.slot, index);
    const seed = w.first + index * w.stride;
    let o: SeedOutcome;
    try {
      o = runSeed(w.job, seed);
    } catch (e) {
      // The scenario cannot run at all: the parent says why and stops every worker.
      parentPort!.postMessage(errorOutcome(seed, e));
      break;
    }
    if (o.failed && !w.all) lowerLimit(shared, index);
    Atomics.store(shared, SHARED.RUNNING + w.slot, -1);
    parentPort!.postMessage(o);
  }
  Atomics.store(shared, SHARED.RUNNING + w.slot, -1);
  parentPort!.postMessage("done");
}
