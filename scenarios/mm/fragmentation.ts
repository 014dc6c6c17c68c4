// Fragmentation (32 MiB i386, kernel 2.6): a task takes every page GFP_ATOMIC will give, then
// frees every other one. Half of memory is free again, but in single pages whose buddies are
// still allocated, so nothing merges: an order-4 request (64 KiB, as a driver's DMA ring might
// make) fails with 8 MiB free. The 2.6 watermark check walks the orders below the request: after
// taking the ~2000 single pages off the free count, what is left in larger blocks (a few dozen
// pages of the atomic reserve) is below min/2, so no zone qualifies. 2.6.34 has no compaction,
// and reclaim finds nothing to reclaim (no page cache), so even GFP_KERNEL gives up; order 4 is
// above PAGE_ALLOC_COSTLY_ORDER, which also keeps the OOM killer out. The task keeps its pages
// to the end of the run, so `--proc buddyinfo` shows the free blocks the request met (so does
// the failure's Mem-Info): a couple of thousand single pages and a few blocks of the reserve.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { kernel_era, GFP_ATOMIC, GFP_KERNEL, __GFP_NOWARN, __free_page, __free_pages, alloc_page, alloc_pages, for_each_populated_zone, kthread_run, printk, type page } from "../../src/kernel/index.ts";

export default defineScenario({
  name: "fragmentation",
  description: "an order-4 allocation fails with half of memory free in single pages",
  machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 } },
  expected_reports: ["alloc_failure"],
  setup() {
    const st = { free: 0, largest_order: -1, order4: "unset" as string | number | null, order4_before: null as page | null, era: "2.6" };
    kthread_run(
      () =>
        Effect.gen(function* () {
          // Before: a fresh machine has order-10 blocks; order 4 is easy.
          st.order4_before = yield* alloc_pages(GFP_KERNEL, 4);
          if (st.order4_before !== null) yield* __free_pages(st.order4_before, 4);
          // Take every page the allocator gives without reclaim.
          const pages: page[] = [];
          for (;;) {
            const p = yield* alloc_page(GFP_ATOMIC | __GFP_NOWARN);
            if (p === null) break;
            pages.push(p);
          }
          // Free every other page: the survivors pin each freed page's buddy.
          pages.sort((a, b) => a - b);
          for (let i = 0; i < pages.length; i += 2) yield* __free_page(pages[i]!);
          for_each_populated_zone((z) => {
            st.free += z.free_pages;
            z.free_area.forEach((a, o) => {
              if (a.nr_free > 0) st.largest_order = Math.max(st.largest_order, o);
            });
          });
          st.era = kernel_era();
          printk(`fragmentation: ${st.free} pages free, largest free block order ${st.largest_order}`);
          for_each_populated_zone((z) => printk(`${z.name}: ${z.free_area.map((a) => a.nr_free).join(" ")}`));
          const p = yield* alloc_pages(GFP_KERNEL, 4);
          st.order4 = p;
          printk(`fragmentation: alloc_pages(GFP_KERNEL, 4) = ${p === null ? "NULL" : p}`);
          if (p !== null) yield* __free_pages(p, 4);
          // The survivors (pages[1], pages[3], ...) stay allocated: the run ends fragmented.
        }),
      null,
      "fragger",
    );
    return st;
  },
  check(st, expect) {
    expect.that(st.order4_before !== null, "order 4 failed even on the fresh machine");
    expect.that(st.free > 3000, `only ${st.free} pages were free`);
    // 2.6's watermark check fails it (the pages in blocks of order 1 and up are below min/2);
    // 6.x only asks for one free block of order 4 or more, which the atomic reserve may still hold.
    if (st.era === "2.6" || st.largest_order < 4) expect.equal(st.order4, null, "the order-4 allocation on fragmented memory");
    else expect.that(st.order4 !== null, "order 4 failed although a block of order 4 or more was free (kernel 6)");
  },
});
