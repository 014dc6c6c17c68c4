// Start-up and sweep throughput of the real command (bin/mmsim.js over the compiled dist/), for
// the bench runner to call; importing this file runs nothing.
//
// measureStartup(): the wall time of whole processes, spawned one after another and
// round-robin (node -e 0, mmsim list, mmsim run counter-spinlock, node -e 0, ...), so a burst of
// load from elsewhere on the machine hits all three alike; each is timed around spawnSync (the
// spawn's own cost is in every figure, node -e 0's included). Two warm-up rounds (file cache),
// then `runs` rounds; it returns the median and the best of each, in ms, and the ratios of the
// medians to node -e 0.
//
// measureSweep(scenario, seeds, jobs): seeds/s without process start-up. Start-up (starting
// node, loading the simulator, booting the workers and their first seed's JIT warm-up) is timed
// separately, as the same sweep over only its first `jobs * 2` seeds (every worker boots and runs
// seeds); the long sweep minus that short one is the time of its other seeds, so
// seeds/s = (seeds - short) / (T(long) - T(short)). Both run with --all (a failing seed does not
// stop them) and --json (no progress line). Each is run `repeats` times and the medians are
// used. The 1-minute load average (os.loadavg()) is taken before and after: a figure measured
// while other work loaded the cores is not the machine's speed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";

/** The package root, from bench/ (sources) or dist/bench/ (compiled): the nearest directory above with bin/mmsim.js. */
function root(): string {
  for (let d = import.meta.dirname; d !== dirname(d); d = dirname(d)) if (existsSync(join(d, "bin", "mmsim.js"))) return d;
  throw new Error(`no bin/mmsim.js above ${import.meta.dirname}`);
}
const bin = (): string => join(root(), "bin", "mmsim.js");

/** Wall time of one process, in ms; throws if it fails. */
function timed(args: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(r.status === 1 && args.includes("sweep"))) throw new Error(`${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface Timing {
  readonly medianMs: number;
  readonly bestMs: number;
  readonly runs: number;
}

export interface StartupFigures {
  readonly nodeE0: Timing;
  readonly list: Timing;
  readonly runCounterSpinlock: Timing;
  /** Medians over node -e 0's median. */
  readonly listRatio: number;
  readonly runRatio: number;
  readonly loadavg1: number;
}

export function measureStartup(runs = 10): StartupFigures {
  const commands = {
    nodeE0: ["-e", "0"],
    list: [bin(), "list"],
    runCounterSpinlock: [bin(), "run", "counter-spinlock"],
  } as const;
  const times: Record<keyof typeof commands, number[]> = { nodeE0: [], list: [], runCounterSpinlock: [] };
  for (let round = 0; round < runs + 2; round++) {
    for (const [name, args] of Object.entries(commands) as [keyof typeof commands, readonly string[]][]) {
      const ms = timed(args);
      if (round >= 2) times[name].push(ms);
    }
  }
  const timing = (xs: number[]): Timing => ({ medianMs: median(xs), bestMs: Math.min(...xs), runs: xs.length });
  const nodeE0 = timing(times.nodeE0);
  const list = timing(times.list);
  const runCounterSpinlock = timing(times.runCounterSpinlock);
  return { nodeE0, list, runCounterSpinlock, listRatio: list.medianMs / nodeE0.medianMs, runRatio: runCounterSpinlock.medianMs / nodeE0.medianMs, loadavg1: loadavg()[0]! };
}

export interface SweepFigures {
  readonly scenario: string;
  readonly seeds: number;
  readonly jobs: number;
  /** Seeds per second without process start-up. */
  readonly seedsPerSec: number;
  /** The short sweep's wall time (start-up and its few seeds), ms (median). */
  readonly startupMs: number;
  /** The whole sweep's wall time, ms (median). */
  readonly wallMs: number;
  /** The 1-minute load average before and after the measurement. */
  readonly loadavg1: number;
  readonly loadavg1Before: number;
}

/** `seeds`: a count (seeds 1..N) or a range "A..B". */
export function measureSweep(scenario: string, seeds: number | string, jobs: number, repeats = 1): SweepFigures {
  const [from, to] = typeof seeds === "number" ? [1, seeds] : seeds.split("..").map(Number) as [number, number];
  const count = to - from + 1;
  const short = Math.min(count - 1, jobs * 2);
  if (short < 1) throw new Error(`measureSweep: ${count} seeds are too few to time apart from start-up`);
  const sweep = (last: number): string[] => [bin(), "sweep", scenario, "--seeds", `${from}..${last}`, "--jobs", String(jobs), "--all", "--json"];
  const before = loadavg()[0]!;
  const longs: number[] = [];
  const shorts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    shorts.push(timed(sweep(from + short - 1)));
    longs.push(timed(sweep(to)));
  }
  const wallMs = median(longs);
  const startupMs = median(shorts);
  return { scenario, seeds: count, jobs, seedsPerSec: (count - short) / ((wallMs - startupMs) / 1000), startupMs, wallMs, loadavg1: loadavg()[0]!, loadavg1Before: before };
}
