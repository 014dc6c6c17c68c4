// A sweep's summary (its own, or merged shards'), and the shard file's header and format version.
import { format_swarm } from "../harness/swarm.ts";
import type { Io } from "./io.ts";
import type { SeedOutcome } from "./sweep_worker.ts";

/**
 * The shard format this mmsim writes and reads. 2: trace hashes of the new trace-event encoding
 * (issue 11); a version-1 shard's hashes cannot be compared with them, so merge refuses it.
 */
export const SHARD_VERSION = 2;

/** The first line of a shard's output. */
export interface ShardHeader {
  readonly format: "mmsim-shard";
  readonly version: typeof SHARD_VERSION;
  readonly scenario: string;
  readonly seeds: { readonly from: number; readonly to: number };
  readonly shard: { readonly index: number; readonly count: number };
  readonly all: boolean;
  /** The options a replay command needs after --seed N. */
  readonly replayArgs: string;
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
