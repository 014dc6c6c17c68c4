// TLB reach (1 CPU, 64 MiB i386): 4 MiB of memory, read two ways. From __get_free_pages(GFP_KERNEL,
// 10) the buffer lies in the direct map, covered by one 4 MiB large page: one TLB miss for the
// whole scan. From vmalloc the same 4 MiB is 1024 separate 4 KiB pages: every page misses a
// 64-entry TLB and each miss walks two levels of page tables.
// The whole-buffer scan is memory-bound (64 lines a page from memory), so its times differ by
// well under 1%; the strided pass that follows each scan reads one word per 4 KiB page, where the
// walks show. After the direct scan its one large TLB entry is still there: no miss at all. The
// vmalloc buffer's last 64 pages are in the TLB, but the pass starts from page 0 and evicts each
// before it is reached: 1024 misses. Both passes miss the cache on every word (each word is a
// page's line 0: all in cache set 0, 1024 lines for 8 ways). The difference, from the cost table
// (walk = page_walk, hit = cache_hit, mem = memory): 1024 walks, each a PDE read that hits (the
// line stays: nothing else uses its set during the pass) and a PTE read; the PTE page's 64 lines
// (16 entries each) are not cached after the scan but the last (read at its end), so 63 miss
// once and hit 15 times, and the last hits 16 times:
//   1024 x (walk + hit) + 63 x (mem + 15 x hit) + 16 x hit = 1024 x 21 + 63 x 95 + 16 = 27505 ns
// with the default costs (20, 1, 80), against 1024 x 80 = 81920 ns for the direct pass: a third
// more time, the seeds' "vmalloc thrashes the TLB" in numbers.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, __get_free_pages, cpu_counters, free_pages, ktime_get_ns, kthread_run, machine_costs, mem_read, printk, vfree, vmalloc } from "../../src/kernel/index.ts";

const SIZE = 4 << 20;
const PAGES = SIZE / 4096;

interface Pass {
  misses: number;
  ns: number;
}

/** The time and TLB misses of `f` on this CPU. */
function measure(into: Pass, f: () => void): void {
  const m0 = cpu_counters().tlb_misses;
  const t0 = ktime_get_ns();
  f();
  into.misses = cpu_counters().tlb_misses - m0;
  into.ns = ktime_get_ns() - t0;
}

const scan = (addr: number) => () => mem_read(addr, SIZE);
const strided = (addr: number) => () => {
  for (let i = 0; i < PAGES; i++) mem_read(addr + i * 4096, 4);
};
const pass = (): Pass => ({ misses: 0, ns: 0 });
const us = (ns: number) => (ns / 1000).toFixed(1);

export default defineScenario({
  name: "tlb-reach",
  description: "4 MiB from the direct map (one large page) vs from vmalloc (1024 pages): a whole scan, then one word a page",
  machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
  setup() {
    const st = { direct: pass(), vmalloc: pass(), direct_strided: pass(), vmalloc_strided: pass(), costs: {} as Readonly<Record<string, number>> };
    kthread_run(
      () =>
        Effect.gen(function* () {
          st.costs = machine_costs();
          const d = yield* __get_free_pages(GFP_KERNEL, 10);
          measure(st.direct, scan(d));
          measure(st.direct_strided, strided(d));
          yield* free_pages(d, 10);
          const v = yield* vmalloc(SIZE);
          measure(st.vmalloc, scan(v));
          measure(st.vmalloc_strided, strided(v));
          yield* vfree(v);
          printk(`whole scan: direct map ${st.direct.misses} TLB misses, ${us(st.direct.ns)} us; vmalloc ${st.vmalloc.misses} TLB misses, ${us(st.vmalloc.ns)} us`);
          printk(`one word a page: direct map ${st.direct_strided.misses} TLB misses, ${us(st.direct_strided.ns)} us; vmalloc ${st.vmalloc_strided.misses} TLB misses, ${us(st.vmalloc_strided.ns)} us`);
        }),
      null,
      "scanner",
    );
    return st;
  },
  check(st, expect) {
    const { page_walk: walk, cache_hit: hit, memory: mem } = st.costs as Record<string, number>;
    expect.equal(st.direct.misses, 1, "TLB misses scanning the direct-map buffer");
    expect.equal(st.vmalloc.misses, 1024, "TLB misses scanning the vmalloc buffer");
    expect.equal(st.direct_strided.misses, 0, "TLB misses reading a word a page of the direct-map buffer (its large entry stayed)");
    expect.equal(st.vmalloc_strided.misses, 1024, "TLB misses reading a word a page of the vmalloc buffer");
    expect.equal(st.direct_strided.ns, PAGES * mem!, "ns reading a word a page of the direct-map buffer (a cache miss each)");
    expect.equal(st.vmalloc_strided.ns - st.direct_strided.ns, PAGES * (walk! + hit!) + 63 * (mem! + 15 * hit!) + 16 * hit!, "ns the vmalloc pass takes longer (the walks)");
  },
});
