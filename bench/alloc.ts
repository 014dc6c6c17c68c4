// The allocators' fast paths through the whole simulated kernel: order-0 alloc_page +
// __free_page pairs and kmalloc(64) + kfree pairs on 4 CPUs (each CPU its own loop; zonelist,
// watermark check, pcp list or slab array with interrupts off, zone->lock for batches, the
// tracepoints, the interleaving points), against the bare buddy functions doing the same number
// of pairs in a plain loop (__rmqueue_smallest + __free_one_page on one zone: no CPUs, no locks, no
// pcp), which is the unit the ratios are taken in.
import * as Effect from "effect/Effect";
import { runScenario } from "../src/harness/run.ts";
import { defineScenario, type MachineSpec } from "../src/harness/scenario.ts";
import { GFP_KERNEL, __free_page, alloc_page, kfree, kmalloc, kthread_run } from "../src/kernel/index.ts";
import { build_memory } from "../src/kernel/mm/mmzone.ts";
import { __free_one_page, __rmqueue_smallest } from "../src/kernel/mm/buddy.ts";
import { best } from "./measure.ts";

export const CPUS = 4;
export const PAIRS = 20_000; // per CPU

const MACHINE = (pcp: boolean): MachineSpec => ({ cpus: CPUS, memory: { arch: "x86_64", kernel: "2.6", mb: 1024, pcp } });

function pairsScenario(kind: "page" | "kmalloc", pcp: boolean) {
  return defineScenario({
    name: `bench-${kind}-pairs`,
    description: `${kind} alloc+free pairs`,
    machine: MACHINE(pcp),
    setup() {
      for (let c = 0; c < CPUS; c++) {
        const body =
          kind === "page"
            ? () =>
                Effect.gen(function* () {
                  for (let i = 0; i < PAIRS; i++) yield* __free_page((yield* alloc_page(GFP_KERNEL))!);
                })
            : () =>
                Effect.gen(function* () {
                  for (let i = 0; i < PAIRS; i++) yield* kfree(yield* kmalloc(64, GFP_KERNEL));
                });
        kthread_run(body, null, `pairs/${c}`, { cpus: [c] });
      }
    },
  });
}

export interface Pairs {
  /** Pairs per second. */
  readonly rate: number;
  readonly steps: number;
  readonly ms: number;
}

/** alloc_page + __free_page (kind "page") or kmalloc(64) + kfree pairs per second, best of 3. */
export function simPairs(kind: "page" | "kmalloc", pcp = true): Pairs {
  const scn = pairsScenario(kind, pcp);
  const r = best(3, () => runScenario(scn, { seed: 1, stepLimit: 1e9 }));
  if (r.value.failed) throw new Error(`bench run failed: ${r.value.stop}`);
  return { rate: (CPUS * PAIRS) / (r.ms / 1000), steps: r.value.steps, ms: r.ms };
}

/** The bare buddy allocator: the same number of pairs in a plain loop, pairs per second, best of 5. */
export function bareBuddyPairs(): number {
  let ms = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const z = build_memory({ arch: "x86_64", kernel: "2.6", mb: 1024 }, 1).zones.find((x) => x.name === "DMA32")!;
    const t0 = performance.now();
    for (let i = 0; i < CPUS * PAIRS; i++) __free_one_page(z, __rmqueue_smallest(z, 0), 0);
    ms = Math.min(ms, performance.now() - t0);
  }
  return (CPUS * PAIRS) / (ms / 1000);
}
