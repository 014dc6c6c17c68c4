// mm/vmstat.c counters: the zone stat items, node stat items (6.x) and vm events of each era, in
// vmstat_text[] order, with their values for the simulated machine. Configuration assumed (as
// for every /proc file mmsim prints): x86, SMP, SWAP=y (but no swap device), HUGETLB=y;
// 6.x adds ZSMALLOC, THP, COMPACTION, MIGRATION, KSM, ZSWAP and MEMORY_BALLOON, no ZONE_DEVICE,
// no CMA, no NUMA balancing; NUMA only when the machine has several nodes. Counters of
// mechanisms mmsim does not model (slab, swap, THP, compaction, ...) are 0.
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE, type Zone } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";

export type Item = readonly [string, number];

const lru = (z: Zone, l: number): number => z.lru[l]!.count;
const sum = (zones: readonly Zone[], f: (z: Zone) => number): number => zones.reduce((s, z) => s + f(z), 0);

/** enum zone_stat_item of 2.6.34 (NUMA items appended on a NUMA machine). */
export function zone_items_26(mm: MmState, z: Zone): Item[] {
  const s = z.stat;
  const items: Item[] = [
    ["nr_free_pages", z.free_pages],
    ["nr_inactive_anon", lru(z, LRU_INACTIVE_ANON)],
    ["nr_active_anon", lru(z, LRU_ACTIVE_ANON)],
    ["nr_inactive_file", lru(z, LRU_INACTIVE_FILE)],
    ["nr_active_file", lru(z, LRU_ACTIVE_FILE)],
    ["nr_unevictable", lru(z, LRU_UNEVICTABLE)],
    ["nr_mlock", s.nr_mlock],
    ["nr_anon_pages", s.nr_anon_pages],
    ["nr_mapped", s.nr_mapped],
    ["nr_file_pages", s.nr_file_pages],
    ["nr_dirty", s.nr_dirty],
    ["nr_writeback", s.nr_writeback],
    ["nr_slab_reclaimable", s.nr_slab_reclaimable],
    ["nr_slab_unreclaimable", s.nr_slab_unreclaimable],
    ["nr_page_table_pages", s.nr_page_table_pages],
    ["nr_kernel_stack", s.nr_kernel_stack],
    ["nr_unstable", s.nr_unstable],
    ["nr_bounce", s.nr_bounce],
    ["nr_vmscan_write", s.nr_vmscan_write],
    ["nr_writeback_temp", s.nr_writeback_temp],
    ["nr_isolated_anon", s.nr_isolated_anon],
    ["nr_isolated_file", s.nr_isolated_file],
    ["nr_shmem", s.nr_shmem],
  ];
  return mm.nodes.length > 1 ? [...items, ...numa_items(z)] : items;
}

function numa_items(z: Zone): Item[] {
  const n = z.numa;
  return [
    ["numa_hit", n.hit],
    ["numa_miss", n.miss],
    ["numa_foreign", n.foreign],
    ["numa_interleave", 0],
    ["numa_local", n.local],
    ["numa_other", n.other],
  ];
}

/** enum zone_stat_item of 6.1. */
export function zone_items_6(z: Zone): Item[] {
  const s = z.stat;
  return [
    ["nr_free_pages", z.free_pages],
    ["nr_zone_inactive_anon", lru(z, LRU_INACTIVE_ANON)],
    ["nr_zone_active_anon", lru(z, LRU_ACTIVE_ANON)],
    ["nr_zone_inactive_file", lru(z, LRU_INACTIVE_FILE)],
    ["nr_zone_active_file", lru(z, LRU_ACTIVE_FILE)],
    ["nr_zone_unevictable", lru(z, LRU_UNEVICTABLE)],
    ["nr_zone_write_pending", s.nr_dirty + s.nr_writeback],
    ["nr_mlock", s.nr_mlock],
    ["nr_bounce", s.nr_bounce],
    ["nr_zspages", 0],
    ["nr_free_cma", 0],
  ];
}

