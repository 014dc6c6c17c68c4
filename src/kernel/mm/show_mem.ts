// lib/show_mem.c show_mem() and mm/page_alloc.c show_free_areas(): the Mem-Info dump printed
// after an allocation failure and by the OOM killer, in 2.6.34's or 6.1's format.
// "Node N " prefixes zone lines on a NUMA machine only. Swap is not
// configured, so the swap lines show zeros; 6.1's buddy lines carry no migrate-type letters
// (mmsim has one free list per order) and its max_zone_idx filter is not applied.
import type { Kernel } from "../kernel.ts";
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE, type Zone } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import { MAX_ORDER } from "./buddy.ts";
import { PG_reserved } from "./page-flags.ts";
import { PAGE_SHIFT } from "./watermarks.ts";

const K = (pages: number): number => pages * (1 << (PAGE_SHIFT - 10));

/** Sum of a zone counter over every zone. */
export const global_state = (mm: MmState, f: (z: Zone) => number): number => mm.zones.reduce((s, z) => s + f(z), 0);

export function show_free_areas(mm: MmState): string[] {
  const out: string[] = [];
  const node = (z: Zone) => (mm.nodes.length > 1 ? `Node ${z.node} ` : "");
  const populated = mm.zones.filter((z) => z.populated);
  for (const z of populated) {
    out.push(`${node(z)}${z.name} per-cpu:`);
    z.pageset.forEach((pcp, cpu) => out.push(`CPU ${String(cpu).padStart(4)}: hi:${String(pcp.high).padStart(5)}, btch:${String(pcp.batch).padStart(4)} usd:${String(pcp.count).padStart(4)}`));
  }
  const g = (f: (z: Zone) => number) => global_state(mm, f);
  const lru = (l: number) => (z: Zone) => z.lru[l]!.count;
  out.push(
    `active_anon:${g(lru(LRU_ACTIVE_ANON))} inactive_anon:${g(lru(LRU_INACTIVE_ANON))} isolated_anon:${g((z) => z.stat.nr_isolated_anon)}`,
    ` active_file:${g(lru(LRU_ACTIVE_FILE))} inactive_file:${g(lru(LRU_INACTIVE_FILE))} isolated_file:${g((z) => z.stat.nr_isolated_file)}`,
    ` unevictable:${g(lru(LRU_UNEVICTABLE))} dirty:${g((z) => z.stat.nr_dirty)} writeback:${g((z) => z.stat.nr_writeback)} unstable:${g((z) => z.stat.nr_unstable)}`,
    ` free:${g((z) => z.free_pages)} slab_reclaimable:${g((z) => z.stat.nr_slab_reclaimable)} slab_unreclaimable:${g((z) => z.stat.nr_slab_unreclaimable)}`,
    ` mapped:${g((z) => z.stat.nr_mapped)} shmem:${g((z) => z.stat.nr_shmem)} pagetables:${g((z) => z.stat.nr_page_table_pages)} bounce:${g((z) => z.stat.nr_bounce)}`,
  );
  for (const z of populated) {
    const s = z.stat;
    out.push(
      `${node(z)}${z.name} free:${K(z.free_pages)}kB min:${K(z.watermark.min)}kB low:${K(z.watermark.low)}kB high:${K(z.watermark.high)}kB` +
        ` active_anon:${K(z.lru[LRU_ACTIVE_ANON]!.count)}kB inactive_anon:${K(z.lru[LRU_INACTIVE_ANON]!.count)}kB` +
        ` active_file:${K(z.lru[LRU_ACTIVE_FILE]!.count)}kB inactive_file:${K(z.lru[LRU_INACTIVE_FILE]!.count)}kB` +
        ` unevictable:${K(z.lru[LRU_UNEVICTABLE]!.count)}kB isolated(anon):${K(s.nr_isolated_anon)}kB isolated(file):${K(s.nr_isolated_file)}kB` +
        ` present:${K(z.present_pages)}kB mlocked:${K(s.nr_mlock)}kB dirty:${K(s.nr_dirty)}kB writeback:${K(s.nr_writeback)}kB` +
        ` mapped:${K(s.nr_mapped)}kB shmem:${K(s.nr_shmem)}kB slab_reclaimable:${K(s.nr_slab_reclaimable)}kB slab_unreclaimable:${K(s.nr_slab_unreclaimable)}kB` +
        ` kernel_stack:${s.nr_kernel_stack * 8}kB pagetables:${K(s.nr_page_table_pages)}kB unstable:${K(s.nr_unstable)}kB bounce:${K(s.nr_bounce)}kB` +
        ` writeback_tmp:${K(s.nr_writeback_temp)}kB pages_scanned:${z.pages_scanned} all_unreclaimable? ${z.all_unreclaimable ? "yes" : "no"}`,
      `lowmem_reserve[]:${z.lowmem_reserve.map((r) => ` ${r}`).join("")}`,
    );
  }
  out.push(...buddy_lines(mm, node));
  out.push(`${g((z) => z.stat.nr_file_pages)} total pagecache pages`);
  out.push("0 pages in swap cache", "Swap cache stats: add 0, delete 0, find 0/0", "Free swap  = 0kB", "Total swap = 0kB");
  return out;
}

