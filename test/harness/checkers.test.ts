// Verify mode's checkers: pages are conserved after every step by the zone's counts (free +
// pcp + nr_allocated = managed), and the full walk recounts the allocated pages from mem_map.
// 64 MiB i386, kernel 2.6: Normal is pfn 4096..16383 (12288 pages), pcp batch 3; the first
// order-0 allocation refills this CPU's list with 3 pages from the order-10 block at 15360 (the
// head of its list) and takes 15360, leaving 12285 free, 2 on the pcp list, 1 allocated. The full
// walk runs every 16384/1024 = 16 steps and at the end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../helpers.ts";
import { kernel } from "../../src/kernel/kernel.ts";
import { GFP_KERNEL, __free_page, alloc_page, msleep } from "../../src/kernel/index.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";
import type { MachineSpec } from "../../src/harness/scenario.ts";

const M64: MachineSpec = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } };

const verifyError = (body: () => Effect.Effect<void>): Error => {
  try {
    inTask(body, M64, { verify: true });
  } catch (e) {
    return e as Error;
  }
  throw new Error("the run passed verify mode");
};

test("a page lost from a pcp list (list and count agreeing) is caught after the step that lost it", () => {
  let sleeps_after = 0;
  const e = verifyError(() =>
    Effect.gen(function* () {
      const p = (yield* alloc_page(GFP_KERNEL))!;
      const z = kernel().mm!.page_zone(p)!;
      const pcp = z.pageset[kernel().this_cpu().id]!;
      pcp.list.pop();
      pcp.count--;
      // Each msleep ends a step; the full walk would come within 16 of them.
      for (let i = 0; i < 40; i++) {
        yield* msleep(1);
        sleeps_after++;
      }
    }),
  );
  assert.is(e.name, "SimError");
  assert.ok(e.message.startsWith("verify: node 0 zone Normal: pages not conserved: 12285 free + 1 on pcp lists + 1 allocated != 12288 managed"), e.message);
  assert.is(sleeps_after, 0);
});

test("a block whose recorded order disagrees with nr_allocated is caught by the mem_map walk", () => {
  // alloc_order says 15360 heads an order-1 block (2 pages); the allocator counted 1.
  const e = verifyError(() =>
    Effect.gen(function* () {
      const p = (yield* alloc_page(GFP_KERNEL))!;
      kernel().mm!.alloc_order[p] = 1;
    }),
  );
  assert.is(e.name, "SimError");
  assert.ok(e.message.startsWith("verify: node 0 zone Normal: mem_map holds 2 allocated pages, nr_allocated says 1"), e.message);
});

test("nr_allocated follows allocation and free: 1 after alloc_page, 0 after __free_page", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const p = (yield* alloc_page(GFP_KERNEL))!;
        const z = kernel().mm!.page_zone(p)!;
        seen.push(z.nr_allocated, z.free_pages, z.pageset[kernel().this_cpu().id]!.count);
        yield* __free_page(p);
        seen.push(z.nr_allocated, z.free_pages, z.pageset[kernel().this_cpu().id]!.count);
      }),
    M64,
    { verify: true },
  );
  assert.equal(r.reports, []);
  // The freed page goes back to the pcp list (3 < high 18): 12285 free, 3 on the list.
  assert.equal(seen, [1, 12285, 2, 0, 12285, 3]);
});

test("a whole scenario keeps the books in verify mode: fragmentation", () => {
  const r = runScenario(findScenario("fragmentation")!, { seed: 1, verify: true });
  assert.is(r.failed, false, r.expectations.join("; "));
});

test.run();
