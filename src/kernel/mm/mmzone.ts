// include/linux/mmzone.h reduced: one node's zones, laid out back to back in pfn order, with
// their free areas, watermarks, lowmem_reserve ("protection") and per-CPU pagesets. Built from
// a memory description by profile (i386: DMA < 16 MiB, Normal < 896 MiB, HighMem above;
// x86_64: DMA < 16 MiB, DMA32 < 4 GiB, Normal above) or by explicit zone sizes.
// Each zone starts at its arch boundary. Simplified: present = spanned (no holes inside a zone)
// unless given; no pages are reserved at boot, so managed = present unless given, and the first
// `managed` pages of a zone are the free ones; one node (NUMA comes later).
import { ScenarioError } from "../../sim/errors.ts";
import type { spinlock_t } from "../locking/spinlock.ts";
import { __free_one_page, make_free_area, MAX_ORDER, type BuddyZone, type FreeArea } from "./buddy.ts";
import type { Era } from "./gfp.ts";
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

export const ZONE_NAMES: Record<Arch, readonly string[]> = {
  i386: ["DMA", "Normal", "HighMem"],
  x86_64: ["DMA", "DMA32", "Normal"],
};

export interface ZoneSpec {
  readonly name: string;
  /** Pages the allocator manages (4.x+ sizing); the zone's size when nothing else is given. */
  readonly managed: number;
  readonly present?: number;
  readonly spanned?: number;
}

export interface MemorySpec {
  readonly arch: Arch;
  readonly kernel: Era;
  /** Total RAM in MiB, laid out by the arch profile (ignored when zones are given). */
  readonly mb?: number;
  readonly zones?: readonly ZoneSpec[];
  readonly min_free_kbytes?: number;
  readonly watermark_scale_factor?: number;
  /** Per-CPU pagesets on (default) or off, to compare. */
  readonly pcp?: boolean;
}

export interface per_cpu_pages {
  count: number;
  high: number;
  batch: number;
  readonly list: PageList;
}

export class Zone implements BuddyZone {
  readonly free_area: FreeArea[];
  free_pages = 0;
  watermark: Watermarks = { min: 0, low: 0, high: 0 };
  lowmem_reserve: number[] = [];
  pageset: per_cpu_pages[] = [];
  lock!: spinlock_t;
  /** vmstat: pages handed out from this zone. */
  pgalloc = 0;

  constructor(
    readonly mm: MemMap,
    readonly idx: number,
    readonly name: string,
    readonly zone_start_pfn: number,
    readonly spanned_pages: number,
    readonly present_pages: number,
    readonly managed_pages: number,
    readonly is_highmem: boolean,
  ) {
    this.free_area = make_free_area(mm);
  }

  get size(): ZoneSize {
    return { name: this.name, highmem: this.is_highmem, present: this.present_pages, managed: this.managed_pages };
  }
}

const MiB_PAGES = 256;
/** Where each zone of the profile begins, in MiB. */
const ZONE_START_MB: Record<Arch, readonly number[]> = { i386: [0, 16, 896], x86_64: [0, 16, 4096] };

/** The zone sizes (pages) of `mem`, validated. */
export function zone_layout(mem: MemorySpec): ZoneSpec[] {
  const names = ZONE_NAMES[mem.arch];
  if (names === undefined) throw new ScenarioError(`memory.arch must be "i386" or "x86_64", got ${JSON.stringify(mem.arch)}`);
  if (mem.zones !== undefined) {
    if (mem.zones.length === 0) throw new ScenarioError("memory.zones must list at least one zone");
    for (const z of mem.zones) {
      if (!names.includes(z.name)) throw new ScenarioError(`zone "${z.name}" does not exist on ${mem.arch} (accepted: ${names.join(", ")})`);
      if (!Number.isInteger(z.managed) || z.managed < 1) throw new ScenarioError(`zone ${z.name}: managed must be a positive number of pages`);
    }
    return [...mem.zones].sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  }
  const mb = mem.mb ?? 128;
  if (!Number.isInteger(mb) || mb < 16 || mb > 65536) throw new ScenarioError(`memory.mb must be an integer from 16 to 65536 (16 MiB to 64 GiB), got ${mb}`);
  const total = mb * MiB_PAGES;
  const limits = mem.arch === "i386" ? [16, 896, Infinity] : [16, 4096, Infinity];
  const out: ZoneSpec[] = [];
  let start = 0;
  limits.forEach((limitMb, i) => {
    const end = Math.min(total, limitMb * MiB_PAGES);
    if (end > start) out.push({ name: names[i]!, managed: end - start });
    start = Math.max(start, end);
  });
  return out;
}

export interface NodeMem {
  readonly era: Era;
  readonly mem_map: MemMap;
  readonly zones: Zone[];
  readonly min_free_kbytes: number;
  readonly pcp: boolean;
}

/** free_area_init + setup_per_zone_wmarks + lowmem reserve + pagesets; all pages start free. */
export function build_node(mem: MemorySpec, ncpus: number): NodeMem {
  const specs = zone_layout(mem);
  let start = 0;
  const spans = specs.map((z) => {
    const spanned = z.spanned ?? z.present ?? z.managed;
    const present = z.present ?? spanned;
    if (present > spanned || z.managed > present) throw new ScenarioError(`zone ${z.name}: needs managed <= present <= spanned`);
    // A zone starts at its arch boundary (16 MiB, 896 MiB or 4 GiB) unless the one below overlaps it.
    start = Math.max(start, ZONE_START_MB[mem.arch][ZONE_NAMES[mem.arch].indexOf(z.name)]! * MiB_PAGES);
    const s = { z, start, spanned, present };
    start += spanned;
    return s;
  });
  const mem_map = new MemMap(start);
  const zones = spans.map(
    (s, i) => new Zone(mem_map, i, s.z.name, s.start, s.spanned, s.present, s.z.managed, s.z.name === "HighMem"),
  );
  const sizes = zones.map((z) => z.size);
  const min_free_kbytes = mem.min_free_kbytes ?? default_min_free_kbytes(sizes, mem.kernel);
  const wm = setup_per_zone_wmarks(sizes, min_free_kbytes, mem.kernel, mem.watermark_scale_factor ?? 10);
  const reserve = setup_per_zone_lowmem_reserve(sizes, mem.kernel);
  zones.forEach((z, i) => {
    z.watermark = wm[i]!;
    z.lowmem_reserve = reserve[i]!;
    const { high, batch } = pageset_high_batch(z.size, mem.kernel, z.watermark.low, ncpus);
    z.pageset = Array.from({ length: ncpus }, () => ({ count: 0, high, batch, list: new PageList(mem_map) }));
    free_zone_pages(z);
  });
  return { era: mem.kernel, mem_map, zones, min_free_kbytes, pcp: mem.pcp ?? true };
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
