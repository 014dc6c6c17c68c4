// npm run bench: every figure of issue 11 in one run, each beside its floor and goal, from the
// compiled dist/ (no TypeScript loader in a measured process). Each simulator figure is measured
// in a process of its own (bench/child.ts), the figures compared in a ratio taken in turns (a
// round of each, three rounds, the best of each kept), so a burst of load from elsewhere hits
// both sides of a ratio alike; the 1-minute load average is printed beside them.
import { child, load, printTable, rounds, type Row } from "./measure.ts";
import { perSecond, simpySpin, type Rate } from "./spin.ts";
import type { Pairs } from "./alloc.ts";
import { SIZES, TOTAL } from "./cpus.ts";
import { runMemory } from "./memory.ts";
import { measureStartup, measureSweep } from "./startup_sweep.ts";

const rows: Row[] = [];
const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const M = (n: number): string => `${(n / 1e6).toFixed(3)} M`;
const faster = (a: Rate, b: Rate): boolean => a.seconds < b.seconds;
const only = process.argv[2];
const want = (part: string): boolean => only === undefined || only === part;

// ---- the spinlock model: mmsim, plain generators, SimPy 2
if (want("spin")) {
  const CPUS = 4;
  const ITER = 20_000;
  const [simR, plainR] = rounds<Rate>(3, faster, () => child("mmsim-spin", CPUS, ITER, 3), () => child("plain-spin", CPUS, ITER, 3));
  const sim = perSecond(simR!);
  const plain = perSecond(plainR!);
  const simpy = simpySpin(CPUS, ITER);
  console.log(`spinlock model, ${CPUS} CPUs x ${ITER} loops (load average ${load()})`);
  console.log(`  mmsim:            ${M(sim.iterations)} loops/s, ${M(sim.steps)} steps/s`);
  console.log(`  plain generators: ${M(plain.iterations)} loops/s, ${M(plain.steps)} steps/s`);
  if ("skipped" in simpy) {
    console.log(`  SimPy 2: skipped: ${simpy.skipped}`);
    rows.push({ figure: "spinlock model vs SimPy 2 (loops/s)", value: "skipped", floor: ">= 3x", goal: ">= 6x", pass: null, note: simpy.skipped });
  } else {
    const s = perSecond(simpy);
    console.log(`  SimPy 2:          ${M(s.iterations)} loops/s, ${M(s.steps)} yields/s`);
    const x = sim.iterations / s.iterations;
    rows.push({ figure: "spinlock model vs SimPy 2 (loops/s)", value: `${fmt(x)}x`, floor: ">= 3x", goal: ">= 6x", pass: x >= 3 });
  }
  const vsPlain = sim.iterations / plain.iterations;
  rows.push({ figure: "spinlock model vs plain generators (loops/s)", value: `1/${fmt(1 / vsPlain, 1)}`, floor: ">= 1/6", goal: ">= 1/3", pass: vsPlain >= 1 / 6 });
}

// ---- sweeps and start-up through the real command
if (want("sweep")) {
  // The issue's figures: seeds/s of `--seeds 1..400 --jobs 1`, and the speed-up of two jobs on a
  // long sweep (2000 seeds: each worker's JIT warm-up, which two workers each pay, is then a
  // small part of it, as in the sweeps of thousands of seeds the command is for).
  const SEEDS = 400;
  const LONG = 2000;
  const [one, longOne, longTwo] = rounds(
    3,
    (a, b) => a.seedsPerSec > b.seedsPerSec,
    () => measureSweep("demo", SEEDS, 1),
    () => measureSweep("demo", LONG, 1),
    () => measureSweep("demo", LONG, 2),
  );
  console.log(`mmsim sweep demo (start-up excluded, best of 3 rounds taken in turns; load average ${fmt(one!.loadavg1)} / ${fmt(longOne!.loadavg1)} / ${fmt(longTwo!.loadavg1)})`);
  console.log(`  --seeds 1..${SEEDS} --jobs 1: ${fmt(one!.seedsPerSec, 1)} seeds/s`);
  console.log(`  --seeds 1..${LONG} --jobs 1: ${fmt(longOne!.seedsPerSec, 1)} seeds/s`);
  console.log(`  --seeds 1..${LONG} --jobs 2: ${fmt(longTwo!.seedsPerSec, 1)} seeds/s`);
  rows.push({ figure: "sweep demo --jobs 1 (seeds/s)", value: fmt(one!.seedsPerSec, 1), floor: ">= 100", goal: ">= 200", pass: one!.seedsPerSec >= 100 });
  const x = longTwo!.seedsPerSec / longOne!.seedsPerSec;
  rows.push({ figure: `sweep --jobs 2 over --jobs 1 (${LONG} seeds)`, value: `${fmt(x)}x`, floor: ">= 1.7x", goal: ">= 1.9x", pass: x >= 1.7 });
}
if (want("startup")) {
  const s = measureStartup();
  console.log(`start-up, median wall time (load average ${fmt(s.loadavg1)})`);
  console.log(`  node -e 0: ${fmt(s.nodeE0.medianMs, 0)} ms; mmsim list: ${fmt(s.list.medianMs, 0)} ms; mmsim run counter-spinlock: ${fmt(s.runCounterSpinlock.medianMs, 0)} ms`);
  rows.push({ figure: "mmsim list vs node -e 0", value: `${fmt(s.listRatio, 1)}x`, floor: "<= 4x", goal: "<= 2x", pass: s.listRatio <= 4 });
  rows.push({ figure: "mmsim run counter-spinlock vs node -e 0", value: `${fmt(s.runRatio, 1)}x`, floor: "<= 6x", goal: "<= 2x", pass: s.runRatio <= 6 });
}

