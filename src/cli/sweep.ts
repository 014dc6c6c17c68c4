// `mmsim sweep`: runs a seed range, in this thread for --jobs 1 and on worker threads otherwise.
// Without --all it stops at the first failing seed: the lowest failing seed of the range,
// whatever the number of jobs (seeds start in increasing order, and once a seed fails no seed
// above it starts).
//
// Workers boot once (bin/sweep-worker.mjs: the compiled simulator and the job's scenario) and
// then take seeds themselves from a counter in shared memory (sweep_worker.ts), one at a time:
// a batch of one seed that costs no message, so no worker waits for the parent between seeds
// and none is left idle at the end while another still holds a batch, and a failure lowers the
// shared limit at once for every worker. Each outcome comes back as its seed ends; this thread
// only puts them in seed order, prints them (and the progress line on a terminal) and waits, so
// the workers have the cores.
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import type { Io } from "./io.ts";
import { SHARED, runSeed, type SeedOutcome, type SweepJob, type WorkerSetup } from "./sweep_worker.ts";
import { report, SHARD_VERSION, type ShardHeader } from "./report.ts";
import { runScenario } from "../harness/run.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import { UsageError, intOption, parseArgs, seedRange } from "./args.ts";
import { loadScenario, withScenarioName } from "./load.ts";
import { RUN_OPTIONS, machineAndFaults, strategyOption, swarmOption } from "./options.ts";
import { ROOT } from "./paths.ts";

export interface SweepOptions extends SweepJob {
  readonly range: { readonly from: number; readonly to: number };
  readonly jobs: number;
  readonly all: boolean;
  readonly json: boolean;
  /** --machine FILE and fault options, to repeat in the replay command. */
  readonly replayArgs: string;
  /** --shard I/N: this process runs the seeds from + I, from + I + N, ... and writes JSON lines for `mmsim merge`. */
  readonly shard?: { readonly index: number; readonly count: number };
}

const WORKER_BOOT = join(ROOT, "bin", "sweep-worker.mjs");

export function sweep(opts: SweepOptions, io: Io): void {
  const stride = opts.shard?.count ?? 1;
  const first = opts.range.from + (opts.shard?.index ?? 0);
  const total = first > opts.range.to ? 0 : Math.floor((opts.range.to - first) / stride) + 1;
  const failing: SeedOutcome[] = [];
  let done = 0;
  const tty = process.stderr.isTTY === true && !opts.json;

  const replayArgs = (opts.cpus !== undefined ? ` --cpus ${opts.cpus}` : "") + opts.replayArgs;
  if (opts.shard !== undefined) {
    const header: ShardHeader = { format: "mmsim-shard", version: SHARD_VERSION, scenario: opts.ref, seeds: opts.range, shard: opts.shard, all: opts.all, replayArgs };
    io.out(JSON.stringify(header));
  }
  const record = (o: SeedOutcome): void => {
    done++;
    if (opts.shard !== undefined) io.out(JSON.stringify(o));
    if (o.failed) failing.push(o);
  };
  const progress = (): void => {
    if (tty) io.err(`\rsweep ${opts.ref}: ${done}/${total} seeds, ${failing.length} failing`);
  };
  const finish = (crashed: boolean): void => {
    if (tty) io.err("\n");
    failing.sort((a, b) => a.seed - b.seed);
    const shown = opts.all ? failing : failing.slice(0, 1);
    if (opts.shard !== undefined) io.out(JSON.stringify({ done: true, ran: done }));
    else report({ ref: opts.ref, range: opts.range, all: opts.all, json: opts.json, replayArgs }, shown, done, io);
    if (crashed) io.err(`mmsim: sweep incomplete: a worker thread crashed; ${total - done} of ${total} seeds did not run`);
    io.exit(failing.length > 0 || crashed ? 1 : 0);
  };

  if (opts.jobs <= 1 || total === 0) {
    for (let i = 0; i < total; i++) {
      const o = runSeed(opts, first + i * stride);
      record(o);
      progress();
      if (o.failed && !opts.all) break;
    }
    finish(false);
    return;
  }
  inWorkers(opts, { first, stride, total }, io, { record, progress, finish });
}

