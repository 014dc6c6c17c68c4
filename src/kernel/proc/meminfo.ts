// fs/proc/meminfo.c meminfo_proc_show(), then hugetlb_report_meminfo() and x86
// arch_report_meminfo(): /proc/meminfo in the era's line order.
// Inputs: MemTotal = managed pages (totalram_pages), MemFree = the buddy free pages (pages on
// per-CPU lists count as used, as in Linux), Cached = page cache pages, AnonPages = user
// processes' pages, Committed_AS = their total_vm, CommitLimit = half of RAM (overcommit_ratio
// 50, no swap). Not modelled, so 0: buffers, swap, slab, kernel stacks, page tables, huge pages,
// vmalloc use, per-CPU areas (6.1's Percpu), zswap. HardwareCorrupted (CONFIG_MEMORY_FAILURE) is
// printed on x86_64 only.
import type { MmState } from "../mm/mm_state.ts";
import type { Kernel } from "../kernel.ts";
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE, type Zone } from "../mm/mmzone.ts";
import { direct_map_kb, vmalloc_total_kb } from "../mm/page.ts";
import { totalreserve_pages } from "../mm/vmstat.ts";
import { kernel_vm_if_used } from "../mm/vmalloc.ts";

const kb = (label: string, pages: number): string => `${label}${String(pages * 4).padStart(8)} kB`;

interface Sums {
  totalram: number;
  freeram: number;
  totalhigh: number;
  freehigh: number;
  lru: number[];
  s: (f: (z: Zone) => number) => number;
  committed: number;
}

function sums(k: Kernel, mm: MmState): Sums {
  const s = (f: (z: Zone) => number) => mm.zones.reduce((a, z) => a + f(z), 0);
  return {
    totalram: s((z) => z.managed_pages),
    freeram: s((z) => z.free_pages),
    totalhigh: s((z) => (z.is_highmem ? z.managed_pages : 0)),
    freehigh: s((z) => (z.is_highmem ? z.free_pages : 0)),
    lru: [0, 1, 2, 3, 4].map((l) => s((z) => z.lru[l]!.count)),
    s,
    committed: k.tasks.reduce((a, t) => a + (t.mm?.total_vm ?? 0), 0),
  };
}

/** The lines both eras print alike: Buffers .. Mlocked, and HighTotal .. LowFree with HIGHMEM. */
function lru_and_high(mm: MmState, i: Sums): string[] {
  const L = i.lru;
  return [
    kb("Buffers:        ", 0),
    kb("Cached:         ", i.s((z) => z.stat.nr_file_pages)),
    kb("SwapCached:     ", 0),
    kb("Active:         ", L[LRU_ACTIVE_ANON]! + L[LRU_ACTIVE_FILE]!),
    kb("Inactive:       ", L[LRU_INACTIVE_ANON]! + L[LRU_INACTIVE_FILE]!),
    kb("Active(anon):   ", L[LRU_ACTIVE_ANON]!),
    kb("Inactive(anon): ", L[LRU_INACTIVE_ANON]!),
    kb("Active(file):   ", L[LRU_ACTIVE_FILE]!),
    kb("Inactive(file): ", L[LRU_INACTIVE_FILE]!),
    kb("Unevictable:    ", L[LRU_UNEVICTABLE]!),
    kb("Mlocked:        ", i.s((z) => z.stat.nr_mlock)),
    ...(mm.arch === "i386"
      ? [kb("HighTotal:      ", i.totalhigh), kb("HighFree:       ", i.freehigh), kb("LowTotal:       ", i.totalram - i.totalhigh), kb("LowFree:        ", i.freeram - i.freehigh)]
      : []),
  ];
}

function tail(mm: MmState, era: "2.6" | "6"): string[] {
  const dm = direct_map_kb(mm.dm);
  return [
    "HugePages_Total:       0",
    "HugePages_Free:        0",
    "HugePages_Rsvd:        0",
    "HugePages_Surp:        0",
    `Hugepagesize:   ${String(mm.dm.large_shift === 22 ? 4096 : 2048).padStart(8)} kB`,
    ...(era === "6" ? [`Hugetlb:        ${String(0).padStart(8)} kB`] : []),
    `DirectMap4k:    ${String(dm.small).padStart(8)} kB`,
    `${dm.large_name}:    ${String(dm.large).padStart(8)} kB`,
  ];
}

