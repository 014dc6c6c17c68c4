// The page allocator's ops (alloc_pages_node with its order-0 pcp case inline, __free_pages)
// against get_page_from_freelist's Effect code: the same pages in the same order, the same trace
// (hash) and steps with the fast path on and off, on one node and two, pcp on and off, down to
// exhaustion; and the pcp list's order worked out by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../../helpers.ts";
import type { MachineSpec } from "../../../src/harness/scenario.ts";
import type { RunResult } from "../../../src/harness/run.ts";
import { page_fast_paths } from "../../../src/kernel/mm/page_alloc_fast.ts";
import { GFP_ATOMIC, GFP_KERNEL, __GFP_COLD, __GFP_NOWARN, __GFP_ZERO, __free_page, __free_pages, alloc_page, alloc_pages, alloc_pages_node, kthread_run } from "../../../src/kernel/index.ts";

const MASKS = [GFP_KERNEL, GFP_KERNEL | __GFP_ZERO, GFP_KERNEL | __GFP_COLD, GFP_ATOMIC | __GFP_NOWARN];

/** One task's mix: single pages past a pcp batch, frees in another order (past the high mark), some order-1 blocks, then GFP_ATOMIC until it fails. */
function* workload(name: string, nodes: number, log: string[]): Generator<Effect.Effect<unknown>, void, any> {
  const live: number[] = [];
  for (let i = 0; i < 300; i++) {
    const p: number | null = yield* i % 7 === 6 ? alloc_pages_node(i % nodes, MASKS[i % 4]!, 0) : alloc_page(MASKS[i % 4]!);
    log.push(`${name} ${p}`);
    if (p !== null) live.push(p);
  }
  const pairs: (number | null)[] = [];
  for (let i = 0; i < 20; i++) pairs.push(yield* alloc_pages(GFP_KERNEL, 1));
  log.push(`${name} order-1 ${pairs.join(",")}`);
  for (let i = 0; i < live.length; i += 2) yield* __free_page(live[i]!);
  for (let i = 1; i < live.length; i += 2) yield* __free_page(live[i]!);
  for (const p of pairs) if (p !== null) yield* __free_pages(p, 1);
  const atomic: number[] = [];
  for (;;) {
    const p: number | null = yield* alloc_page(GFP_ATOMIC | __GFP_NOWARN);
    if (p === null) break;
    atomic.push(p);
  }
  log.push(`${name} atomic ${atomic.length} pages, last ${atomic[atomic.length - 1]}`);
  for (const p of atomic) yield* __free_page(p);
}

function both(machine: MachineSpec, fast: boolean): { log: string[]; r: RunResult } {
  const log: string[] = [];
  page_fast_paths.enabled = fast;
  try {
    const nodes = machine.memory?.nodes ?? 1;
    const scn = inline(() => {
      for (const cpu of [0, 1, 2, 3]) kthread_run(() => Effect.gen(() => workload(`t${cpu}`, nodes, log)), null, `t${cpu}`, { cpus: [cpu] });
    }, machine);
    return { log, r: run(scn, { seed: 5 }) };
  } finally {
    page_fast_paths.enabled = true;
  }
}

function same_either_way(machine: MachineSpec): void {
  const fast = both(machine, true);
  const slow = both(machine, false);
  assert.is(fast.r.failed, false);
  assert.is(fast.log.length, 4 * (300 + 2));
  assert.equal(fast.log, slow.log);
  assert.is(fast.r.traceHash, slow.r.traceHash);
  assert.is(fast.r.steps, slow.r.steps);
}

test("one node, pcp on: the same pages, trace and steps with the fast path on and off", () => {
  same_either_way({ cpus: 4, memory: { arch: "i386", kernel: "2.6", mb: 64 } });
});

test("two nodes (NUMA statistics, a node's own zonelist), kernel 6: the same either way", () => {
  same_either_way({ cpus: 4, memory: { arch: "x86_64", kernel: "6", mb: 32, nodes: 2 } });
});

test("pcp off (order 0 straight from the buddy lists): the same either way", () => {
  same_either_way({ cpus: 4, memory: { arch: "x86_64", kernel: "2.6", mb: 16, pcp: false } });
});

test("the pcp list: a batch comes in ascending from its head, a freed page goes back to the head", () => {
  let out: (number | null)[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = (yield* alloc_page(GFP_KERNEL))!; // rmqueue_bulk fills the empty list (the Effect code)
        const b = (yield* alloc_page(GFP_KERNEL))!; // off the list (the op)
        yield* __free_page(a);
        const c = (yield* alloc_page(GFP_KERNEL))!;
        const cold = (yield* alloc_page(GFP_KERNEL | __GFP_COLD))!; // from the tail
        out = [b - a, c - a, cold - a];
      }),
    { cpus: 1, memory: { arch: "x86_64", kernel: "2.6", mb: 64 } },
  );
  // DMA32 (12288 pages) has batch 3 (zone_batchsize: 12288 / 1024 / 4 = 3, rounddown_pow_of_two(3 + 1) - 1):
  // the list holds a, a+1, a+2; b is a+1, a goes back to the head, the cold page is the tail, a+2.
  assert.equal(out, [1, 0, 2]);
});

test.run();
