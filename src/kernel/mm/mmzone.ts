// include/linux/mmzone.h reduced: nodes (pg_data_t) each with one zone of every type of the arch
// (i386: DMA, Normal, HighMem, Movable; x86_64: DMA, DMA32, Normal, Movable; a type the node's
// memory does not reach is an empty, unpopulated zone as in Linux), their free areas, watermarks,
// lowmem_reserve ("protection"), per-CPU pagesets and LRU lists (and, for verify mode, a count of
// the allocated pages that Linux does not keep). Built from a memory description
// by profile or by explicit zone sizes. Memory is one flat pfn range (one mem_map); node N holds
// the N-th equal slice of it and the CPUs are split evenly among nodes.
// Simplified: each zone starts at its arch boundary (16 MiB; i386 HighMem at MAXMEM, 887.99 MiB,
// or 889.99 MiB with PAE; x86_64 Normal at 4 GiB); present = spanned
// (no holes inside a zone) unless given; nothing is reserved at boot, so managed = present unless
// given, and the first `managed` pages of a zone are the free ones. ZONE_MOVABLE is always empty
// (no kernelcore=). Node distances are 10 (local) and 20 (remote).
import { ScenarioError } from "../../sim/errors.ts";
import type { spinlock_t } from "../locking/spinlock.ts";
import { __free_one_page, make_free_area, MAX_ORDER, type BuddyZone, type FreeArea } from "./buddy.ts";
import type { Era } from "./gfp.ts";
import { MAXMEM_PFN } from "./pgtable_32_types.ts";
import { MemMap, PageList } from "./mm_types.ts";
import {
  default_min_free_kbytes,
  pageset_high_batch,
  setup_per_zone_lowmem_reserve,
  setup_per_zone_wmarks,
  type Watermarks,
  type ZoneSize,
} from "./watermarks.ts";

export type Arch = "i386" | "x86_64";

/** Zone types in zone_idx order (ZONE_MOVABLE last). */
export const ZONE_NAMES: Record<Arch, readonly string[]> = {
  i386: ["DMA", "Normal", "HighMem", "Movable"],
  x86_64: ["DMA", "DMA32", "Normal", "Movable"],
};

export interface ZoneSpec {
  readonly name: string;
  /** Pages the allocator manages (4.x+ sizing); the zone's size when nothing else is given. */
  readonly managed: number;
  readonly present?: number;
  readonly spanned?: number;
  /** NUMA node holding the zone (default 0). */
  readonly node?: number;
}

export interface MemorySpec {
  readonly arch: Arch;
  readonly kernel: Era;
  /** Total RAM in MiB, laid out by the arch profile (ignored when zones are given). */
  readonly mb?: number;
  /** NUMA nodes sharing `mb` equally (default 1). */
  readonly nodes?: number;
  readonly zones?: readonly ZoneSpec[];
  readonly min_free_kbytes?: number;
  readonly watermark_scale_factor?: number;
  /** Per-CPU pagesets on (default) or off, to compare. */
  readonly pcp?: boolean;
  /** Average time the writeback disk takes per page, microseconds (default 5000). */
  readonly writeback_us?: number;
  /** i386 only: CONFIG_X86_PAE (three-level paging; memory up to 64 GiB instead of 4 GiB). */
  readonly pae?: boolean;
  /** Slab colouring on (default) or off: mmsim's switch to compare, as pcp (Linux has none). */
  readonly slab_colouring?: boolean;
  /** CONFIG_DEBUG_SLAB (kernel "2.6" only): red zones, poisoning, last users, statistics. */
  readonly debug_slab?: boolean;
}

export interface per_cpu_pages {
  count: number;
  high: number;
  batch: number;
  readonly list: PageList;
}

/** enum lru_list. */
export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;

/** The per-zone counters of enum zone_stat_item that are not a free count or an LRU size. */
export class ZoneStat {
  nr_mlock = 0;
  nr_anon_pages = 0;
  nr_mapped = 0;
  nr_file_pages = 0;
  nr_dirty = 0;
  nr_writeback = 0;
  nr_slab_reclaimable = 0;
  nr_slab_unreclaimable = 0;
  nr_page_table_pages = 0;
  nr_kernel_stack = 0;
  nr_unstable = 0;
  nr_bounce = 0;
  nr_vmscan_write = 0;
  nr_writeback_temp = 0;
  nr_isolated_anon = 0;
  nr_isolated_file = 0;
  nr_shmem = 0;
  /** 6.x node items: pages dirtied and pages written back. */
  nr_dirtied = 0;
  nr_written = 0;
}