function meminfo_26(k: Kernel, mm: MmState): string[] {
  const i = sums(k, mm);
  return [
    kb("MemTotal:       ", i.totalram),
    kb("MemFree:        ", i.freeram),
    ...lru_and_high(mm, i),
    kb("SwapTotal:      ", 0),
    kb("SwapFree:       ", 0),
    kb("Dirty:          ", i.s((z) => z.stat.nr_dirty)),
    kb("Writeback:      ", i.s((z) => z.stat.nr_writeback)),
    kb("AnonPages:      ", i.s((z) => z.stat.nr_anon_pages)),
    kb("Mapped:         ", i.s((z) => z.stat.nr_mapped)),
    kb("Shmem:          ", i.s((z) => z.stat.nr_shmem)),
    kb("Slab:           ", i.s((z) => z.stat.nr_slab_reclaimable + z.stat.nr_slab_unreclaimable)),
    kb("SReclaimable:   ", i.s((z) => z.stat.nr_slab_reclaimable)),
    kb("SUnreclaim:     ", i.s((z) => z.stat.nr_slab_unreclaimable)),
    `KernelStack:    ${String(i.s((z) => z.stat.nr_kernel_stack) * 8).padStart(8)} kB`,
    kb("PageTables:     ", i.s((z) => z.stat.nr_page_table_pages)),
    kb("NFS_Unstable:   ", 0),
    kb("Bounce:         ", i.s((z) => z.stat.nr_bounce)),
    kb("WritebackTmp:   ", i.s((z) => z.stat.nr_writeback_temp)),
    kb("CommitLimit:    ", Math.floor((i.totalram * 50) / 100)),
    kb("Committed_AS:   ", i.committed),
    `VmallocTotal:   ${String(vmalloc_total_kb(mm.dm)).padStart(8)} kB`,
    `VmallocUsed:    ${String(vmalloc_info(mm).used >> 10).padStart(8)} kB`,
    `VmallocChunk:   ${String(Math.floor(vmalloc_info(mm).largest_chunk / 1024)).padStart(8)} kB`,
    ...(mm.arch === "x86_64" ? [`HardwareCorrupted: ${String(0).padStart(5)} kB`] : []),
    ...tail(mm, "2.6"),
  ];
}

/** get_vmalloc_info() (2.6.34): bytes of the areas (guard pages included) and the largest gap. */
function vmalloc_info(mm: MmState): { used: number; largest_chunk: number } {
  const v = kernel_vm_if_used(mm);
  if (v !== undefined) return v.list.info();
  return { used: 0, largest_chunk: vmalloc_total_kb(mm.dm) * 1024 };
}

/** vmalloc_nr_pages() (6.1): pages mapped by vmalloc areas. */
function vmalloc_nr_pages(mm: MmState): number {
  const v = kernel_vm_if_used(mm);
  return v === undefined ? 0 : [...v.pages.values()].reduce((s, p) => s + p.length, 0);
}

/** si_mem_available() (6.1). */
function mem_available(mm: MmState, i: Sums): number {
  const wmark_low = mm.zones.reduce((a, z) => a + z.watermark.low, 0);
  let available = i.freeram - totalreserve_pages(mm);
  let pagecache = i.lru[LRU_ACTIVE_FILE]! + i.lru[LRU_INACTIVE_FILE]!;
  pagecache -= Math.min(Math.floor(pagecache / 2), wmark_low);
  available += pagecache;
  const reclaimable = i.s((z) => z.stat.nr_slab_reclaimable);
  available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmark_low);
  return Math.max(0, available);
}

function meminfo_6(k: Kernel, mm: MmState): string[] {
  const i = sums(k, mm);
  const sre = i.s((z) => z.stat.nr_slab_reclaimable);
  const sun = i.s((z) => z.stat.nr_slab_unreclaimable);
  return [
    kb("MemTotal:       ", i.totalram),
    kb("MemFree:        ", i.freeram),
    kb("MemAvailable:   ", mem_available(mm, i)),
    ...lru_and_high(mm, i),
    kb("SwapTotal:      ", 0),
    kb("SwapFree:       ", 0),
    `Zswap:          ${String(0).padStart(8)} kB`,
    `Zswapped:       ${String(0).padStart(8)} kB`,
    kb("Dirty:          ", i.s((z) => z.stat.nr_dirty)),
    kb("Writeback:      ", i.s((z) => z.stat.nr_writeback)),
    kb("AnonPages:      ", i.s((z) => z.stat.nr_anon_pages)),
    kb("Mapped:         ", i.s((z) => z.stat.nr_mapped)),
    kb("Shmem:          ", i.s((z) => z.stat.nr_shmem)),
    kb("KReclaimable:   ", sre),
    kb("Slab:           ", sre + sun),
    kb("SReclaimable:   ", sre),
    kb("SUnreclaim:     ", sun),
    `KernelStack:    ${String(i.s((z) => z.stat.nr_kernel_stack)).padStart(8)} kB`,
    kb("PageTables:     ", i.s((z) => z.stat.nr_page_table_pages)),
    kb("SecPageTables:  ", 0),
    kb("NFS_Unstable:   ", 0),
    kb("Bounce:         ", i.s((z) => z.stat.nr_bounce)),
    kb("WritebackTmp:   ", i.s((z) => z.stat.nr_writeback_temp)),
    kb("CommitLimit:    ", Math.floor((i.totalram * 50) / 100)),
    kb("Committed_AS:   ", i.committed),
    `VmallocTotal:   ${String(vmalloc_total_kb(mm.dm)).padStart(8)} kB`,
    kb("VmallocUsed:    ", vmalloc_nr_pages(mm)),
    kb("VmallocChunk:   ", 0),
    kb("Percpu:         ", 0),
    ...(mm.arch === "x86_64" ? [`HardwareCorrupted: ${String(0).padStart(5)} kB`] : []),
    kb("AnonHugePages:  ", 0),
    kb("ShmemHugePages: ", 0),
    kb("ShmemPmdMapped: ", 0),
    kb("FileHugePages:  ", 0),
    kb("FilePmdMapped:  ", 0),
    ...tail(mm, "6"),
  ];
}

export function meminfo(k: Kernel, mm: MmState): string {
  return (mm.era === "2.6" ? meminfo_26(k, mm) : meminfo_6(k, mm)).join("\n") + "\n";
}
