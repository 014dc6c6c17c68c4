// `mmsim sweep`: runs a seed range, on worker threads when --jobs > 1. Without --all it stops at
// the first failing seed: the lowest failing seed of the range, whatever the number of jobs
// (seeds are handed out in order and, after a failure, seeds above it are no longer started).
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { Io } from "./main.ts";
import { runSeed, type SeedOutcome, type SweepJob } from "./sweep_worker.ts";
import { format_swarm } from "../harness/swarm.ts";

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

/** The first line of a shard's output. */
export interface ShardHeader {
  readonly format: "mmsim-shard";
  readonly version: 1;
  readonly scenario: string;
  readonly seeds: { readonly from: number; readonly to: number };
  readonly shard: { readonly index: number; readonly count: number };
  readonly all: boolean;
  /** The options a replay command needs after --seed N. */
  readonly replayArgs: string;
}

const WORKER_BOOT = fileURLToPath(new URL("../../bin/sweep-worker.mjs", import.meta.url));

export function sweep(opts: SweepOptions, io: Io): void {
  const stride = opts.shard?.count ?? 1;
  let next = opts.range.from + (opts.shard?.index ?? 0);
  const total = next > opts.range.to ? 0 : Math.floor((opts.range.to - next) / stride) + 1;
  const failing: SeedOutcome[] = [];
  let limit = opts.range.to;
  let done = 0;
  let crashed = false;
  const tty = process.stderr.isTTY === true && !opts.json;

  const replayArgs = (opts.cpus !== undefined ? ` --cpus ${opts.cpus}` : "") + opts.replayArgs;
  if (opts.shard !== undefined) {
    const header: ShardHeader = { format: "mmsim-shard", version: 1, scenario: opts.ref, seeds: opts.range, shard: opts.shard, all: opts.all, replayArgs };
    io.out(JSON.stringify(header));
  }
  const record = (o: SeedOutcome): void => {
    done++;
    if (opts.shard !== undefined) io.out(JSON.stringify(o));
    if (o.failed) {
      failing.push(o);
      if (!opts.all && o.seed < limit) limit = o.seed;
    }
    if (tty) io.err(`\rsweep ${opts.ref}: ${done}/${total} seeds, ${failing.length} failing`);
  };
  const take = (): number | undefined => {
    if (next > limit) return undefined;
    const s = next;
    next += stride;
    return s;
  };
  const finish = (): void => {
    if (tty) io.err("\n");
    failing.sort((a, b) => a.seed - b.seed);
    const shown = opts.all ? failing : failing.slice(0, 1);
    if (opts.shard !== undefined) io.out(JSON.stringify({ done: true, ran: done }));
    else report({ ref: opts.ref, range: opts.range, all: opts.all, json: opts.json, replayArgs }, shown, done, io);
    if (crashed) io.err(`mmsim: sweep incomplete: a worker thread crashed; ${total - done} of ${total} seeds did not run`);
    io.exit(failing.length > 0 || crashed ? 1 : 0);
  };

  if (opts.jobs <= 1 || total === 0) {
    for (let s = take(); s !== undefined; s = take()) record(runSeed(opts, s));
    finish();
    return;
  }
  let live = 0;
  let aborted = false;
  for (let j = 0; j < Math.min(opts.jobs, total); j++) {
    const w = new Worker(WORKER_BOOT, { workerData: { ref: opts.ref, cpus: opts.cpus, machine: opts.machine, strategy: opts.strategy, verify: opts.verify, swarm: opts.swarm } satisfies SweepJob });
    live++;
    const feed = (): void => {
      const s = take();
      if (s === undefined) void w.terminate();
      else w.postMessage(s);
    };
    w.on("message", (o: SeedOutcome) => {
      if (o.error !== undefined) {
        // The scenario cannot run at all: say why once and stop every worker.
        if (!aborted) io.err(`mmsim: ${o.error.name === "SimError" ? "simulator error: " : ""}${o.error.message}`);
        aborted = true;
        io.exit(o.error.name === "ScenarioError" ? 2 : 1);
        next = limit + 1;
        void w.terminate();
        return;
      }
      record(o);
      feed();
    });
    w.on("error", (e) => {
      io.err(`mmsim: sweep worker failed: ${e.message}`);
      crashed = true;
    });
    w.on("exit", () => {
      if (--live === 0 && !aborted) finish();
    });
    feed();
  }
}

/** What the sweep's summary needs (a sweep's own options, or merged shards'). */
export interface SweepReport {
  readonly ref: string;
  readonly range: { readonly from: number; readonly to: number };
  readonly all: boolean;
  readonly json: boolean;
  readonly replayArgs: string;
}

export function report(opts: SweepReport, failing: readonly SeedOutcome[], ran: number, io: Io): void {
  const replay = (seed: number): string => `mmsim run ${opts.ref} --seed ${seed}${opts.replayArgs}`;
  if (opts.json) {
    io.out(
      JSON.stringify({
        scenario: opts.ref,
        seeds: opts.range,
        ran,
        failing: failing.map((f) => ({ ...f, replay: replay(f.seed) })),
      }),
    );
    return;
  }
  io.out(`sweep ${opts.ref}: ran ${ran} seed${ran === 1 ? "" : "s"} of ${opts.range.from}..${opts.range.to}, ${failing.length === 0 ? "none failed" : `${opts.all ? failing.length : "first"} failing:`}`);
  for (const f of failing) {
    io.out(`seed ${f.seed}: ${f.problems.join("; ")}`);
    if (f.swarm !== undefined) io.out(`  swarm: ${format_swarm(f.swarm)}`);
    io.out(`  trace-hash: ${f.traceHash}`);
    io.out(`  replay: ${replay(f.seed)}`);
    io.out(`  shrink: mmsim shrink ${opts.ref} --seed ${f.seed}${opts.replayArgs}`);
  }
}