/**
 * struct zone: one memory zone of a node (DMA, DMA32, Normal, HighMem): its buddy free lists
 * (free_area), watermarks and lowmem_reserve, per-CPU pagesets, zone->lock and the LRU lists'
 * lru_lock, and its counters. Scenarios reach them with for_each_populated_zone().
 */
export class Zone implements BuddyZone {
  readonly free_area: FreeArea[];
  free_pages = 0;
  /**
   * Not a Linux counter: pages handed out by the allocator and not yet freed (kept where
   * alloc_order is set and cleared), so verify mode can check free + pcp + allocated = managed
   * after every step without walking mem_map.
   */
  nr_allocated = 0;
  watermark: Watermarks = { min: 0, low: 0, high: 0 };
  lowmem_reserve: number[] = [];
  pageset: per_cpu_pages[] = [];
  lock!: spinlock_t;
  lru_lock!: spinlock_t;
  /** zone->lru[]: the reclaim lists (2.6.34 keeps them per zone). */
  readonly lru: PageList[];
  readonly stat = new ZoneStat();
  /** reclaim_stat->nr_saved_scan[]: scan counts too small to act on yet (nr_scan_try_batch). */
  readonly nr_saved_scan = [0, 0, 0, 0, 0];
  /** Pages scanned since the last page was freed here (zone->pages_scanned). */
  pages_scanned = 0;
  all_unreclaimable = false;
  prev_priority = 12;
  /** Per-zone vm events: pgalloc_<zone>, pgrefill, pgsteal, pgscan_kswapd, pgscan_direct. */
  readonly ev = { pgalloc: 0, pgrefill: 0, pgsteal: 0, pgscan_kswapd: 0, pgscan_direct: 0 };
  /** NUMA allocation statistics (zone_statistics). */
  readonly numa = { hit: 0, miss: 0, foreign: 0, local: 0, other: 0 };

  constructor(
    readonly mm: MemMap,
    readonly node: number,
    readonly idx: number,
    readonly name: string,
    readonly zone_start_pfn: number,
    readonly spanned_pages: number,
    readonly present_pages: number,
    readonly managed_pages: number,
    readonly is_highmem: boolean,
  ) {
    this.free_area = make_free_area(mm);
    this.lru = Array.from({ length: NR_LRU_LISTS }, () => new PageList(mm));
  }

  get size(): ZoneSize {
    return { name: this.name, highmem: this.is_highmem, present: this.present_pages, managed: this.managed_pages };
  }

  /** populated_zone(). */
  get populated(): boolean {
    return this.present_pages > 0;
  }

  contains(pfn: number): boolean {
    return pfn >= this.zone_start_pfn && pfn < this.zone_start_pfn + this.spanned_pages;
  }
}

/** pg_data_t: a node's zones; kswapd and its wait queue are added by vmscan at boot. */
export interface pg_data_t {
  readonly node_id: number;
  readonly node_zones: Zone[];
  readonly node_start_pfn: number;
  readonly node_spanned_pages: number;
  /** CPUs local to the node. */
  readonly cpus: number[];
  /** The node's zonelist for each highest zone type, null until first used (page_alloc.ts zonelist()). */
  readonly node_zonelists: (Zone[] | null)[];
}

export interface MemLayout {
  readonly era: Era;
  readonly arch: Arch;
  readonly mem_map: MemMap;
  readonly nodes: pg_data_t[];
  /** Every zone of every node, node by node, in zone_idx order. */
  readonly zones: Zone[];
  readonly min_free_kbytes: number;
  readonly pcp: boolean;
  readonly pae: boolean;
}

const MiB_PAGES = 256;
/**
 * Where each zone of the profile begins and ends, in pfns (Movable has no place of its own):
 * DMA below 16 MiB; i386 Normal up to MAXMEM_PFN (lowmem's limit, pgtable_32_types.ts), x86_64
 * DMA32 up to 4 GiB.
 */
