// Fixes from the review of the memory manager, each with the case that showed it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { DEFINE_SPINLOCK, ndelay, GFP_ATOMIC, GFP_DMA, GFP_KERNEL, __GFP_NOWARN, __free_page, alloc_page, kthread_run, page_cache_fill, spin_lock, spin_trylock, spin_unlock } from "../../../src/kernel/index.ts";
import { build_memory } from "../../../src/kernel/mm/mmzone.ts";
import { zonelist } from "../../../src/kernel/mm/page_alloc.ts";
import type { MmState } from "../../../src/kernel/mm/mm_state.ts";

test("pcp off: two CPUs racing for a zone's last pages never get a page that is not there", () => {
  // DMA holds 16 pages; two CPUs take GFP_DMA pages until NULL. Between the watermark check and
  // zone->lock the other CPU may take the last page: the allocation falls back, never returns -1.
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const got: number[] = [];
    const scn = inline(
      () => {
        for (const c of [0, 1]) {
          kthread_run(
            () =>
              Effect.gen(function* () {
                for (;;) {
                  const p = yield* alloc_page(GFP_ATOMIC | GFP_DMA | __GFP_NOWARN);
                  if (p === null) break;
                  got.push(p);
                }
              }),
            null,
            `a${c}`,
            { cpus: [c] },
          );
        }
      },
      { cpus: 2, memory: { arch: "x86_64", kernel: "2.6", pcp: false, zones: [{ name: "DMA", managed: 16 }, { name: "DMA32", managed: 65536 }] } },
    );
    const r = run(scn, { seed, verify: true });
    assert.equal(r.reports, []);
    assert.ok(got.every((p) => p >= 0 && p < 16), `seed ${seed}: ${got.join(",")}`);
    assert.is(new Set(got).size, got.length);
  }
});

test("freeing a page that is still in the page cache: Bad page state, and it stays cached", () => {
  let cached = 0;
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const pages = yield* page_cache_fill(10);
        yield* __free_page(pages[0]!); // wrong: the page cache holds it
        cached = kernel().mm!.zones.reduce((s, z) => s + z.lru[2]!.count, 0);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 16 } },
    { verify: true },
  );
  assert.equal(r.reports.map((x) => x.kind), ["bad_page"]);
  assert.match(r.reports[0]!.text, /\n\(non-NULL mapping\)\n/);
  assert.is(cached, 10);
});

test("an allocation no zone can serve (GFP_DMA without ZONE_DMA) returns NULL at once", () => {
  let got: unknown = "unset";
  const r = inTask(
    () =>
      Effect.gen(function* () {
        got = yield* alloc_page(GFP_KERNEL | GFP_DMA);
      }),
    { cpus: 1, memory: { arch: "x86_64", kernel: "2.6", zones: [{ name: "DMA32", managed: 4096 }] } },
  );
  assert.is(got, null);
  assert.equal(r.reports, []);
  assert.ok(r.steps < 50, `${r.steps} steps`);
});

test("a zone that runs past its arch boundary is bad input", () => {
  assert.throws(
    () => build_memory({ arch: "i386", kernel: "2.6", zones: [{ name: "DMA", managed: 4096 }, { name: "Normal", managed: 230000 }] }, 1),
    /zone Normal: 230000 pages from 16 MiB run past the Normal zone's end at pfn 227326 \(887.99 MiB\) on i386/,
  );
});

test("2.6.34 zone order on i386 NUMA: HighMem of both nodes before Normal and DMA", () => {
  // 2 GiB, 2 nodes: node 0 has DMA 4096, Normal 225280, HighMem 32768; node 1 HighMem 262144.
  // low = 4096 of 524288 pages; average 174762; node 0's low share is tiny: zone order.
  const mm = build_memory({ arch: "i386", kernel: "2.6", mb: 2048, nodes: 2 }, 2) as unknown as MmState;
  const names = (nid: number) => zonelist(mm, nid, 2).map((z) => `${z.node}/${z.name}`);
  assert.equal(names(0), ["0/HighMem", "1/HighMem", "0/Normal", "0/DMA"]);
  assert.equal(names(1), ["1/HighMem", "0/HighMem", "0/Normal", "0/DMA"]);
});

test("direct reclaim leaves the priority it reached in zoneinfo's prev_priority", () => {
  let prev: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        yield* page_cache_fill(9000, { dirty: true });
        prev = kernel().mm!.zones.filter((z) => z.populated).map((z) => z.prev_priority);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 32 } },
  );
  assert.ok(prev.some((p) => p < 12), prev.join(","));
});

test("spin_trylock fails on a lock released later in virtual time than the caller's clock", () => {
  const cases: { inside: boolean; got: number }[] = [];
  for (const seed of [1, 2, 3]) {
    const w = { take: 0, release: 0, attempt: 0, got: -1 };
    const scn = inline(() => {
      const l = DEFINE_SPINLOCK("l");
      kthread_run(
        () =>
          Effect.gen(function* () {
            yield* spin_lock(l);
            w.take = kernel().now();
            kernel().charge(50_000); // holds it for 50 us of its CPU's time, with no interleaving point
            w.release = kernel().now();
            yield* spin_unlock(l);
          }),
        null,
        "holder",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            yield* ndelay(5_000);
            w.attempt = kernel().now();
            w.got = yield* spin_trylock(l);
            if (w.got) yield* spin_unlock(l);
          }),
        null,
        "trier",
        { cpus: [1] },
      );
    });
    run(scn, { seed });
    cases.push({ inside: w.attempt > w.take && w.attempt < w.release, got: w.got });
  }
  assert.ok(cases.some((c) => c.inside), "no attempt fell inside the holder's window");
  for (const c of cases) if (c.inside) assert.is(c.got, 0);
});

test("GFP_KERNEL|GFP_DMA exhausting ZONE_DMA: 2.6.34 calls the OOM killer (here: nothing to kill, panic), 6.x fails", () => {
  const eat = () =>
    Effect.gen(function* () {
      while ((yield* alloc_page(GFP_KERNEL | GFP_DMA)) !== null);
    });
  const r26 = inTask(eat, { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 } });
  assert.equal(r26.reports.map((x) => x.title), ["Kernel panic - not syncing: Out of memory and no killable processes..."]);
  const r6 = inTask(eat, { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 32 } });
  assert.equal(r6.reports.map((x) => x.title), ["t: page allocation failure: order:0, mode:0xcc1(GFP_KERNEL|GFP_DMA), nodemask=(null)"]);
  assert.is(r6.stop, "done");
});

test.run();