const buddy_lines = (mm: MmState, node: (z: Zone) => string): string[] =>
  mm.zones
    .filter((z) => z.populated)
    .map((z) => {
      let total = 0;
      const parts: string[] = [];
      for (let o = 0; o < MAX_ORDER; o++) {
        const nr = z.free_area[o]!.nr_free;
        total += nr << o;
        parts.push(`${nr}*${K(1) << o}kB `);
      }
      return `${node(z)}${z.name}: ${parts.join("")}= ${K(total)}kB`;
    });

/** __show_free_areas() of 6.1. */
function show_free_areas_6(k: Kernel, mm: MmState): string[] {
  const g = (f: (z: Zone) => number) => global_state(mm, f);
  const lru = (l: number) => (z: Zone) => z.lru[l]!.count;
  const pcp = (z: Zone) => z.pageset.reduce((a, p) => a + p.count, 0);
  const node = (z: Zone) => (mm.nodes.length > 1 ? `Node ${z.node} ` : "");
  const out = [
    `active_anon:${g(lru(LRU_ACTIVE_ANON))} inactive_anon:${g(lru(LRU_INACTIVE_ANON))} isolated_anon:${g((z) => z.stat.nr_isolated_anon)}`,
    ` active_file:${g(lru(LRU_ACTIVE_FILE))} inactive_file:${g(lru(LRU_INACTIVE_FILE))} isolated_file:${g((z) => z.stat.nr_isolated_file)}`,
    ` unevictable:${g(lru(LRU_UNEVICTABLE))} dirty:${g((z) => z.stat.nr_dirty)} writeback:${g((z) => z.stat.nr_writeback)}`,
    ` slab_reclaimable:${g((z) => z.stat.nr_slab_reclaimable)} slab_unreclaimable:${g((z) => z.stat.nr_slab_unreclaimable)}`,
    ` mapped:${g((z) => z.stat.nr_mapped)} shmem:${g((z) => z.stat.nr_shmem)} pagetables:${g((z) => z.stat.nr_page_table_pages)}`,
    ` sec_pagetables:0 bounce:${g((z) => z.stat.nr_bounce)}`,
    ` kernel_misc_reclaimable:0`,
    ` free:${g((z) => z.free_pages)} free_pcp:${g(pcp)} free_cma:0`,
  ];
  for (const n of mm.nodes) {
    const zs = n.node_zones;
    const s = (f: (z: Zone) => number) => zs.reduce((a, z) => a + f(z), 0);
    const unreclaimable = zs.every((z) => !z.populated || z.all_unreclaimable);
    out.push(
      `Node ${n.node_id} active_anon:${K(s(lru(LRU_ACTIVE_ANON)))}kB inactive_anon:${K(s(lru(LRU_INACTIVE_ANON)))}kB active_file:${K(s(lru(LRU_ACTIVE_FILE)))}kB inactive_file:${K(s(lru(LRU_INACTIVE_FILE)))}kB` +
        ` unevictable:${K(s(lru(LRU_UNEVICTABLE)))}kB isolated(anon):${K(s((z) => z.stat.nr_isolated_anon))}kB isolated(file):${K(s((z) => z.stat.nr_isolated_file))}kB` +
        ` mapped:${K(s((z) => z.stat.nr_mapped))}kB dirty:${K(s((z) => z.stat.nr_dirty))}kB writeback:${K(s((z) => z.stat.nr_writeback))}kB shmem:${K(s((z) => z.stat.nr_shmem))}kB` +
        ` shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB writeback_tmp:${K(s((z) => z.stat.nr_writeback_temp))}kB kernel_stack:${s((z) => z.stat.nr_kernel_stack)}kB` +
        ` pagetables:${K(s((z) => z.stat.nr_page_table_pages))}kB sec_pagetables:0kB all_unreclaimable? ${unreclaimable ? "yes" : "no"}`,
    );
  }
  const here = k.cpu?.id ?? 0;
  for (const z of mm.zones.filter((x) => x.populated)) {
    const st = z.stat;
    out.push(
      `${node(z)}${z.name} free:${K(z.free_pages)}kB boost:0kB min:${K(z.watermark.min)}kB low:${K(z.watermark.low)}kB high:${K(z.watermark.high)}kB reserved_highatomic:0KB` +
        ` active_anon:${K(z.lru[LRU_ACTIVE_ANON]!.count)}kB inactive_anon:${K(z.lru[LRU_INACTIVE_ANON]!.count)}kB active_file:${K(z.lru[LRU_ACTIVE_FILE]!.count)}kB` +
        ` inactive_file:${K(z.lru[LRU_INACTIVE_FILE]!.count)}kB unevictable:${K(z.lru[LRU_UNEVICTABLE]!.count)}kB writepending:${K(st.nr_dirty + st.nr_writeback)}kB` +
        ` present:${K(z.present_pages)}kB managed:${K(z.managed_pages)}kB mlocked:${K(st.nr_mlock)}kB bounce:${K(st.nr_bounce)}kB free_pcp:${K(pcp(z))}kB` +
        ` local_pcp:${K(z.pageset[here]!.count)}kB free_cma:0kB`,
      `lowmem_reserve[]:${z.lowmem_reserve.map((r) => ` ${r}`).join("")}`,
    );
  }
  out.push(...buddy_lines(mm, node));
  for (const n of mm.nodes) {
    out.push(`Node ${n.node_id} hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=${mm.dm.large_shift === 22 ? 4096 : 2048}kB`);
    if (mm.arch === "x86_64") out.push(`Node ${n.node_id} hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=1048576kB`);
  }
  out.push(`${g((z) => z.stat.nr_file_pages)} total pagecache pages`, "0 pages in swap cache", "Free swap  = 0kB", "Total swap = 0kB");
  return out;
}

