// Nodes and zonelists, worked by hand from the layout rules and 2.6.34's default_zonelist_order().
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_KERNEL, alloc_pages_node, alloc_page, page_to_nid, numa_node_id } from "../../../src/kernel/index.ts";
import { build_memory, zone_layout } from "../../../src/kernel/mm/mmzone.ts";
import { zonelist } from "../../../src/kernel/mm/page_alloc.ts";
import type { MmState } from "../../../src/kernel/mm/mm_state.ts";

test("mb split into nodes: each node gets the zones its address range reaches", () => {
  // 8 GiB x86_64, 2 nodes: node 0 is 0..4 GiB (DMA below 16 MiB, DMA32 above), node 1 is 4..8 GiB (Normal).
  const z = zone_layout({ arch: "x86_64", kernel: "2.6", mb: 8192, nodes: 2 });
  assert.equal(z, [
    { name: "DMA", managed: 4096, node: 0 },
    { name: "DMA32", managed: 1044480, node: 0 },
    { name: "Normal", managed: 1048576, node: 1 },
  ]);
});

test("CPUs are split evenly among the nodes", () => {
  const m = build_memory({ arch: "i386", kernel: "2.6", mb: 64, nodes: 2 }, 4);
  assert.equal(m.nodes.map((n) => n.cpus), [[0, 1], [2, 3]]);
  // Node 1 (32..64 MiB) holds only Normal; its other zone types are empty.
  assert.equal(m.nodes[1]!.node_zones.map((z) => [z.name, z.present_pages]), [["DMA", 0], ["Normal", 8192], ["HighMem", 0], ["Movable", 0]]);
});

// node 0: DMA 4096, DMA32 12288 (16..64 MiB), Normal 16384 (from 4 GiB); node 1: Normal 32768.
const ZONES = [
  { name: "DMA", managed: 4096 },
  { name: "DMA32", managed: 12288 },
  { name: "Normal", managed: 16384 },
  { name: "Normal", managed: 32768, node: 1 },
];

function names(mm: MmState, nid: number): string[] {
  return zonelist(mm, nid, 2).map((z) => `${z.node}/${z.name}`);
}

test("2.6.34 picks zone order when every node has Normal and the low zones are small", () => {
  // low = 16384 of 65536 pages (not > half); average = 65536 / 3 = 21845; node 0 has 32768 pages
  // of which 16384 low, not > 70 % (22937): zone order, keeping DMA32 and DMA for last.
  const mm = { ...build_memory({ arch: "x86_64", kernel: "2.6", nodes: 2, zones: ZONES }, 2), era: "2.6" } as unknown as MmState;
  assert.equal(names(mm, 0), ["0/Normal", "1/Normal", "0/DMA32", "0/DMA"]);
  assert.equal(names(mm, 1), ["1/Normal", "0/Normal", "0/DMA32", "0/DMA"]);
});

test("kernel 6 always uses node order", () => {
  const mm = build_memory({ arch: "x86_64", kernel: "6", nodes: 2, zones: ZONES }, 2) as unknown as MmState;
  assert.equal(names(mm, 0), ["0/Normal", "0/DMA32", "0/DMA", "1/Normal"]);
  assert.equal(names(mm, 1), ["1/Normal", "0/Normal", "0/DMA32", "0/DMA"]);
});

test("node order when a node has no Normal memory", () => {
  const mm = build_memory({ arch: "x86_64", kernel: "2.6", mb: 8192, nodes: 2 }, 2) as unknown as MmState;
  assert.equal(names(mm, 0), ["0/DMA32", "0/DMA", "1/Normal"]);
  assert.equal(names(mm, 1), ["1/Normal", "0/DMA32", "0/DMA"]);
});

test("an allocation comes from the allocating CPU's node; alloc_pages_node picks another", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const local = (yield* alloc_page(GFP_KERNEL))!;
        seen.push(numa_node_id(), page_to_nid(local));
        const other = (yield* alloc_pages_node(1 - numa_node_id(), GFP_KERNEL, 0))!;
        seen.push(page_to_nid(other));
        const mm = kernel().mm!;
        seen.push(mm.zones.reduce((s, z) => s + z.numa.hit, 0), mm.zones.reduce((s, z) => s + z.numa.miss, 0));
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64, nodes: 2 } },
  );
  assert.equal(r.reports, []);
  const node = seen[0]!;
  // Both allocations hit their preferred node (the second asked for the other node).
  assert.equal(seen, [node, node, 1 - node, 2, 0]);
});

test.run();
