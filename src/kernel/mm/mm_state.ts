// The running kernel's memory manager state: the memory layout (nodes, zones, mem_map), the
// direct map, the global vm event counters (mm/vmstat.c vm_event_states summed over CPUs), the
// allocation order of each allocated block (for Bad page state checks) and the wait queues that
// sleeping allocators and kswapd use, and the table that finds a pfn's zone without a search. Set up by mem_init (page_alloc.ts).
import type { Task } from "../sched/task.ts";
import type { Kernel } from "../kernel.ts";
import { ___ratelimit, ratelimit_state, type RatelimitState } from "../printk.ts";
import { init_waitqueue_head, wake_up_all, type wait_queue_head_t } from "../sched/wait.ts";
import type { MemLayout, Zone } from "./mmzone.ts";
import { direct_map, type DirectMap } from "./page.ts";

/** Global vm events (enum vm_event_item), less the per-zone ones kept in Zone.ev. */
export class VmEvents {
  pgpgin = 0;
  pgpgout = 0;
  pgfree = 0;
  pgactivate = 0;
  pgdeactivate = 0;
  pgfault = 0;
  pgmajfault = 0;
  slabs_scanned = 0;
  kswapd_steal = 0;
  kswapd_low_wmark_hit_quickly = 0;
  kswapd_high_wmark_hit_quickly = 0;
  kswapd_skip_congestion_wait = 0;
  pageoutrun = 0;
  pgrotated = 0;
  /** ALLOCSTALL by the zone type reclaim was for (gfp_zone of the request): 6.x prints allocstall_<zone>. */
  readonly allocstall_zone = [0, 0, 0, 0];
  get allocstall(): number {
    return this.allocstall_zone.reduce((a, b) => a + b, 0);
  }
  /** Not a Linux counter: wakeup_kswapd() calls that woke a sleeping kswapd. */
  kswapd_wakeups = 0;
  /** Not a Linux counter: allocations that failed (returned NULL). */
  pgalloc_fail = 0;
  /** Not a Linux counter: tasks the OOM killer killed. */
  oom_kill = 0;
}

/** log2 of the pfns in one section of page_zone()'s table (1024 pages, 4 MiB). */
const ZONE_SECTION_SHIFT = 10;

/** Per-node reclaim state (pg_data_t fields vmscan uses). */
export interface NodeReclaim {
  kswapd: Task | null;
  readonly kswapd_wait: wait_queue_head_t;
  kswapd_max_order: number;
}

export class MmState implements MemLayout {
  readonly era;
  readonly arch;
  readonly mem_map;
  readonly nodes;
  readonly zones;
  readonly min_free_kbytes;
  readonly pcp;
  readonly pae;
  readonly dm: DirectMap;
  /** Allocation order of each allocated block head, -1 when not allocated. */
  readonly alloc_order: Int8Array;
  /** congestion_wait(): sleeping allocators wait here; freeing pages and writeback wake them. */
  readonly congestion_wait: wait_queue_head_t;
  /** Bumped whenever pages are freed or written back: a congestion_wait sleeper's condition. */
  freed_generation = 0;
  readonly ev = new VmEvents();
  readonly reclaim: NodeReclaim[];
  /** Virtual ns one page of writeback takes (the simulated backing device). */
  writeback_ns = 5_000_000;
  /** 6.1's rate limits: warn_alloc's nopage_rs (1 per 10 s) and the OOM header's oom_rs (10 per 5 s). */
  readonly nopage_rs: RatelimitState;
  readonly oom_rs: RatelimitState;
  /** Next page cache index (filemap). */
  next_page_index = 0;
  /** The slab allocator's and kmalloc's state (their modules' own types). */
  ext_slab: unknown = undefined;
  ext_kmalloc: unknown = undefined;
  /** WARN_ON_ONCE for an order >= MAX_ORDER has fired. */
  warned_max_order = false;
  /** Pages under writeback, in flight. */
  writeback_inflight = 0;
  /** Node of each CPU (cpu_to_node). */
  readonly cpu_to_node: number[];
  /** page_zone()'s table: the zones with pages in pfn order, their bounds, and per section the first of them ending after the section's start. */
  private readonly span_zone: Zone[];
  private readonly span_start: Float64Array;
  private readonly span_end: Float64Array;
  private readonly section_first: Uint8Array;

