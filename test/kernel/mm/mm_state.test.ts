// MmState.page_zone(): the section table against the search over every zone, for every pfn of
// multi-zone, multi-node machines (and the pfns no zone holds).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { build_memory, type MemorySpec } from "../../../src/kernel/mm/mmzone.ts";
import { MmState } from "../../../src/kernel/mm/mm_state.ts";
import type { Kernel } from "../../../src/kernel/kernel.ts";

/** An MmState outside a running kernel: only the clock rate its rate limits are built from. */
const mm_of = (mem: MemorySpec, ncpus = 2): MmState => new MmState(build_memory(mem, ncpus), ncpus, { config: { hz: 100 } } as unknown as Kernel);

const where = (mm: MmState, pfn: number): string => {
  const z = mm.page_zone(pfn);
  return z === undefined ? "-" : `${z.node}/${z.name}`;
};

/** Every pfn of mem_map, and one past each end, gives the zone the search gives. */
function agrees_everywhere(mm: MmState): void {
  let bad = 0;
  for (let pfn = -1; pfn <= mm.mem_map.nr_pages + 1; pfn++) if (mm.page_zone(pfn) !== mm.page_zone_search(pfn)) bad++;
  assert.is(bad, 0);
}

test("x86_64, 8 GiB on 2 nodes: DMA and DMA32 on node 0, Normal on node 1", () => {
  const mm = mm_of({ arch: "x86_64", kernel: "2.6", mb: 8192, nodes: 2 });
  agrees_everywhere(mm);
  // DMA below 16 MiB (pfn 4096), DMA32 to 4 GiB (pfn 1048576), node 1 from there to 8 GiB.
  assert.equal([0, 4095, 4096, 1048575, 1048576, 2097151, 2097152].map((p) => where(mm, p)), ["0/DMA", "0/DMA", "0/DMA32", "0/DMA32", "1/Normal", "1/Normal", "-"]);
});

test("i386, 2 GiB on 2 nodes: HighMem on both nodes", () => {
  const mm = mm_of({ arch: "i386", kernel: "6", mb: 2048, nodes: 2 });
  agrees_everywhere(mm);
  // Normal ends at MAXMEM_PFN (227326 without PAE); node 1 starts at 1 GiB (pfn 262144).
  assert.equal([4095, 4096, 227325, 227326, 262143, 262144, 524287].map((p) => where(mm, p)), ["0/DMA", "0/Normal", "0/Normal", "0/HighMem", "0/HighMem", "1/HighMem", "1/HighMem"]);
});

test("zones given by size: holes between zones, spanned past present, and four zone ends in one section", () => {
  const mm = mm_of({
    arch: "x86_64",
    kernel: "2.6",
    nodes: 3,
    zones: [
      { name: "DMA", managed: 100 },
      { name: "DMA", managed: 200, node: 1 },
      { name: "DMA", managed: 300, node: 2 },
      { name: "DMA32", managed: 50, present: 60, spanned: 70, node: 2 },
      { name: "Normal", managed: 1000, node: 2 },
    ],
  });
  agrees_everywhere(mm);
  // DMA 0..100, 100..300, 300..600; DMA32 from 16 MiB (4096), 70 pages; Normal from 4 GiB.
  assert.equal([99, 100, 299, 300, 599, 600, 4095, 4096, 4165, 4166, 1048575, 1048576, 1049575, 1049576].map((p) => where(mm, p)), [
    "0/DMA", "1/DMA", "1/DMA", "2/DMA", "2/DMA", "-", "-", "2/DMA32", "2/DMA32", "-", "-", "2/Normal", "2/Normal", "-",
  ]);
});

test("pfns outside mem_map: negative, fractional, NaN and too large find no zone", () => {
  const mm = mm_of({ arch: "i386", kernel: "2.6", mb: 64 });
  agrees_everywhere(mm);
  assert.equal([-1, 1.5, Number.NaN, 16384, 2 ** 40].map((p) => where(mm, p)), ["-", "0/DMA", "-", "-", "-"]);
});

test.run();
