// TLB reach (1 CPU, 64 MiB i386): scanning 4 MiB of memory. From __get_free_pages(GFP_KERNEL,
// 10) the buffer lies in the direct map, covered by one 4 MiB large page: one TLB miss for the
// whole scan. From vmalloc the same 4 MiB is 1024 separate 4 KiB pages: every page misses a
// 64-entry TLB and each miss walks two levels of page tables. The seeds' "vmalloc thrashes the
// TLB" claim, in numbers (printed, and in the run's memory-access statistics).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, __get_free_pages, cpu_counters, free_pages, ktime_get_ns, kthread_run, mem_read, printk, vfree, vmalloc } from "../../src/kernel/index.ts";

const SIZE = 4 << 20;

export default defineScenario({
  name: "tlb-reach",
  description: "scanning 4 MiB from the direct map (one large page) vs from vmalloc (1024 pages)",
  machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
  setup() {
    const st = { direct: { misses: 0, ns: 0 }, vmalloc: { misses: 0, ns: 0 } };
    kthread_run(
      () =>
        Effect.gen(function* () {
          const scan = (addr: number, into: { misses: number; ns: number }) => {
            const m0 = cpu_counters().tlb_misses;
            const t0 = ktime_get_ns();
            mem_read(addr, SIZE);
            into.misses = cpu_counters().tlb_misses - m0;
            into.ns = ktime_get_ns() - t0;
          };
          const d = yield* __get_free_pages(GFP_KERNEL, 10);
          scan(d, st.direct);
          yield* free_pages(d, 10);
          const v = yield* vmalloc(SIZE);
          scan(v, st.vmalloc);
          yield* vfree(v);
          printk(`direct map: ${st.direct.misses} TLB misses, ${(st.direct.ns / 1000).toFixed(1)} us; vmalloc: ${st.vmalloc.misses} TLB misses, ${(st.vmalloc.ns / 1000).toFixed(1)} us`);
        }),
      null,
      "scanner",
    );
    return st;
  },
  check(st, expect) {
    expect.equal(st.direct.misses, 1, "TLB misses scanning the direct-map buffer");
    expect.equal(st.vmalloc.misses, 1024, "TLB misses scanning the vmalloc buffer");
  },
});
