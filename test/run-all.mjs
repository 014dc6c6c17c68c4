// Runs every test file (test/**/*.test.ts) under uvu, as many processes at a time as the machine
// has cores (at most 4), and prints each process's output whole when it finishes, then the
// totals. The files that run whole scenarios or spawn the CLI go first, one to a process; the
// rest share processes in batches (starting a process and loading the simulator through tsx
// costs about a second, more than most files take). Exit code 1 if any file failed. c8 wraps
// this process; the children inherit its NODE_V8_COVERAGE, so coverage covers them all.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const testDir = join(root, "test");

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : name.endsWith(".test.ts") ? [p] : [];
  });
}

// Files that spawn the CLI or run whole scenarios take longest: start them first.
const slow = ["package/", "cli/", "scenarios/", "determinism"];
const weight = (f) => (slow.some((s) => f.includes(s)) ? 0 : 1);
const files = find(testDir)
  .map((f) => relative(testDir, f))
  .sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));

const jobs = Math.max(1, Math.min(4, Number(process.env.TEST_JOBS) || availableParallelism()));
// Batches: each slow file alone, the others BATCH at a time.
const BATCH = 8;
const batches = [];
for (const f of files) {
  const last = batches.at(-1);
  if (weight(f) === 0 || last === undefined || last.length >= BATCH || weight(last[0]) === 0) batches.push([f]);
  else last.push(f);
}
const uvu = join(root, "node_modules/uvu/bin.js");
const totals = { total: 0, passed: 0, skipped: 0 };
let failed = [];
const took = [];

function runOne(batch) {
  return new Promise((resolve) => {
    const escape = (f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = `^(${batch.map(escape).join("|")})$`;
    const file = batch.length === 1 ? batch[0] : `${batch[0]} and ${batch.length - 1} more`;
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ["--import", "tsx", uvu, "test", pattern], { cwd: root, env: process.env });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => {
      const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
      for (const key of ["total", "passed", "skipped"]) {
        const m = new RegExp(`${key}:\\s+(\\d+)`, "i").exec(plain);
        if (m) totals[key] += Number(m[1]);
      }
      took.push([file, Number(process.hrtime.bigint() - start) / 1e9]);
      if (code !== 0) failed.push(file);
      process.stdout.write(out.replace(/\n\s*Total:[\s\S]*$/, "\n"));
      resolve();
    });
  });
}

const queue = [...batches];
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (queue.length > 0) await runOne(queue.shift());
  }),
);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(`\n  Files:   ${files.length} in ${batches.length} processes (${jobs} at a time)\n  Total:   ${totals.total}\n  Passed:  ${totals.passed}\n  Skipped: ${totals.skipped}\n  Duration: ${(ms / 1000).toFixed(1)} s`);
const slowest = took.sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`  Slowest: ${slowest.map(([f, s]) => `${f} ${s.toFixed(1)} s`).join(", ")}`);
if (failed.length > 0 || totals.passed !== totals.total) {
  console.log(`\n  FAILED: ${failed.join(", ") || "a test did not pass"}`);
  process.exit(1);
}
