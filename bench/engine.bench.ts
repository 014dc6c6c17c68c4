// npm run bench: engine speed on the 4-CPU spinlock scenario against a minimal plain-generator
// loop doing the same interleavings, and sweep throughput with 1 and 2 worker jobs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runScenario } from "../src/harness/run.ts";
import counterSpinlock, { ITERATIONS } from "../scenarios/teach/counter-spinlock.ts";

const ROOT = join(import.meta.dirname, "..");

function best<T>(reps: number, f: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value };
}

// ---- mmsim: counter-spinlock, several seeds per measurement
const SEEDS = 20;
const sim = best(5, () => {
  let steps = 0;
  for (let s = 1; s <= SEEDS; s++) steps += runScenario(counterSpinlock, { seed: s }).steps;
  return steps;
});
const simRate = sim.value / (sim.ms / 1000);

// ---- the same work as plain generators: 4 CPUs, earliest clock first, a FIFO ticket lock,
// one yield per interleaving point (lock, read, write, unlock, delay), as mmsim's workers do.
function plain(): number {
  const N = 4;
  const clock = new Float64Array(N);
  let owner = -1;
  const waiters: number[] = [];
  const spinning = new Uint8Array(N);
  let counter = 0;
  let steps = 0;
  function* worker(cpu: number): Generator<void, void, void> {
    for (let i = 0; i < ITERATIONS; i++) {
      yield; // spin_lock's interleaving point
      if (owner === -1) owner = cpu;
      else {
        waiters.push(cpu);
        spinning[cpu] = 1;
        yield;
      }
      yield; // READ_ONCE
      const v = counter;
      yield; // WRITE_ONCE
      counter = v + 1;
      const next = waiters.shift();
      owner = next ?? -1;
      if (next !== undefined) {
        spinning[next] = 0;
        clock[next] = Math.max(clock[next]!, clock[cpu]!) + 100;
      }
      yield; // spin_unlock's preempt_enable
      clock[cpu]! += 1000;
      yield; // udelay(1)
    }
  }
  const gens = Array.from({ length: N }, (_, c) => worker(c));
  const done = new Uint8Array(N);
  for (;;) {
    let pick = -1;
    for (let c = 0; c < N; c++) if (!done[c] && !spinning[c] && (pick < 0 || clock[c]! < clock[pick]!)) pick = c;
    if (pick < 0) break;
    clock[pick]! += 50;
    steps++;
    if (gens[pick]!.next().done) done[pick] = 1;
  }
  if (counter !== N * ITERATIONS) throw new Error("plain loop lost an update");
  return steps;
}
const pl = best(5, () => {
  let steps = 0;
  for (let s = 1; s <= SEEDS * 10; s++) steps += plain();
  return steps;
});
const plainRate = pl.value / (pl.ms / 1000);

console.log("engine (counter-spinlock, 4 CPUs)");
console.log(`  mmsim:            ${(simRate / 1e6).toFixed(3)} M steps/s  (${sim.value} steps in ${sim.ms.toFixed(0)} ms)`);
console.log(`  plain generators: ${(plainRate / 1e6).toFixed(3)} M steps/s  (${pl.value} steps in ${pl.ms.toFixed(0)} ms)`);
console.log(`  ratio plain/mmsim: ${(plainRate / simRate).toFixed(1)}x`);

// ---- sweep throughput through the real command (process start included)
function sweep(jobs: number, seeds: number): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "mmsim.js"), "sweep", "counter-spinlock", "--seeds", `1..${seeds}`, "--all", "--jobs", String(jobs), "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`sweep failed: ${r.stderr}`);
  return seeds / ((performance.now() - t0) / 1000);
}
const SWEEP = 1500;
const s1 = sweep(1, SWEEP);
const s2 = sweep(2, SWEEP);
console.log(`sweep counter-spinlock, ${SWEEP} seeds (process start included)`);
console.log(`  --jobs 1: ${s1.toFixed(1)} seeds/s`);
console.log(`  --jobs 2: ${s2.toFixed(1)} seeds/s  (speed-up ${(s2 / s1).toFixed(2)}x)`);