/** The numa_* event items of 6.1 (zoneinfo prints them per zone, vmstat sums them). */
export const numa_items_6 = numa_items;

/** enum node_stat_item of 6.1 for the zones of one node (or of all nodes, for /proc/vmstat). */
export function node_items_6(zones: readonly Zone[]): Item[] {
  const g = (f: (z: Zone) => number) => sum(zones, f);
  return [
    ["nr_inactive_anon", g((z) => lru(z, LRU_INACTIVE_ANON))],
    ["nr_active_anon", g((z) => lru(z, LRU_ACTIVE_ANON))],
    ["nr_inactive_file", g((z) => lru(z, LRU_INACTIVE_FILE))],
    ["nr_active_file", g((z) => lru(z, LRU_ACTIVE_FILE))],
    ["nr_unevictable", g((z) => lru(z, LRU_UNEVICTABLE))],
    ["nr_slab_reclaimable", g((z) => z.stat.nr_slab_reclaimable)],
    ["nr_slab_unreclaimable", g((z) => z.stat.nr_slab_unreclaimable)],
    ["nr_isolated_anon", g((z) => z.stat.nr_isolated_anon)],
    ["nr_isolated_file", g((z) => z.stat.nr_isolated_file)],
    ...zeros("workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim"),
    ["nr_anon_pages", g((z) => z.stat.nr_anon_pages)],
    ["nr_mapped", g((z) => z.stat.nr_mapped)],
    ["nr_file_pages", g((z) => z.stat.nr_file_pages)],
    ["nr_dirty", g((z) => z.stat.nr_dirty)],
    ["nr_writeback", g((z) => z.stat.nr_writeback)],
    ["nr_writeback_temp", g((z) => z.stat.nr_writeback_temp)],
    ["nr_shmem", g((z) => z.stat.nr_shmem)],
    ...zeros("nr_shmem_hugepages nr_shmem_pmdmapped nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages"),
    ["nr_vmscan_write", g((z) => z.stat.nr_vmscan_write)],
    ["nr_vmscan_immediate_reclaim", 0],
    ["nr_dirtied", g((z) => z.stat.nr_dirtied)],
    ["nr_written", g((z) => z.stat.nr_written)],
    ...zeros("nr_throttled_written nr_kernel_misc_reclaimable nr_foll_pin_acquired nr_foll_pin_released"),
    ["nr_kernel_stack", g((z) => z.stat.nr_kernel_stack)],
    ["nr_page_table_pages", g((z) => z.stat.nr_page_table_pages)],
    ["nr_sec_page_table_pages", 0],
    ["nr_swapcached", 0],
  ];
}

/** Zone-type suffixes of TEXTS_FOR_ZONES for the arch: _dma, _dma32 / _normal, _high, _movable. */
function zone_suffixes(mm: MmState): string[] {
  return mm.nodes[0]!.node_zones.map((z) => ({ DMA: "dma", DMA32: "dma32", Normal: "normal", HighMem: "high", Movable: "movable" })[z.name]!);
}

/** A per-zone event summed over the nodes, one item per zone type. */
function per_zone(mm: MmState, name: string, f: (z: Zone) => number): Item[] {
  return zone_suffixes(mm).map((sfx, idx): Item => [`${name}_${sfx}`, sum(mm.zones.filter((z) => z.idx === idx), f)]);
}