function zone_bounds(arch: Arch, pae: boolean): { start: readonly number[]; end: readonly number[] } {
  const top = arch === "i386" ? MAXMEM_PFN(pae) : 4096 * MiB_PAGES;
  return { start: [0, 16 * MiB_PAGES, top], end: [16 * MiB_PAGES, top, Infinity] };
}

interface PlacedZone extends ZoneSpec {
  readonly node: number;
}

function check_zones(mem: MemorySpec, nodes: number): PlacedZone[] {
  const names = ZONE_NAMES[mem.arch];
  if (mem.zones!.length === 0) throw new ScenarioError("memory.zones must list at least one zone");
  const seen = new Set<string>();
  const out = mem.zones!.map((z) => {
    if (!names.includes(z.name) || z.name === "Movable") throw new ScenarioError(`zone "${z.name}" does not exist on ${mem.arch} (accepted: ${names.slice(0, -1).join(", ")})`);
    if (!Number.isInteger(z.managed) || z.managed < 1) throw new ScenarioError(`zone ${z.name}: managed must be a positive number of pages`);
    const node = z.node ?? 0;
    if (!Number.isInteger(node) || node < 0 || node >= nodes) throw new ScenarioError(`zone ${z.name}: node must be from 0 to ${nodes - 1}, got ${node}`);
    if (seen.has(`${node}/${z.name}`)) throw new ScenarioError(`zone ${z.name} is listed twice for node ${node}`);
    seen.add(`${node}/${z.name}`);
    return { ...z, node };
  });
  return out.sort((a, b) => a.node - b.node || names.indexOf(a.name) - names.indexOf(b.name));
}

/** The populated zones (pages, node) of `mem`, validated, in pfn order. */
export function zone_layout(mem: MemorySpec): PlacedZone[] {
  const names = ZONE_NAMES[mem.arch];
  if (names === undefined) throw new ScenarioError(`memory.arch must be "i386" or "x86_64", got ${JSON.stringify(mem.arch)}`);
  const nodes = mem.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 8) throw new ScenarioError(`memory.nodes must be an integer from 1 to 8, got ${nodes}`);
  if (mem.zones !== undefined) return check_zones(mem, nodes);
  const mb = mem.mb ?? 128;
  if (!Number.isInteger(mb) || mb < 16 || mb > 65536) throw new ScenarioError(`memory.mb must be an integer from 16 to 65536 (16 MiB to 64 GiB), got ${mb}`);
  if (mb / nodes < 16 || mb % nodes !== 0) throw new ScenarioError(`memory.mb (${mb}) must split into ${nodes} equal nodes of at least 16 MiB`);
  const out: PlacedZone[] = [];
  for (let n = 0; n < nodes; n++) {
    const lo = ((mb / nodes) * n) * MiB_PAGES;
    const hi = ((mb / nodes) * (n + 1)) * MiB_PAGES;
    const b = zone_bounds(mem.arch, mem.pae ?? false);
    b.end.forEach((end, i) => {
      const s = Math.max(lo, b.start[i]!);
      const e = Math.min(hi, end);
      if (e > s) out.push({ name: names[i]!, managed: e - s, node: n });
    });
  }
  return out;
}

interface Span {
  readonly z: PlacedZone;
  readonly start: number;
  readonly spanned: number;
  readonly present: number;
}

function place(mem: MemorySpec, specs: PlacedZone[]): Span[] {
  let start = 0;
  return specs.map((z) => {
    const spanned = z.spanned ?? z.present ?? z.managed;
    const present = z.present ?? spanned;
    if (present > spanned || z.managed > present) throw new ScenarioError(`zone ${z.name}: needs managed <= present <= spanned`);
    // A zone starts at its arch boundary unless the memory below already passed it.
    const type = ZONE_NAMES[mem.arch].indexOf(z.name);
    const b = zone_bounds(mem.arch, mem.pae ?? false);
    start = Math.max(start, b.start[type]!);
    const end = b.end[type]!;
    if (start + spanned > end) {
      const mib = (p: number) => `${+(p / MiB_PAGES).toFixed(2)} MiB`;
      throw new ScenarioError(`zone ${z.name}${z.node ? ` (node ${z.node})` : ""}: ${spanned} pages from ${mib(start)} run past the ${z.name} zone's end at pfn ${end} (${mib(end)}) on ${mem.arch}`);
    }
    const s = { z, start, spanned, present };
    start += spanned;
    return s;
  });
}

