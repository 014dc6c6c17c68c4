// The memory a long run takes, through the real command as a user runs it: `mmsim run` of the
// endless spinlock model (bench/models/long_spin.ts, compiled) to a step limit, without --schedule
// or --trace, at two step counts; the figure is the process's peak resident set (maxRSS). Flat in
// the step count means the larger run peaks no higher than the smaller one plus noise. The run
// ends at its step limit, which counts as a failure: it writes its default schedule (compact: the
// streams' starting states and draw counts) in a temporary directory, removed afterwards.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./measure.ts";

/** Prints the process's peak RSS (KB) on stderr as it exits. */
const RSS_PRELOAD = `data:text/javascript,process.on("exit",()=>process.stderr.write("\\nmaxrss-kb="+process.resourceUsage().maxRSS+"\\n"))`;

export interface RunMemory {
  readonly steps: number;
  readonly maxRssMb: number;
  readonly seconds: number;
}

export function runMemory(steps: number): RunMemory {
  const dir = mkdtempSync(join(tmpdir(), "mmsim-bench-"));
  try {
    const model = join(ROOT, "dist", "bench", "models", "long_spin.js");
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["--import", RSS_PRELOAD, join(ROOT, "bin", "mmsim.js"), "run", model, "--steps", String(steps)], { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    const seconds = (performance.now() - t0) / 1000;
    const m = /maxrss-kb=(\d+)/.exec(r.stderr);
    if (m === null || !/step-limit/.test(r.stdout)) throw new Error(`the ${steps}-step run did not end at its step limit (exit ${r.status}): ${r.stderr.slice(-500)}`);
    return { steps, maxRssMb: Number(m[1]) / 1024, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
