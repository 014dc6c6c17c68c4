// Kernel memory accesses through the TLB and caches, costs from the default tables (cache: hit
// 1, memory 80; a TLB miss on the i386 direct map reads one page-directory entry).
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

test("an unmapped vmalloc-range address is an oops; an address no model covers is bad input", () => {
  const r = inTask(
    () =>
      Effect.sync(() => {
        mem_read(0xf8000000, 4);
      }),
    M,
  );
  assert.equal(r.reports.map((x) => x.title), ["BUG: unable to handle kernel paging request at f8000000"]);
  assert.match(r.stop, /^stopped: /);
  assert.throws(
    () =>
      inTask(
        () =>
          Effect.sync(() => {
            mem_read(0xfffff800, 4);
          }),
        M,
      ),
    /access to 0xfffff800: not a direct-map, vmalloc or kmap address/,
  );
});

test.run();
