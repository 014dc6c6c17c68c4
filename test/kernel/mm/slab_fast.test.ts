// The slab fast paths (kmalloc/kzalloc, kfree, kmem_cache_alloc/zalloc, kmem_cache_free as ops)
// against the Effect code they stand in for: the same objects in the same order, the same trace
// (hash), the same number of steps, with the fast paths on and off; and the array cache's LIFO
// order worked out by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../../helpers.ts";
import type { MachineSpec } from "../../../src/harness/scenario.ts";
import type { RunResult } from "../../../src/harness/run.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { slab_fast_paths } from "../../../src/kernel/mm/slab_fast.ts";
import {
  DEFINE_SPINLOCK,
  GFP_ATOMIC,
  GFP_KERNEL,
  ZERO_SIZE_PTR,
  kfree,
  kmalloc,
  kmem_cache_alloc,
  kmem_cache_create,
  kmem_cache_free,
  kmem_cache_zalloc,
  kthread_run,
  kzalloc,
  spin_lock_irqsave,
  spin_unlock_irqrestore,
  type kmem_cache,
} from "../../../src/kernel/index.ts";

const SIZES = [8, 32, 64, 100, 192, 256, 700, 2048, 4096, 9000];

/** One task's mix: allocations past the array's limit (refills), frees in another order (flushes), a cache of its own, GFP_ATOMIC with interrupts off. */
function* workload(name: string, log: string[]): Generator<Effect.Effect<unknown>, void, any> {
  const live: number[] = [];
  for (let i = 0; i < 400; i++) {
    const size = SIZES[i % SIZES.length]!;
    const p: number = yield* i % 3 === 0 ? kzalloc(size, GFP_KERNEL) : kmalloc(size, GFP_KERNEL);
    log.push(`${name} kmalloc(${size}) ${p.toString(16)}`);
    live.push(p);
  }
  for (let i = 0; i < live.length; i += 2) yield* kfree(live[i]!);
  for (let i = 1; i < live.length; i += 2) yield* kfree(live[i]!);
  const c: kmem_cache | null = yield* kmem_cache_create(`${name}_cache`, 100, 0, 0, null);
  const objs: number[] = [];
  for (let i = 0; i < 300; i++) objs.push(yield* i % 2 === 0 ? kmem_cache_alloc(c!, GFP_KERNEL) : kmem_cache_zalloc(c!, GFP_KERNEL));
  log.push(`${name} cache ${objs.map((o) => o.toString(16)).join(",")}`);
  for (const o of objs.reverse()) yield* kmem_cache_free(c!, o);
  const lock = DEFINE_SPINLOCK(`${name}_lock`);
  for (let i = 0; i < 50; i++) {
    const flags: number = yield* spin_lock_irqsave(lock);
    const p: number = yield* kmalloc(128, GFP_ATOMIC);
    yield* kfree(p);
    yield* spin_unlock_irqrestore(lock, flags);
    log.push(`${name} atomic ${p.toString(16)}`);
  }
  yield* kfree(0);
  yield* kfree(ZERO_SIZE_PTR);
  log.push(`${name} kmalloc(0) ${yield* kmalloc(0, GFP_KERNEL)}`);
}

/** Two tasks, one per CPU, running the workload at once; the objects each got, in order, and the run. */
function both(machine: MachineSpec, fast: boolean): { log: string[]; r: RunResult } {
  const log: string[] = [];
  slab_fast_paths.enabled = fast;
  try {
    const scn = inline(() => {
      for (const cpu of [0, 1]) kthread_run(() => Effect.gen(() => workload(`t${cpu}`, log)), null, `t${cpu}`, { cpus: [cpu] });
    }, machine);
    const r = run(scn, { seed: 3, verify: true });
    return { log, r };
  } finally {
    slab_fast_paths.enabled = true;
  }
}

function same_either_way(machine: MachineSpec): void {
  const fast = both(machine, true);
  const slow = both(machine, false);
  assert.is(fast.r.failed, false);
  assert.is(fast.log.length, 2 * (400 + 1 + 50 + 1));
  assert.equal(fast.log, slow.log);
  assert.is(fast.r.traceHash, slow.r.traceHash);
  assert.is(fast.r.steps, slow.r.steps);
}

test("2.6.34 x86_64: the same objects, trace and steps with the fast paths on and off", () => {
  same_either_way({ cpus: 2, memory: { arch: "x86_64", kernel: "2.6", mb: 64 } });
});

test("6.1 i386 (large kmallocs through the page allocator): the same either way", () => {
  same_either_way({ cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } });
});

test("failslab failing a third of the allocations that may sleep: the same draws and failures either way", () => {
  const machine: MachineSpec = { cpus: 2, memory: { arch: "x86_64", kernel: "2.6", mb: 64 }, fault_injection: { failslab: { probability: 30, times: -1, "ignore-gfp-wait": false, verbose: 0 } } };
  const fast = both(machine, true);
  const slow = both(machine, false);
  assert.ok(fast.log.some((l) => l.endsWith(" 0")), "some allocations failed");
  assert.equal(fast.log, slow.log);
  assert.is(fast.r.traceHash, slow.r.traceHash);
  assert.is(fast.r.steps, slow.r.steps);
});

test("the array cache is LIFO: the next object is the one below, a freed one comes back first", () => {
  let out: number[] = [];
  let frames = -1;
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(64, GFP_KERNEL); // refills the empty array (the Effect code)
        const b = yield* kmalloc(64, GFP_KERNEL); // off the array (the op)
        yield* kfree(b);
        const c = yield* kmalloc(64, GFP_KERNEL);
        yield* kfree(a);
        const d = yield* kmalloc(64, GFP_KERNEL);
        out = [b - a, c - b, d - a];
        frames = kernel().this_ctx().frames.length;
      }),
    { cpus: 1, memory: { arch: "x86_64", kernel: "2.6", mb: 64 } },
  );
  // A refill puts the slab's objects on the array in index order, so the top is the highest.
  assert.equal(out, [-64, 0, 0]);
  // Every with_frame frame the ops pushed was popped: only the kthread's own two remain.
  assert.is(frames, 2);
});

test.run();
