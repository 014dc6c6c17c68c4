// Kernel memory accesses through the TLB and caches, costs from the default tables (cache: hit
// 1, memory 80; a TLB miss on the i386 direct map reads one page-directory entry, a PSE entry,
// except in the first 4 MiB, mapped with 4 KiB pages: a PDE and a PTE).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_KERNEL, __get_free_page, mem_read, mem_write, memcpy, memset } from "../../../src/kernel/index.ts";

const M = { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } } as const;

test("first touch: a TLB miss (one PDE read from memory) and a cache miss; then hits", () => {
  const cost: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        const k = kernel();
        const t = () => k.now();
        let t0 = t();
        mem_read(a, 8);
        cost.push(t() - t0); // PDE from memory (80) + the line from memory (80)
        t0 = t();
        mem_write(a + 8, 8);
        cost.push(t() - t0); // TLB hit, cache hit (Exclusive -> Modified): 1
        t0 = t();
        memset(a + 64, 0, 256);
        cost.push(t() - t0); // 4 new lines: 4 * 80
        t0 = t();
        memcpy(a + 1024, a, 128);
        cost.push(t() - t0); // reads 2 cached lines (1 + 1), writes 2 new lines (2 * 80)
        const tlb = k.machine.tlbs[0]!;
        cost.push(tlb.misses, tlb.hits);
      }),
    M,
  );
  assert.equal(cost, [160, 1, 320, 162, 1, 4]); // one TLB miss, then every access hits
});

for (const [addr, title] of [
  [0xf8000000, "BUG: unable to handle kernel paging request at f8000000"], // vmalloc range, nothing there
  [0xfffff800, "BUG: unable to handle kernel paging request at fffff800"], // the top page directory entry is empty
  [0x10, "BUG: unable to handle kernel NULL pointer dereference at 00000010"],
] as const) {
  test(`an access the page tables do not map is an oops that stops the machine: ${title.slice(35)}`, () => {
    const r = inTask(
      () =>
        Effect.sync(() => {
          mem_read(addr, 4);
        }),
      M,
    );
    assert.equal(r.reports.map((x) => x.title), [title]);
    assert.match(r.reports[0]!.text, /\nOops: 0000 \[#1\] SMP\n/);
    assert.match(r.stop, /^stopped: /);
  });
}

test("the direct map's first 4 MiB are 4 KiB pages (2 levels walked, one TLB entry a page); above it 4 MiB pages", () => {
  const seen: number[] = [];
  inTask(
    () =>
      Effect.sync(() => {
        const k = kernel();
        const tlb = k.machine.tlbs[0]!;
        const t0 = k.now();
        mem_read(0xc0100000, 4); // PDE + PTE + the line: 3 reads from memory
        mem_read(0xc0101000, 4); // the next page: a TLB miss; PDE and PTE (the next word) cached: 1 + 1 + 80
        seen.push(k.now() - t0, tlb.misses);
        const t1 = k.now();
        mem_read(0xc0800000, 4); // 8 MiB: PDE 770, in the cached line of PDEs 768..783 (1), + the line (80)
        mem_read(0xc0801000, 4); // same 4 MiB TLB entry: the line only
        seen.push(k.now() - t1, tlb.misses);
      }),
    M,
  );
  assert.equal(seen, [240 + 82, 2, 81 + 80, 3]);
});

test("costs come from the machine: memory 200 ns and a cache hit 2 ns change the first touch and a hit; a bad key is named", () => {
  const cost: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        const k = kernel();
        let t0 = k.now();
        mem_read(a, 8);
        cost.push(k.now() - t0); // the PSE entry and the line, both from memory
        t0 = k.now();
        mem_read(a, 8);
        cost.push(k.now() - t0);
      }),
    { ...M, costs: { memory: 200, cache_hit: 2 } },
  );
  assert.equal(cost, [400, 2]);
  assert.throws(() => inTask(() => Effect.void, { ...M, costs: { dram: 1 } }), /costs: unknown field "dram" \(accepted: step, atomic, .*, llc_hit\)/);
  assert.throws(() => inTask(() => Effect.void, { ...M, costs: { memory: -1 } }), /costs.memory must be a whole number of ns/);
});

test.run();
