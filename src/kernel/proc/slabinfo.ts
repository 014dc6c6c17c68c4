// /proc/slabinfo, version 2.1 (mm/slab.c s_show in 2.6.34, mm/slab_common.c cache_show in 6.1;
// the same format): the header lines, then one row per cache in cache_chain order (newest
// first). active_objs counts the objects out of their slabs, those sitting in per-CPU and shared
// arrays included; num_objs is every slab's objects; sharedavail the shared arrays' objects.
// With CONFIG_DEBUG_SLAB (STATS) the header says "(statistics)" and each row adds the globalstat
// and cpustat counters (2.6.34 s_show; node_allocs, remote frees and alien overflows are 0: no
// alien caches). mmsim has no "kmem_cache" row: the allocator's own descriptors are not in
// simulated memory.
import type { MmState } from "../mm/mm_state.ts";
import { slab_state_if_any, type kmem_cache } from "../mm/slab.ts";

const COLUMNS =
  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>";
/** STATS (CONFIG_DEBUG_SLAB) adds these column names to the header. */
const STATS_COLUMNS =
  " : globalstat <listallocs> <maxobjs> <grown> <reaped> <error> <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow> : cpustat <allochit> <allocmiss> <freehit> <freemiss>";

const r = (v: number, w: number): string => String(v).padStart(w);

/** One cache's counts, summed over its nodes. */
export function slab_counts(c: kmem_cache): { active_objs: number; num_objs: number; active_slabs: number; num_slabs: number; shared_avail: number } {
  let active_objs = 0;
  let active_slabs = 0;
  let free_slabs = 0;
  let shared_avail = 0;
  for (const l3 of c.nodelists) {
    active_objs += l3.slabs_full.length * c.num + l3.slabs_partial.reduce((a, sp) => a + sp.inuse, 0);
    active_slabs += l3.slabs_full.length + l3.slabs_partial.length;
    free_slabs += l3.slabs_free.length;
    shared_avail += l3.shared?.avail ?? 0;
  }
  const num_slabs = active_slabs + free_slabs;
  return { active_objs, num_objs: num_slabs * c.num, active_slabs, num_slabs, shared_avail };
}

export function slabinfo(mm: MmState): string {
  const s = slab_state_if_any(mm);
  const stats = s?.debug ?? false;
  const rows = (s?.cache_chain ?? []).map((c) => {
    const n = slab_counts(c);
    let row =
      `${c.name.padEnd(17)} ${r(n.active_objs, 6)} ${r(n.num_objs, 6)} ${r(c.size, 6)} ${r(c.num, 4)} ${r(1 << c.gfporder, 4)}` +
      ` : tunables ${r(c.limit, 4)} ${r(c.batchcount, 4)} ${r(c.shared, 4)}` +
      ` : slabdata ${r(n.active_slabs, 6)} ${r(n.num_slabs, 6)} ${r(n.shared_avail, 6)}`;
    const t = c.stats;
    if (t !== null) {
      // 2.6.34's format string continues over a line break with a backslash, so the next
      // line's four tabs are in it.
      row +=
        ` : globalstat ${r(t.num_allocations, 7)} ${r(t.high_mark, 6)} ${r(t.grown, 5)} ${r(t.reaped, 4)} \t\t\t\t${r(t.errors, 4)} ${r(t.max_freeable, 4)} ${r(t.node_allocs, 4)} ${r(t.node_frees, 4)} ${r(t.node_overflow, 4)}` +
        ` : cpustat ${r(t.allochit, 6)} ${r(t.allocmiss, 6)} ${r(t.freehit, 6)} ${r(t.freemiss, 6)}`;
    }
    return row;
  });
  const header = stats ? ["slabinfo - version: 2.1 (statistics)", COLUMNS + STATS_COLUMNS] : ["slabinfo - version: 2.1", COLUMNS];
  return [...header, ...rows].join("\n") + "\n";
}