/** free_area_init_nodes + setup_per_zone_wmarks + lowmem reserve + pagesets; all pages start free. */
export function build_memory(mem: MemorySpec, ncpus: number): MemLayout {
  if (mem.pae && mem.arch !== "i386") throw new ScenarioError(`memory.pae is an i386 option (x86_64 always has 64-bit page tables)`);
  const spans = place(mem, zone_layout(mem));
  const nr_nodes = mem.nodes ?? 1;
  const end = spans.reduce((m, s) => Math.max(m, s.start + s.spanned), 0);
  if (mem.arch === "i386" && !mem.pae && end > 4096 * MiB_PAGES) throw new ScenarioError(`i386 without PAE addresses 4 GiB of memory; this layout ends at ${Math.ceil(end / MiB_PAGES)} MiB (set "pae": true for up to 64 GiB)`);
  const mem_map = new MemMap(end);
  const names = ZONE_NAMES[mem.arch];
  const nodes: pg_data_t[] = [];
  for (let n = 0; n < nr_nodes; n++) {
    const mine = spans.filter((s) => s.z.node === n);
    const first = mine[0]?.start ?? 0;
    const last = mine.reduce((m, s) => Math.max(m, s.start + s.spanned), first);
    const node_zones = names.map((name, idx) => {
      const s = mine.find((x) => x.z.name === name);
      // An empty zone sits at the node's end, as free_area_init_core leaves it.
      return s === undefined
        ? new Zone(mem_map, n, idx, name, last, 0, 0, 0, name === "HighMem")
        : new Zone(mem_map, n, idx, name, s.start, s.spanned, s.present, s.z.managed, name === "HighMem");
    });
    const cpus = Array.from({ length: ncpus }, (_, c) => c).filter((c) => Math.floor((c * nr_nodes) / ncpus) === n);
    nodes.push({ node_id: n, node_zones, node_start_pfn: first, node_spanned_pages: last - first, cpus, node_zonelists: names.map(() => null) });
  }
  const zones = nodes.flatMap((n) => n.node_zones);
  const sizes = zones.map((z) => z.size);
  const min_free_kbytes = mem.min_free_kbytes ?? default_min_free_kbytes(sizes, mem.kernel);
  const wm = setup_per_zone_wmarks(sizes, min_free_kbytes, mem.kernel, mem.watermark_scale_factor ?? 10);
  zones.forEach((z, i) => (z.watermark = z.populated ? wm[i]! : { min: 0, low: 0, high: 0 }));
  for (const node of nodes) {
    const reserve = setup_per_zone_lowmem_reserve(node.node_zones.map((z) => z.size), mem.kernel);
    node.node_zones.forEach((z, i) => {
      z.lowmem_reserve = reserve[i]!;
      const { high, batch } = pageset_high_batch(z.size, mem.kernel, z.watermark.low, Math.max(1, node.cpus.length));
      z.pageset = Array.from({ length: ncpus }, () => ({ count: 0, high, batch, list: new PageList(mem_map) }));
      free_zone_pages(z);
    });
  }
  return { era: mem.kernel, arch: mem.arch, mem_map, nodes, zones, min_free_kbytes, pcp: mem.pcp ?? true, pae: mem.pae ?? false };
}

/** free_all_bootmem: the zone's managed pages, freed in the largest aligned blocks. */
function free_zone_pages(z: Zone): void {
  let pfn = z.zone_start_pfn;
  const end = z.zone_start_pfn + z.managed_pages;
  while (pfn < end) {
    let order = MAX_ORDER - 1;
    while (order > 0 && ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > end)) order--;
    __free_one_page(z, pfn, order);
    pfn += 1 << order;
  }
}

/** node_distance(): 10 to itself, 20 to any other node. */
export const node_distance = (a: number, b: number): number => (a === b ? 10 : 20);

/** The nodes in fallback order from `nid`: itself, then the others by distance, then by id after it. */
export function node_fallback(nr_nodes: number, nid: number): number[] {
  return Array.from({ length: nr_nodes }, (_, i) => (nid + i) % nr_nodes).sort((a, b) => node_distance(nid, a) - node_distance(nid, b));
}
