// npm run bench (memory part): order-0 alloc+free pairs per second through the simulated
// kernel on 4 CPUs (pcp on, and off), the bare buddy functions doing the same pairs in a plain
// loop (the ratio is the price of simulating CPUs, locks and interleavings), and the memory a
// 16 GiB machine costs per simulated page (heap + typed arrays, measured after a full GC).
import * as Effect from "effect/Effect";
import { runScenario } from "../src/harness/run.ts";
import { defineScenario, type MachineSpec } from "../src/harness/scenario.ts";
import { GFP_KERNEL, __free_page, alloc_page, kthread_run } from "../src/kernel/index.ts";
import { kernel, type Kernel } from "../src/kernel/kernel.ts";
import { build_memory } from "../src/kernel/mm/mmzone.ts";
import { __free_one_page, __rmqueue_smallest } from "../src/kernel/mm/buddy.ts";

const CPUS = 4;
const PAIRS = 20_000; // per CPU

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

function pairs_scenario(pcp: boolean) {
  const machine: MachineSpec = { cpus: CPUS, memory: { arch: "x86_64", kernel: "2.6", mb: 1024, pcp } };
  return defineScenario({
    name: pcp ? "bench-pairs" : "bench-pairs-nopcp",
    description: "alloc+free pairs",
    machine,
    setup() {
      for (let c = 0; c < CPUS; c++) {
        kthread_run(
          () =>
            Effect.gen(function* () {
              for (let i = 0; i < PAIRS; i++) yield* __free_page((yield* alloc_page(GFP_KERNEL))!);
            }),
          null,
          `pairs/${c}`,
          { cpus: [c] },
        );
      }
    },
  });
}

const sim = (pcp: boolean) => {
  const scn = pairs_scenario(pcp);
  const r = best(3, () => runScenario(scn, { seed: 1, stepLimit: 1e9 }));
  if (r.value.failed) throw new Error(`bench run failed: ${r.value.stop}`);
  return { rate: (CPUS * PAIRS) / (r.ms / 1000), steps: r.value.steps, ms: r.ms };
};
const on = sim(true);
const off = sim(false);

// The bare buddy allocator: the same number of pairs, no CPUs, no locks, no pcp.
const bare = best(5, () => {
  const z = build_memory({ arch: "x86_64", kernel: "2.6", mb: 1024 }, 1).zones.find((x) => x.name === "DMA32")!;
  const t0 = performance.now();
  for (let i = 0; i < CPUS * PAIRS; i++) __free_one_page(z, __rmqueue_smallest(z, 0), 0);
  return performance.now() - t0;
});
const bareRate = (CPUS * PAIRS) / (bare.value / 1000);

console.log(`page allocator: order-0 alloc+free pairs, ${CPUS} CPUs x ${PAIRS}`);
console.log(`  mmsim, pcp on:   ${(on.rate / 1e6).toFixed(3)} M pairs/s  (${on.steps} steps in ${on.ms.toFixed(0)} ms)`);
console.log(`  mmsim, pcp off:  ${(off.rate / 1e6).toFixed(3)} M pairs/s  (${off.steps} steps in ${off.ms.toFixed(0)} ms)`);
console.log(`  bare buddy loop: ${(bareRate / 1e6).toFixed(3)} M pairs/s`);
console.log(`  ratio bare/mmsim (pcp on): ${(bareRate / on.rate).toFixed(0)}x`);

// ---- memory per simulated page, 16 GiB x86_64
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const used = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
let kept: Kernel | null = null;
const big = defineScenario({
  name: "bench-16g",
  description: "boot only",
  machine: { cpus: 2, memory: { arch: "x86_64", kernel: "2.6", mb: 16384 } },
  setup() {
    kept = kernel();
  },
  duration_ms: 1,
});
const before = used();
runScenario(big, { seed: 1 });
const after = used();
const pages = kept!.mm!.mem_map.nr_pages;
console.log(`memory: 16 GiB x86_64 machine, ${pages} page frames`);
console.log(`  ${((after - before) / pages).toFixed(1)} bytes per simulated page (heap + typed arrays, after GC)`);
