// `mmsim merge FILE...`: combines the JSON lines `mmsim sweep --shard I/N` wrote (one file per
// shard, e.g. from a CI matrix or a Kubernetes indexed job) into the sweep's own summary: the
// lowest failing seed of the whole range (or, for --all shards, every failing seed). It checks
// that the files are shards of one sweep (same scenario, range, count, options), that every
// shard is there once and finished, and that no seed below the first failure is missing. A
// shard of another format version (an older mmsim's) is refused: its trace hashes are not
// comparable.
import { readFileSync } from "node:fs";
import type { Io } from "./io.ts";
import { UsageError, parseArgs } from "./args.ts";
import { report, SHARD_VERSION, type ShardHeader } from "./report.ts";
import type { SeedOutcome } from "./sweep_worker.ts";

interface Shard {
  readonly path: string;
  readonly header: ShardHeader;
  readonly outcomes: SeedOutcome[];
}

function readShard(path: string): Shard {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read shard ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const parse = (l: string, n: number): Record<string, unknown> => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new UsageError(`${path}:${n + 1} is not JSON (a shard file is what mmsim sweep --shard I/N prints)`);
    }
  };
  const header = lines.length > 0 ? parse(lines[0]!, 0) : {};
  if (header.format !== "mmsim-shard") throw new UsageError(`${path} is not an mmsim shard (its first line must be the header mmsim sweep --shard writes)`);
  if (header.version !== SHARD_VERSION) throw new UsageError(`${path} is an mmsim shard of format version ${JSON.stringify(header.version)}; this mmsim reads version ${SHARD_VERSION}: rerun the sweep`);
  const last = lines.length > 1 ? parse(lines[lines.length - 1]!, lines.length - 1) : {};
  if (last.done !== true) throw new UsageError(`${path}: the shard did not finish (no final {"done": true} line)`);
  const outcomes = lines.slice(1, -1).map((l, i) => parse(l, i + 1) as unknown as SeedOutcome);
  return { path, header: header as unknown as ShardHeader, outcomes };
}

/** `mmsim merge FILE... [--json]`. */
export function cmdMerge(argv: readonly string[], io: Io): number {
  const p = parseArgs("merge", argv, { json: { value: false, help: "print one JSON object" } });
  return mergeShards(p.positional, p.options.has("json"), io);
}

export function mergeShards(paths: readonly string[], json: boolean, io: Io): number {
  if (paths.length === 0) throw new UsageError("merge takes the shard files (mmsim sweep ... --shard I/N > shard-I.jsonl)");
  const shards = paths.map(readShard);
  const h0 = shards[0]!.header;
  const same = (h: ShardHeader) => h.scenario === h0.scenario && h.seeds.from === h0.seeds.from && h.seeds.to === h0.seeds.to && h.shard.count === h0.shard.count && h.all === h0.all && h.replayArgs === h0.replayArgs;
  for (const s of shards) {
    if (!same(s.header)) throw new UsageError(`${s.path} is a shard of another sweep than ${shards[0]!.path} (scenario, seeds, shard count and options must match)`);
  }
  const seen = new Map<number, string>();
  for (const s of shards) {
    const other = seen.get(s.header.shard.index);
    if (other !== undefined) throw new UsageError(`${s.path} and ${other} are both shard ${s.header.shard.index}/${h0.shard.count}`);
    seen.set(s.header.shard.index, s.path);
  }
  const missing = [...Array(h0.shard.count).keys()].filter((i) => !seen.has(i));
  if (missing.length > 0) throw new UsageError(`shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${h0.shard.count}`).join(", ")} missing (merge needs all ${h0.shard.count})`);
  const outcomes = shards.flatMap((s) => s.outcomes).sort((a, b) => a.seed - b.seed);
  const failing = outcomes.filter((o) => o.failed);
  // Without --all each shard stopped at its own first failure; the seeds below the lowest must all have run.
  const upTo = h0.all || failing.length === 0 ? h0.seeds.to : failing[0]!.seed;
  const ran = new Set(outcomes.map((o) => o.seed));
  for (let seed = h0.seeds.from; seed <= upTo; seed++) {
    if (!ran.has(seed)) throw new UsageError(`seed ${seed} is in no shard's results (shard ${(seed - h0.seeds.from) % h0.shard.count}/${h0.shard.count} is incomplete)`);
  }
  const shown = h0.all ? failing : failing.slice(0, 1);
  report({ ref: h0.scenario, range: h0.seeds, all: h0.all, json, replayArgs: h0.replayArgs }, shown, outcomes.length, io);
  return failing.length > 0 ? 1 : 0;
}
