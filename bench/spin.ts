// The spinlock model three ways: mmsim (bench/models/spin_model.ts through runScenario), a plain
// JavaScript generator loop doing the same interleavings with none of the kernel model, and SimPy 2
// (bench/simpy_spinlock.py, run by the system's /usr/bin/python3, where Debian's python3-simpy
// installs). Each loop iteration: take the lock (an interleaving point, then a FIFO ticket lock: a
// CPU that finds it held spins until it is handed over, one more step), hold it 10 ns (ndelay, a
// step), release it (a step), 5 ns of other work (a step). Iterations per second compare across
// the three; steps per second are each one's own count of resumptions.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runScenario } from "../src/harness/run.ts";
import { spinModel } from "./models/spin_model.ts";
import { ROOT, best } from "./measure.ts";

export interface Rate {
  readonly iterations: number;
  readonly steps: number;
  readonly seconds: number;
}

export const perSecond = (r: Rate): { iterations: number; steps: number } => ({ iterations: r.iterations / r.seconds, steps: r.steps / r.seconds });

/** mmsim: the best of `reps` runs of the model (seed 1). */
export function mmsimSpin(cpus: number, iterations: number, reps = 5, cpusPerLock = cpus): Rate {
  const scn = spinModel(cpus, iterations, cpusPerLock);
  const r = best(reps, () => runScenario(scn, { seed: 1, stepLimit: 1e9 }));
  if (r.value.failed) throw new Error(`spin model failed: ${r.value.stop} ${r.value.expectations.join("; ")}`);
  return { iterations: cpus * iterations, steps: r.value.steps, seconds: r.ms / 1000 };
}

/** The same model as plain generators: earliest clock first (lowest id on a tie), FIFO ticket lock, mmsim's costs. */
export function plainSpin(cpus: number, iterations: number, reps = 5): Rate {
  const STEP = 50;
  const ATOMIC = 20;
  const LINE = 100;
  const run = (): number => {
    const clock = new Float64Array(cpus);
    const spinning = new Uint8Array(cpus);
    const waiters: number[] = [];
    let owner = -1;
    let count = 0;
    let steps = 0;
    function* worker(cpu: number): Generator<void, void, void> {
      for (let i = 0; i < iterations; i++) {
        clock[cpu]! += STEP;
        yield; // spin_lock's interleaving point
        clock[cpu]! += ATOMIC;
        if (owner === -1) owner = cpu;
        else {
          waiters.push(cpu);
          spinning[cpu] = 1;
          yield; // spinning until handed the lock
        }
        clock[cpu]! += 10;
        yield; // ndelay(10)
        count++;
        const next = waiters.shift();
        owner = next ?? -1;
        if (next !== undefined) {
          spinning[next] = 0;
          clock[next] = Math.max(clock[next]!, clock[cpu]! + LINE);
        }
        clock[cpu]! += STEP;
        yield; // spin_unlock's preempt_enable
        clock[cpu]! += 5;
        yield; // ndelay(5)
      }
    }
    const gens = Array.from({ length: cpus }, (_, c) => worker(c));
    const done = new Uint8Array(cpus);
    for (;;) {
      let pick = -1;
      for (let c = 0; c < cpus; c++) if (done[c] === 0 && spinning[c] === 0 && (pick < 0 || clock[c]! < clock[pick]!)) pick = c;
      if (pick < 0) break;
      steps++;
      if (gens[pick]!.next().done === true) done[pick] = 1;
    }
    if (count !== cpus * iterations) throw new Error("plain loop lost an iteration");
    return steps;
  };
  const r = best(reps, run);
  return { iterations: cpus * iterations, steps: r.value, seconds: r.ms / 1000 };
}

export const SIMPY_PYTHON = "/usr/bin/python3";

/** SimPy 2 on the same model, or why it could not run. */
export function simpySpin(cpus: number, iterations: number): Rate | { readonly skipped: string } {
  const probe = spawnSync(SIMPY_PYTHON, ["-c", "import SimPy.Simulation"], { encoding: "utf8" });
  if (probe.error !== undefined) return { skipped: `${SIMPY_PYTHON} not found` };
  if (probe.status !== 0) return { skipped: `SimPy cannot be imported by ${SIMPY_PYTHON} (apt-get install python3-simpy)` };
  const r = spawnSync(SIMPY_PYTHON, [join(ROOT, "bench", "simpy_spinlock.py"), String(cpus), String(iterations)], { encoding: "utf8" });
  if (r.status !== 0) return { skipped: `the SimPy model failed: ${r.stderr.trim().split("\n").at(-1)}` };
  const o = JSON.parse(r.stdout) as { iterations: number; yields: number; seconds: number };
  return { iterations: o.iterations, steps: o.yields, seconds: o.seconds };
}