function events_26(mm: MmState): Item[] {
  const e = mm.ev;
  return [
    ["pgpgin", e.pgpgin],
    ["pgpgout", e.pgpgout],
    ["pswpin", 0],
    ["pswpout", 0],
    ...per_zone(mm, "pgalloc", (z) => z.ev.pgalloc),
    ["pgfree", e.pgfree],
    ["pgactivate", e.pgactivate],
    ["pgdeactivate", e.pgdeactivate],
    ["pgfault", e.pgfault],
    ["pgmajfault", e.pgmajfault],
    ...per_zone(mm, "pgrefill", (z) => z.ev.pgrefill),
    ...per_zone(mm, "pgsteal", (z) => z.ev.pgsteal),
    ...per_zone(mm, "pgscan_kswapd", (z) => z.ev.pgscan_kswapd),
    ...per_zone(mm, "pgscan_direct", (z) => z.ev.pgscan_direct),
    ...(mm.nodes.length > 1 ? [["zone_reclaim_failed", 0] as Item] : []),
    ["pginodesteal", 0],
    ["slabs_scanned", e.slabs_scanned],
    ["kswapd_steal", e.kswapd_steal],
    ["kswapd_inodesteal", 0],
    ["kswapd_low_wmark_hit_quickly", e.kswapd_low_wmark_hit_quickly],
    ["kswapd_high_wmark_hit_quickly", e.kswapd_high_wmark_hit_quickly],
    ["kswapd_skip_congestion_wait", e.kswapd_skip_congestion_wait],
    ["pageoutrun", e.pageoutrun],
    ["allocstall", e.allocstall],
    ["pgrotated", e.pgrotated],
    ["htlb_buddy_alloc_success", 0],
    ["htlb_buddy_alloc_fail", 0],
    ...zeros("unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_mlocked unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded unevictable_pgs_mlockfreed"),
  ];
}

const zeros = (names: string): Item[] => names.split(" ").map((n): Item => [n, 0]);

function events_6(mm: MmState): Item[] {
  const e = mm.ev;
  const g = (f: (z: Zone) => number) => sum(mm.zones, f);
  const steal = g((z) => z.ev.pgsteal);
  const scan_k = g((z) => z.ev.pgscan_kswapd);
  const scan_d = g((z) => z.ev.pgscan_direct);
  return [
    ["pgpgin", e.pgpgin],
    ["pgpgout", e.pgpgout],
    ["pswpin", 0],
    ["pswpout", 0],
    ...per_zone(mm, "pgalloc", (z) => z.ev.pgalloc),
    ...zone_suffixes(mm).map((sfx, idx): Item => [`allocstall_${sfx}`, e.allocstall_zone[idx]!]),
    ...per_zone(mm, "pgskip", () => 0),
    ["pgfree", e.pgfree],
    ["pgactivate", e.pgactivate],
    ["pgdeactivate", e.pgdeactivate],
    ["pglazyfree", 0],
    ["pgfault", e.pgfault],
    ["pgmajfault", e.pgmajfault],
    ["pglazyfreed", 0],
    ["pgrefill", g((z) => z.ev.pgrefill)],
    ["pgreuse", 0],
    ["pgsteal_kswapd", e.kswapd_steal],
    ["pgsteal_direct", steal - e.kswapd_steal],
    ["pgdemote_kswapd", 0],
    ["pgdemote_direct", 0],
    ["pgscan_kswapd", scan_k],
    ["pgscan_direct", scan_d],
    ["pgscan_direct_throttle", 0],
    ["pgscan_anon", 0],
    ["pgscan_file", scan_k + scan_d],
    ["pgsteal_anon", 0],
    ["pgsteal_file", steal],
    ...(mm.nodes.length > 1 ? [["zone_reclaim_failed", 0] as Item] : []),
    ["pginodesteal", 0],
    ["slabs_scanned", e.slabs_scanned],
    ["kswapd_inodesteal", 0],
    ["kswapd_low_wmark_hit_quickly", e.kswapd_low_wmark_hit_quickly],
    ["kswapd_high_wmark_hit_quickly", e.kswapd_high_wmark_hit_quickly],
    ["pageoutrun", e.pageoutrun],
    ["pgrotated", e.pgrotated],
    ["drop_pagecache", 0],
    ["drop_slab", 0],
    ["oom_kill", e.oom_kill],
    ...zeros("pgmigrate_success pgmigrate_fail thp_migration_success thp_migration_fail thp_migration_split"),
    ...zeros("compact_migrate_scanned compact_free_scanned compact_isolated compact_stall compact_fail compact_success compact_daemon_wake compact_daemon_migrate_scanned compact_daemon_free_scanned"),
    ...zeros("htlb_buddy_alloc_success htlb_buddy_alloc_fail"),
    ...zeros("unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_mlocked unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded"),
    ...zeros("thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge thp_collapse_alloc thp_collapse_alloc_failed thp_file_alloc thp_file_fallback thp_file_fallback_charge thp_file_mapped thp_split_page thp_split_page_failed thp_deferred_split_page thp_split_pmd thp_scan_exceed_none_pte thp_scan_exceed_swap_pte thp_scan_exceed_share_pte"),
    ...(mm.arch === "x86_64" ? zeros("thp_split_pud") : []),
    ...zeros("thp_zero_page_alloc thp_zero_page_alloc_failed thp_swpout thp_swpout_fallback"),
    ...zeros("balloon_inflate balloon_deflate balloon_migrate swap_ra swap_ra_hit ksm_swpin_copy cow_ksm zswpin zswpout direct_map_level2_splits direct_map_level3_splits"),
  ];
}

