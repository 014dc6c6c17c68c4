// The memory a simulated page costs: a 16 GiB x86_64 machine booted (4 M page frames), the heap
// and typed arrays measured after a full GC before and after (run with node --expose-gc).
import { runScenario } from "../src/harness/run.ts";
import { defineScenario } from "../src/harness/scenario.ts";
import { kernel, type Kernel } from "../src/kernel/kernel.ts";

export function bytesPerPage(): { pages: number; bytes: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  const used = (): number => {
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
  const pages = (kept as Kernel | null)!.mm!.mem_map.nr_pages;
  return { pages, bytes: (after - before) / pages };
}