/** show_mem(): "Mem-Info:", show_free_areas(), then the page frame census. */
export function show_mem(k: Kernel, mm: MmState): string[] {
  if (mm.era === "6") {
    const populated = mm.zones.filter((z) => z.populated);
    const total = populated.reduce((a, z) => a + z.present_pages, 0);
    const reserved = populated.reduce((a, z) => a + z.present_pages - z.managed_pages, 0);
    const highmem = populated.reduce((a, z) => a + (z.is_highmem ? z.present_pages : 0), 0);
    return ["Mem-Info:", ...show_free_areas_6(k, mm), `${total} pages RAM`, `${highmem} pages HighMem/MovableOnly`, `${reserved} pages reserved`, ...(mm.arch === "x86_64" ? ["0 pages hwpoisoned"] : [])];
  }
  const map = mm.mem_map;
  let total = 0;
  let highmem = 0;
  let reserved = 0;
  let shared = 0;
  let nonshared = 0;
  for (const z of mm.zones) {
    for (let pfn = z.zone_start_pfn; pfn < z.zone_start_pfn + z.present_pages; pfn++) {
      total++;
      if (z.is_highmem) highmem++;
      if (map.test(pfn, PG_reserved)) reserved++;
      else if (map._count[pfn] === 1) nonshared++;
      else if (map._count[pfn]! > 1) shared += map._count[pfn]! - 1;
    }
  }
  return [
    "Mem-Info:",
    ...show_free_areas(mm),
    `${total} pages RAM`,
    ...(mm.arch === "i386" ? [`${highmem} pages HighMem`] : []),
    `${reserved} pages reserved`,
    `${shared} pages shared`,
    `${nonshared} pages non-shared`,
  ];
}