interface Sink {
  record(o: SeedOutcome): void;
  progress(): void;
  finish(crashed: boolean): void;
}

/** --jobs N > 1: N warm workers over one shared counter; outcomes recorded in seed order. */
function inWorkers(opts: SweepOptions, range: { first: number; stride: number; total: number }, io: Io, sink: Sink): void {
  const jobs = Math.min(opts.jobs, range.total);
  const shared = new Int32Array(new SharedArrayBuffer(4 * (SHARED.RUNNING + jobs)));
  shared[SHARED.LIMIT] = range.total - 1;
  shared.fill(-1, SHARED.RUNNING);
  // Outcomes (null: a seed a crashed worker lost) wait here until every seed before theirs is in.
  // Without --all, the first failing seed in seed order ends the record: a seed above it that
  // another worker had already started is not counted, so the result is --jobs 1's.
  const arrived = new Map<number, SeedOutcome | null>();
  let nextIndex = 0;
  let closed = false;
  const record = (o: SeedOutcome): void => {
    if (closed) return;
    sink.record(o);
    if (o.failed && !opts.all) closed = true;
  };
  const drain = (): void => {
    for (let o = arrived.get(nextIndex); o !== undefined; o = arrived.get(nextIndex)) {
      arrived.delete(nextIndex++);
      if (o !== null) record(o);
    }
  };
  const arrive = (index: number, o: SeedOutcome | null): void => {
    arrived.set(index, o);
    drain();
  };
  let live = 0;
  let aborted = false;
  let crashed = false;
  const workers: Worker[] = [];
  const stop = (): void => {
    Atomics.store(shared, SHARED.LIMIT, -1);
    for (const w of workers) void w.terminate();
  };
  for (let slot = 0; slot < jobs; slot++) {
    const job: SweepJob = { ref: opts.ref, cpus: opts.cpus, machine: opts.machine, strategy: opts.strategy, verify: opts.verify, swarm: opts.swarm };
    const setup: WorkerSetup = { job, ...range, all: opts.all, slot, shared: shared.buffer as SharedArrayBuffer };
    const w = new Worker(WORKER_BOOT, { workerData: setup });
    workers.push(w);
    live++;
    let ended = false;
    // A crash: the seed it was running did not run (the others go on with the rest).
    const lost = (): void => {
      crashed = true;
      const index = Atomics.exchange(shared, SHARED.RUNNING + slot, -1);
      if (index >= 0) arrive(index, null);
    };
    w.on("message", (m: SeedOutcome | "done") => {
      if (aborted) return;
      if (m === "done") {
        ended = true;
        void w.terminate();
      } else if (m.error !== undefined) {
        // The scenario cannot run at all: say why once and stop every worker.
        io.err(`mmsim: ${m.error.name === "SimError" ? "simulator error: " : ""}${m.error.message}`);
        aborted = true;
        io.exit(m.error.name === "ScenarioError" ? 2 : 1);
        stop();
      } else {
        arrive((m.seed - range.first) / range.stride, m);
        sink.progress();
      }
    });
    w.on("error", (e) => {
      io.err(`mmsim: sweep worker failed: ${e.message}`);
      ended = true;
      lost();
    });
    w.on("exit", (code) => {
      if (!ended && !aborted) {
        io.err(`mmsim: sweep worker failed: it exited with code ${code}`);
        lost();
      }
      if (--live === 0 && !aborted) {
        // Whatever is left waiting (behind a seed that never ran) goes in, still in seed order.
        for (const i of [...arrived.keys()].sort((a, b) => a - b)) {
          const o = arrived.get(i);
          if (o) record(o);
        }
        sink.finish(crashed);
      }
    });
  }
}

export function cmdSweep(argv: readonly string[], io: Io): "pending" {
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
    scenario: RUN_OPTIONS.scenario!,
  });
  if (p.positional.length !== 1) throw new UsageError("sweep takes one scenario");
  const ref = withScenarioName(p.positional[0]!, p.options.get("scenario"));
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