  constructor(layout: MemLayout, ncpus: number, private readonly k: Kernel) {
    this.nopage_rs = ratelimit_state(10 * k.config.hz, 1);
    this.oom_rs = ratelimit_state(5 * k.config.hz, 10);
    this.era = layout.era;
    this.arch = layout.arch;
    this.mem_map = layout.mem_map;
    this.nodes = layout.nodes;
    this.zones = layout.zones;
    this.min_free_kbytes = layout.min_free_kbytes;
    this.pcp = layout.pcp;
    this.pae = layout.pae;
    this.dm = direct_map(layout.arch, layout.era, layout.mem_map.nr_pages, layout.pae);
    this.alloc_order = new Int8Array(layout.mem_map.nr_pages).fill(-1);
    this.congestion_wait = init_waitqueue_head("congestion_wait");
    this.reclaim = layout.nodes.map((n) => ({ kswapd: null, kswapd_wait: init_waitqueue_head(`kswapd${n.node_id}`), kswapd_max_order: 0 }));
    this.cpu_to_node = Array.from({ length: ncpus }, (_, c) => layout.nodes.findIndex((n) => n.cpus.includes(c)));
    this.span_zone = layout.zones.filter((z) => z.spanned_pages > 0).sort((a, b) => a.zone_start_pfn - b.zone_start_pfn);
    this.span_start = Float64Array.from(this.span_zone, (z) => z.zone_start_pfn);
    this.span_end = Float64Array.from(this.span_zone, (z) => z.zone_start_pfn + z.spanned_pages);
    this.section_first = new Uint8Array((layout.mem_map.nr_pages >> ZONE_SECTION_SHIFT) + 1);
    let i = 0;
    for (let sec = 0; sec < this.section_first.length; sec++) {
      while (i < this.span_end.length - 1 && this.span_end[i]! <= sec << ZONE_SECTION_SHIFT) i++;
      this.section_first[sec] = i;
    }
  }

  /** __ratelimit() against virtual jiffies; a "callbacks suppressed" line goes to the log. */
  ratelimit(rs: RatelimitState, func: string): boolean {
    return ___ratelimit(rs, Math.floor(this.k.now() / this.k.tick_ns), func, (l) => this.k.printk(l));
  }

  /** Pages came back (freed, or written back and so reclaimable): congestion_wait sleepers retry. */
  wake_congested(): void {
    this.freed_generation++;
    if (this.congestion_wait.task_list.length > 0) wake_up_all(this.congestion_wait);
  }

  /**
   * page_zone(): the zone holding `pfn`, or undefined. A pfn of mem_map is looked up in its
   * section's entry, then past the few zone ends that fall inside the section (zones are
   * contiguous and never overlap); anything else (a negative, fractional or too large pfn) by the
   * search over every zone that page_zone_search() does.
   */
  page_zone(pfn: number): Zone | undefined {
    if ((pfn | 0) !== pfn || pfn < 0 || pfn >= this.mem_map.nr_pages) return this.page_zone_search(pfn);
    let i = this.section_first[pfn >> ZONE_SECTION_SHIFT]!;
    const end = this.span_end;
    while (pfn >= end[i]!) i++;
    return pfn >= this.span_start[i]! ? this.span_zone[i] : undefined;
  }

  /** page_zone() by searching every zone (the definition the table is checked against). */
  page_zone_search(pfn: number): Zone | undefined {
    for (const z of this.zones) if (z.contains(pfn)) return z;
    return undefined;
  }
}