// ---- allocator pairs against the bare buddy loop
if (want("alloc")) {
  const [bare, pages, km] = rounds<{ rate: number }>(
    3,
    (a, b) => a.rate > b.rate,
    () => child("bare-buddy"),
    () => child<Pairs>("page-pairs"),
    () => child<Pairs>("kmalloc-pairs"),
  );
  console.log(`allocator pairs, 4 CPUs, pcp on (load average ${load()})`);
  console.log(`  bare buddy loop:          ${M(bare!.rate)} pairs/s`);
  console.log(`  alloc_page + __free_page: ${M(pages!.rate)} pairs/s`);
  console.log(`  kmalloc(64) + kfree:      ${M(km!.rate)} pairs/s`);
  rows.push({ figure: "order-0 page pairs vs bare buddy loop", value: `1/${fmt(bare!.rate / pages!.rate, 1)}`, floor: ">= 1/4", goal: ">= 1/2", pass: pages!.rate >= bare!.rate / 4 });
  rows.push({ figure: "kmalloc(64) pairs vs bare buddy loop", value: `1/${fmt(bare!.rate / km!.rate, 1)}`, floor: ">= 1/6", goal: ">= 1/2", pass: km!.rate >= bare!.rate / 6 });
}

// ---- cost per step from 2 to 64 CPUs
if (want("cpus")) {
  const per = rounds<Rate>(3, faster, ...SIZES.map((cpus) => () => child<Rate>("mmsim-spin", cpus, TOTAL / cpus, 3, 2))).map((r, i) => ({ cpus: SIZES[i]!, ns: (r.seconds * 1e9) / r.steps }));
  console.log(`cost per step, same total work (load average ${load()}): ${per.map((p) => `${p.cpus} CPUs ${fmt(p.ns, 0)} ns`).join(", ")}`);
  const spread = (ns: readonly number[]): number => Math.max(...ns) / Math.min(...ns);
  const growth = spread(per.map((p) => p.ns));
  // The reference: bare generators resumed in the same kind of order, and in a fixed one (bench/order.ts).
  const order = (how: string): number[] => rounds<{ ns: number }>(3, (a, b) => a.ns < b.ns, ...SIZES.map((cpus) => () => child<{ ns: number }>("resume-order", cpus, 10 * TOTAL, how))).map((r) => r.ns);
  const random = order("random");
  const fixed = order("fixed");
  const line = (ns: number[]): string => `${ns.map((v, i) => `${SIZES[i]} CPUs ${fmt(v, 1)} ns`).join(", ")} (${fmt(spread(ns))}x)`;
  console.log(`bare generators resumed in the random walk's order: ${line(random)}; in a fixed order: ${line(fixed)}`);
  rows.push({ figure: "cost per step, 2..64 CPUs (max/min)", value: `${fmt(growth)}x`, floor: "<= 1.2x", goal: "1x", pass: growth <= 1.2, note: `bare generators in the same order: ${fmt(spread(random))}x` });
}

// ---- memory of a long run
if (want("memory")) {
  const short = runMemory(3_000_000);
  const long = runMemory(30_000_000);
  console.log(`memory of mmsim run to a step limit, no --schedule or --trace: ${fmt(short.maxRssMb, 0)} MB at 3 M steps, ${fmt(long.maxRssMb, 0)} MB at 30 M steps (${fmt(long.seconds, 0)} s)`);
  const flat = long.maxRssMb <= short.maxRssMb * 1.15;
  rows.push({ figure: "peak memory, 30 M-step run", value: `${fmt(long.maxRssMb, 0)} MB`, floor: "<= 300 MB, flat", goal: "<= 150 MB", pass: long.maxRssMb <= 300 && flat, note: flat ? undefined : `not flat: ${fmt(short.maxRssMb, 0)} MB at 3 M steps` });
}

// ---- context switching, the options measured (docs/how-it-works.md)
if (want("engine")) {
  const opts = child<{ name: string; stepsPerSec: number }[]>("engine-options", 5);
  const plain = opts.find((o) => o.name === "plain")!.stepsPerSec;
  console.log(`running Effect programs a step at a time, bare 4-CPU spinlock model (bench/engine_options.ts; load average ${load()})`);
  for (const o of opts) console.log(`  ${o.name.padEnd(11)} ${M(o.stepsPerSec)} steps/s  (1/${fmt(plain / o.stepsPerSec, 1)} of plain)`);
}
if (want("pages")) {
  const p = child<{ pages: number; bytes: number }>("page-memory");
  console.log(`memory per simulated page: ${fmt(p.bytes, 1)} bytes (16 GiB x86_64 machine, ${p.pages} page frames; heap and typed arrays after GC)`);
}

console.log("");
printTable(rows);