/** Every /proc/vmstat item of the era, in order (6.x ends with the deprecated "nr_unstable 0"). */
export function vmstat_items(mm: MmState): Item[] {
  if (mm.era === "2.6") {
    const zone = zone_items_26(mm, mm.zones[0]!).map(([n]) => n);
    const zoneVals = zone.map((name, i): Item => [name, sum(mm.zones, (z) => zone_items_26(mm, z)[i]![1])]);
    return [...zoneVals, ...events_26(mm)];
  }
  const zone = zone_items_6(mm.zones[0]!).map(([n], i): Item => [n, sum(mm.zones, (z) => zone_items_6(z)[i]![1])]);
  const numa = mm.nodes.length > 1 ? numa_items(mm.zones[0]!).map(([n], i): Item => [n, sum(mm.zones, (z) => numa_items(z)[i]![1])]) : [];
  const dirty = dirty_thresholds(mm);
  return [
    ...zone,
    ...numa,
    ...node_items_6(mm.zones),
    ["nr_dirty_threshold", dirty.threshold],
    ["nr_dirty_background_threshold", dirty.background],
    ...events_6(mm),
    ["nr_unstable", 0],
  ];
}

/** totalreserve_pages: per zone, its largest lowmem_reserve plus its high watermark, at most its size. */
export function totalreserve_pages(mm: MmState): number {
  return sum(mm.zones, (z) => (z.populated ? Math.min(z.managed_pages, Math.max(0, ...z.lowmem_reserve) + z.watermark.high) : 0));
}

/**
 * global_dirty_limits() (6.1, dirty_ratio 20, dirty_background_ratio 10, highmem not dirtyable):
 * global_dirtyable_memory() = free - totalreserve + file LRU - dirtyable highmem, + 1; the
 * ratios are scaled by PAGE_SIZE first as domain_dirty_limits() does.
 */
function dirty_thresholds(mm: MmState): { threshold: number; background: number } {
  const free = sum(mm.zones, (z) => z.free_pages);
  let x = free - Math.min(free, totalreserve_pages(mm));
  x += sum(mm.zones, (z) => lru(z, LRU_ACTIVE_FILE) + lru(z, LRU_INACTIVE_FILE));
  let high = 0;
  for (const z of mm.zones) {
    if (!z.is_highmem) continue;
    high += z.free_pages - Math.min(z.free_pages, z.watermark.high) + lru(z, LRU_ACTIVE_FILE) + lru(z, LRU_INACTIVE_FILE);
  }
  x -= Math.min(Math.max(high, 0), x);
  const available = x + 1;
  const PAGE = 4096;
  const threshold = Math.floor((Math.floor((20 * PAGE) / 100) * available) / PAGE);
  let background = Math.floor((Math.floor((10 * PAGE) / 100) * available) / PAGE);
  if (background >= threshold) background = Math.floor(threshold / 2);
  return { threshold, background };
}
