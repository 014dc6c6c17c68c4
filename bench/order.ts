// What resuming generators costs as their number grows, by the order they are resumed in: the
// reference for the cost-per-step figure (bench/cpus.ts). The spinlock model as bare generators,
// two CPUs to each lock as there, run once to record which CPU steps at each step, with either
// mmsim's random walk (one step in 8 delayed by up to 1000 ns, ties broken at random: the default
// strategy's parameters, src/sim/strategy.ts) or a fixed order (no delays, the lowest id on a
// tie); then fresh generators are resumed in the recorded order and only that is timed. Same
// generators, same number of resumptions, only the order differs: the growth that comes with the
// random order at 64 CPUs is the hardware's (branch prediction and caches over more generators),
// and mmsim's steps, which resume several generators and dispatch on several kinds of op each,
// pay it too.
import seedrandom from "seedrandom";

function machine(cpus: number, iterations: number) {
  const clock = new Float64Array(cpus);
  const spinning = new Uint8Array(cpus);
  const owner = new Int32Array(cpus >> 1).fill(-1);
  const waiter = new Int32Array(cpus >> 1).fill(-1);
  function* worker(cpu: number): Generator<void, void, void> {
    const l = cpu >> 1;
    for (let i = 0; i < iterations; i++) {
      clock[cpu]! += 50;
      yield; // spin_lock's interleaving point
      clock[cpu]! += 20;
      if (owner[l] === -1) owner[l] = cpu;
      else {
        waiter[l] = cpu;
        spinning[cpu] = 1;
        yield; // spinning until handed the lock
      }
      clock[cpu]! += 10;
      yield; // ndelay(10)
      const next = waiter[l]!;
      waiter[l] = -1;
      owner[l] = next;
      if (next !== -1) {
        spinning[next] = 0;
        clock[next] = Math.max(clock[next]!, clock[cpu]! + 100);
      }
      clock[cpu]! += 50;
      yield; // spin_unlock
      clock[cpu]! += 5;
      yield; // ndelay(5)
    }
  }
  return { clock, spinning, gens: Array.from({ length: cpus }, (_, c) => worker(c)) };
}

/** The CPU stepped at each step of a run (earliest clock first). */
function record(cpus: number, iterations: number, random: boolean): Int32Array {
  const rng = seedrandom.alea("order");
  const { clock, spinning, gens } = machine(cpus, iterations);
  const done = new Uint8Array(cpus);
  const order: number[] = [];
  let countdown = 0;
  for (;;) {
    let pick = -1;
    let tied = 0;
    for (let c = 0; c < cpus; c++) {
      if (done[c] === 1 || spinning[c] === 1) continue;
      if (pick < 0 || clock[c]! < clock[pick]!) {
        pick = c;
        tied = 1;
      } else if (clock[c] === clock[pick]) tied++;
    }
    if (pick < 0) break;
    if (random) {
      if (tied > 1) {
        let k = Math.floor(rng() * tied);
        for (let c = pick; ; c++) if (done[c] === 0 && spinning[c] === 0 && clock[c] === clock[pick] && k-- === 0) {
          pick = c;
          break;
        }
      }
      if (countdown-- === 0) {
        countdown = Math.floor(Math.log(1 - rng()) / Math.log(1 - 1 / 8));
        clock[pick]! += 1 + Math.floor(rng() * 999);
        continue;
      }
    }
    order.push(pick);
    if (gens[pick]!.next().done === true) done[pick] = 1;
  }
  return Int32Array.from(order);
}

/** Nanoseconds per resumption of `cpus` generators in the recorded order (best of `reps`). */
export function resumeCost(cpus: number, total: number, random: boolean, reps = 5): { ns: number } {
  const order = record(cpus, total / cpus, random);
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    const { gens } = machine(cpus, total / cpus);
    const t0 = performance.now();
    for (let i = 0; i < order.length; i++) gens[order[i]!]!.next();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ns: (ms * 1e6) / order.length };
}
