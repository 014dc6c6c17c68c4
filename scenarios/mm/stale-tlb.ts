// A missing TLB flush (2 CPUs, 64 MiB i386). A driver vmallocs a buffer on CPU0; a reader on
// CPU1 uses it, so CPU1's TLB caches the translation. The driver then tears the buffer down by
// hand: unmap_kernel_range_noflush() and __free_page(), forgetting flush_tlb_kernel_range().
// When the reader touches the buffer again, CPU1 still translates through its stale entry to a
// page the allocator has taken back: "BUG: stale TLB entry: use-after-free". The fixed twin,
// stale-tlb-fixed, flushes before freeing, and CPU1's next access faults instead (an oops for
// the use-after-free it really is), so it stops touching the buffer once told it is gone.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  __free_page,
  complete,
  flush_tlb_kernel_range,
  init_completion,
  kthread_run,
  mem_read,
  unmap_kernel_range_noflush,
  vmalloc,
  vmalloc_to_page,
  wait_for_completion,
} from "../../src/kernel/index.ts";

function teardown(name: string, flush: boolean): Scenario<{ gone: boolean; addr: number }> {
  return defineScenario({
    name,
    description: flush ? "the same teardown with flush_tlb_kernel_range() before freeing: no stale use" : "a vmalloc buffer unmapped and freed without a TLB flush: CPU1 reads the freed page",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    ...(flush ? {} : { expected_reports: ["stale_tlb" as const] }),
    setup() {
      const st = { gone: false, addr: 0 };
      const mapped = init_completion();
      const used = init_completion();
      const torn = init_completion();
      kthread_run(
        () =>
          Effect.gen(function* () {
            st.addr = yield* vmalloc(4096);
            complete(mapped);
            yield* wait_for_completion(used);
            const page = vmalloc_to_page(st.addr)!;
            unmap_kernel_range_noflush(st.addr, 4096);
            if (flush) yield* flush_tlb_kernel_range(st.addr, st.addr + 4096);
            yield* __free_page(page);
            st.gone = flush; // the fixed driver also tells its users
            complete(torn);
          }),
        null,
        "driver",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            yield* wait_for_completion(mapped);
            mem_read(st.addr, 64);
            complete(used);
            yield* wait_for_completion(torn);
            if (!st.gone) mem_read(st.addr, 64); // the buggy driver never said the buffer is gone
          }),
        null,
        "reader",
        { cpus: [1] },
      );
      return st;
    },
  });
}

export const staleTlb = teardown("stale-tlb", false);
export const staleTlbFixed = teardown("stale-tlb-fixed", true);
