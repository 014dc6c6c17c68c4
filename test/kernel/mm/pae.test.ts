// i386 with PAE: three-level tables, 2 MiB direct-map pages, 512 kmap slots, memory past 4 GiB.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_HIGHUSER, GFP_KERNEL, __get_free_pages, alloc_page, cpu_counters, format_kaddr, kmap, mem_read, vmalloc } from "../../../src/kernel/index.ts";
import { build_memory } from "../../../src/kernel/mm/mmzone.ts";
import { procOfFreshMachine } from "../../../src/harness/run.ts";
import { pkmap_of } from "../../../src/kernel/mm/highmem.ts";

const PAE = { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 1024, pae: true } } as const;

test("without PAE i386 stops at 4 GiB; with it, 8 GiB lays out DMA, Normal and a big HighMem", () => {
  assert.throws(() => build_memory({ arch: "i386", kernel: "2.6", mb: 8192 }, 1), /i386 without PAE addresses 4 GiB of memory; this layout ends at 8192 MiB \(set "pae": true for up to 64 GiB\)/);
  const m = build_memory({ arch: "i386", kernel: "2.6", mb: 8192, pae: true }, 1);
  assert.equal(m.zones.filter((z) => z.populated).map((z) => [z.name, z.present_pages]), [["DMA", 4096], ["Normal", 223742], ["HighMem", 1869314]]);
  assert.throws(() => build_memory({ arch: "x86_64", kernel: "2.6", mb: 64, pae: true }, 1), /memory.pae is an i386 option/);
});

test("the direct map uses 2 MiB pages: scanning a 4 MiB block takes 2 TLB misses", () => {
  const seen: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_pages(GFP_KERNEL, 10);
        const m0 = cpu_counters().tlb_misses;
        mem_read(a, 4 << 20);
        seen.push(cpu_counters().tlb_misses - m0);
        const v = yield* vmalloc(8192);
        mem_read(v, 8192);
        seen.push(cpu_counters().tlb_misses - m0);
      }),
    PAE,
  );
  assert.equal(seen, [2, 4]);
});

test("512 pkmap slots; meminfo shows DirectMap2M and 2 MiB huge pages", () => {
  let slots = 0;
  let addr = "";
  inTask(
    () =>
      Effect.gen(function* () {
        addr = format_kaddr(yield* kmap((yield* alloc_page(GFP_HIGHUSER))!));
        slots = pkmap_of(kernel().mm!)!.last_pkmap;
      }),
    PAE,
  );
  // PKMAP_BASE with PAE: (FIXADDR_BOOT_START - 513 pages) & PMD_MASK (2 MiB) = 0xffa00000; slot 1 first.
  assert.equal([slots, addr], [512, "ffa01000"]);
  const m = procOfFreshMachine(PAE, "meminfo");
  assert.ok(m.includes("\nHugepagesize:       2048 kB\n") && /\nDirectMap2M: +\d+ kB\n$/.test(m), m.slice(-150));
});

test.run();
