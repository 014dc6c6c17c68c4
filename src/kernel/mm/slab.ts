// mm/slab.c (2.6.34; 6.1's SLAB where it differs, with kernel "6"): object caches over the page
// allocator. A cache (kmem_cache) hands out objects of one size from slabs of 2^gfporder pages;
// each CPU keeps an array_cache of free objects (avail / limit / batchcount / touched), each node
// a shared array and three slab lists (kmem_list3: slabs_partial, slabs_full, slabs_free).
// - Alloc (____cache_alloc, interrupts off): pop the CPU's array; empty, cache_alloc_refill()
//   takes batchcount objects under l3->list_lock from the shared array, else from partial then
//   free slabs, else cache_grow(): a new coloured slab from kmem_getpages (PG_slab on every page,
//   NR_SLAB_RECLAIMABLE/UNRECLAIMABLE), interrupts back on while it allocates if the mask sleeps.
// - Free (__cache_free): push on the array; full, cache_flusharray() moves the oldest batchcount
//   objects to the shared array if it has room, else free_block() puts them back in their slabs;
//   an emptied slab is destroyed at once when the node holds more than free_limit free objects.
// - Slab layout: [colour offset][struct slab + kmem_bufctl_t[num] (on-slab)][objects]; the free
//   objects are chained through the bufctl array (slab->free is the first). Off-slab caches keep
//   struct slab + bufctls in a general cache (slabp_cache). A page's slab is found from its pfn
//   (page->lru.prev in Linux).
// - Reaping (slab_reap.ts), shrink and destroy (slab_shrink.ts), /proc/slabinfo (proc/slabinfo.ts).
// Not modelled: the allocator's own bookkeeping in simulated memory (kmem_cache, array caches,
// kmem_list3 and their kmalloc'ed arrays live outside it, as if in the kernel image: no
// "kmem_cache" row in slabinfo, no bootstrap objects in size-32/size-64), alien caches and
// NUMA-remote frees (each CPU frees to its own node), SLAB_DESTROY_BY_RCU's deferral, kmemcheck.
// kmemleak, KASAN and failslab hook in where Linux's do (kmemleak.ts, kasan.ts, fault_inject.ts). 6.1's freelist layouts are in slab_geometry.ts; its
// cache_grow picks the colour after the page and destroys emptied slabs after dropping the lock.
// kmem_cache_alloc/kmem_cache_free and kmalloc/kfree are ops (slab_fast.ts, kmalloc.ts) that take
// this CPU's array directly and continue as this file's Effect code for everything else.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { BUG, WARN_ON } from "../api_misc.ts";
import { dump_stack } from "../dumpstack.ts";
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from "../irqflags.ts";
import { spin_lock, spin_lock_init, spin_unlock, type spinlock_t } from "../locking/spinlock.ts";
import { __might_sleep, in_interrupt } from "../sched/core.ts";
import { should_failslab } from "../fault_inject.ts";
import { trace_kmem_cache_alloc, trace_kmem_cache_free } from "./trace.ts";
import { kmemleak_alloc, kmemleak_erase, kmemleak_free } from "./kmemleak.ts";
import { kasan_cache_create, kasan_enabled, kasan_object_data, kasan_poison_slab, kasan_quarantine_reduce, kasan_register_slabs, kasan_slab_alloc, kasan_slab_free, type qlink } from "./kasan.ts";
import { kasan_report_invalid_free } from "./kasan_report.ts";
import { mutex_init, mutex_lock, mutex_unlock, type mutex } from "../locking/mutex.ts";
import { GFP_DMA, __GFP_DMA, __GFP_HIGHMEM, __GFP_RECLAIMABLE, __GFP_ZERO, gfpflags_allow_blocking, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { __free_pages, alloc_pages_node, mm_of, with_frame } from "./page_alloc.ts";
import { format_kaddr, page_address, virt_to_page, type kaddr_t } from "./page.ts";
import { PG_slab } from "./page-flags.ts";
import { memset, set_write_watch } from "./access.ts";
import { SLAB_ABI, SLAB_CACHE_DMA, SLAB_DESTROY_BY_RCU, SLAB_PANIC, SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, CREATE_MASK, KMALLOC_MAX_SIZE, cpucache_tunables, kmem_cache_geometry, kmem_cache_geometry_6, type DebugLayout, type Geometry } from "./slab_geometry.ts";
import { cache_alloc_debugcheck_after, cache_free_debugcheck, check_ctor_redzones, debug_init_slab, slab_debug_write, slab_destroy_debugcheck, type SlabDebug } from "./slab_debug.ts";
import { kmem_cache_free } from "./slab_fast.ts";
import { gen_fn } from "../gen_fn.ts";
// The allocation and free entry points are ops (slab_fast.ts) over this file's pieces.
export { kmem_cache_alloc, kmem_cache_zalloc, kmem_cache_free } from "./slab_fast.ts";

const BUFCTL_END = -1;
/** DEBUG: the bufctl of an object out of its slab (0xFFFFFFFE). */
const BUFCTL_FREE = -2;
const BATCHREFILL_LIMIT = 16;
const PAGE = 4096;

/** struct array_cache: a stack of free objects (entry[avail - 1] is the hottest). */
export interface array_cache {
  avail: number;
  limit: number;
  batchcount: number;
  touched: boolean;
  readonly entry: kaddr_t[];
}

/** struct slab. */
export interface slab {
  readonly cache: kmem_cache;
  /** The first page's pfn. */
  readonly page: number;
  /** Bytes from the slab's start to the first object (colour + on-slab management). */
  readonly colouroff: number;
  readonly s_mem: kaddr_t;
  inuse: number;
  /** The first free object's index, or BUFCTL_END. */
  free: number;
  readonly bufctl: Int32Array;
  readonly nodeid: number;
  /** Off-slab: the object in slabp_cache holding this management. */
  readonly mgmt: kaddr_t;
  list: "partial" | "full" | "free" | null;
  /** CONFIG_DEBUG_SLAB: red zones, poison and last users of the objects (slab_debug.ts). */
  debug?: SlabDebug;
}

/** CONFIG_DEBUG_SLAB's STATS counters (slabinfo's globalstat and cpustat columns). */
export interface SlabStats {
  num_active: number;
  num_allocations: number;
  high_mark: number;
  grown: number;
  reaped: number;
  errors: number;
  max_freeable: number;
  node_allocs: number;
  node_frees: number;
  node_overflow: number;
  allochit: number;
  allocmiss: number;
  freehit: number;
  freemiss: number;
}

/** struct kmem_list3 (6.1: kmem_cache_node): a node's slabs and shared array. */
export interface kmem_list3 {
  readonly slabs_partial: slab[];
  readonly slabs_full: slab[];
  readonly slabs_free: slab[];
  free_objects: number;
  free_limit: number;
  colour_next: number;
  readonly list_lock: spinlock_t;
  readonly shared: array_cache | null;
  /** jiffies of the next shared-array and free-list reap. */
  next_reap: number;
  free_touched: boolean;
}

/**
 * struct kmem_cache (SLAB): a cache of objects of one size, made by kmem_cache_create(): its
 * geometry (object size and alignment, objects per slab, slab order, colouring), flags, per-CPU
 * array caches and per-node slab lists (kmem_list3). Scenarios pass it to kmem_cache_alloc /
 * kmem_cache_free and read its fields for checks.
 */
export interface kmem_cache extends Geometry {
  readonly name: string;
  readonly flags: number;
  /** Added to every slab allocation (GFP_DMA for DMA caches). */
  readonly gfpflags: gfp_t;
  /** obj_size(): the caller's object (with DEBUG; else the buffer, `size`). */
  readonly obj_size: number;
  /** DEBUG's layout: the object's offset in its buffer (0 without red zones). */
  readonly debug: DebugLayout;
  /** STATS (CONFIG_DEBUG_SLAB), else null. */
  readonly stats: SlabStats | null;
  readonly ctor: ((obj: kaddr_t) => void) | null;
  readonly slabp_cache: kmem_cache | null;
  limit: number;
  batchcount: number;
  shared: number;
  readonly array: array_cache[];
  readonly nodelists: kmem_list3[];
  /** Not a Linux field: the cache was destroyed. */
  dead: boolean;
}

/** The machine's slab state: cache_chain (newest first), the page -> slab map, the chain's mutex. */
export interface SlabState {
  readonly cache_chain: kmem_cache[];
  readonly slab_of: Map<number, slab>;
  /** slab_break_gfp_order: 1 with more than 32 MiB of RAM. */
  readonly break_order: number;
  readonly cache_line: number;
  readonly abi: (typeof SLAB_ABI)["i386"];
  readonly cache_chain_mutex: mutex;
  /** Slab colouring (mmsim's switch; off gives every slab offset 0). */
  readonly colouring: boolean;
  /** CONFIG_DEBUG_SLAB (2.6.34 only): DEBUG, STATS and FORCED_DEBUG. */
  readonly debug: boolean;
}

// The module's state, kept in the MmState's own field (a property load on the hot paths).
const states = {
  get: (o: MmState): SlabState | undefined => o.ext_slab as SlabState | undefined,
  set: (o: MmState, v: SlabState): void => {
    o.ext_slab = v;
  },
};

export function slab_state(mm: MmState): SlabState {
  const s = states.get(mm);
  if (s === undefined) throw new ScenarioError("the slab allocator needs a machine with memory (machine.memory or --machine FILE)");
  return s;
}
export const slab_state_if_any = (mm: MmState): SlabState | undefined => states.get(mm);

/** kmem_cache_init()'s start: the chain and the break order (caches come from kmalloc.ts). */
export function slab_init(k: Kernel, mm: MmState, colouring = true, debug = false): SlabState {
  if (debug && mm.era !== "2.6") throw new ScenarioError(`memory.debug_slab models 2.6.34's CONFIG_DEBUG_SLAB; use it with kernel "2.6" (kernel "6" is built without it)`);
  const total = mm.zones.reduce((a, z) => a + z.managed_pages, 0);
  const s: SlabState = { cache_chain: [], slab_of: new Map(), break_order: total > (32 << 20) / PAGE ? 1 : 0, cache_line: k.machine.caches.config.line, abi: SLAB_ABI[mm.arch], cache_chain_mutex: mutex_init("cache_chain_mutex"), colouring, debug };
  states.set(mm, s);
  if (debug) set_write_watch(debug_write_watch);
  kasan_register_slabs(k, s.slab_of);
  return s;
}

/** Kernel writes into a debug slab's pages reach its red zones and poison. */
function debug_write_watch(mm: MmState, pa: number, n: number, val: number | undefined): void {
  const s = states.get(mm);
  if (s === undefined || !s.debug || pa >= mm.dm.max_low_pfn * PAGE) return;
  const sp = s.slab_of.get(Math.floor(pa / PAGE));
  if (sp !== undefined) slab_debug_write(sp.cache, sp, mm.dm.page_offset + pa, n, val);
}

const new_stats = (): SlabStats => ({ num_active: 0, num_allocations: 0, high_mark: 0, grown: 0, reaped: 0, errors: 0, max_freeable: 0, node_allocs: 0, node_frees: 0, node_overflow: 0, allochit: 0, allocmiss: 0, freehit: 0, freemiss: 0 });

/** fls(): the last set bit, 1-based (0 for 0). */
const fls = (x: number): number => (x === 0 ? 0 : 32 - Math.clz32(x));

const new_array = (limit: number, batchcount: number): array_cache => ({ avail: 0, limit, batchcount, touched: false, entry: [] });

/**
 * __kmem_cache_create's body without the checks: the geometry, the tunables (enable_cpucache),
 * the node lists and per-CPU arrays, and the link at the head of cache_chain. Null when no
 * order holds an object.
 */
export function create_cache(k: Kernel, mm: MmState, name: string, size: number, align: number, flags: number, ctor: kmem_cache["ctor"], early = false): kmem_cache | null {
  const s = slab_state(mm);
  if (s.debug) {
    // FORCED_DEBUG: red zones and the last user unless they push the object over a power of
    // two (REDZONE_ALIGN + two red-zone words), poison unless SLAB_DESTROY_BY_RCU.
    if (size < 4096 || fls(size - 1) === fls(size - 1 + 8 + 2 * 8)) flags |= SLAB_RED_ZONE | SLAB_STORE_USER;
    if (!(flags & SLAB_DESTROY_BY_RCU)) flags |= SLAB_POISON;
  }
  const g =
    mm.era === "2.6"
      ? kmem_cache_geometry(s.abi, size, align, flags, s.cache_line, s.break_order, early, s.debug)
      : kmem_cache_geometry_6(
          s.abi,
          size,
          align,
          flags,
          s.cache_line,
          s.break_order,
          ctor !== null,
          (bytes) => {
            const fc = early ? null : find_general_cachep(mm, bytes, 0);
            return fc === null ? null : { size: fc.size, off_slab: fc.off_slab };
          },
          kasan_enabled(k) ? (sz) => kasan_cache_create(size, sz, ctor !== null, (flags & SLAB_DESTROY_BY_RCU) !== 0) : undefined,
        );
  if (g === null) return null;
  const t = cpucache_tunables(g.size, k.percpu.length, s.debug);
  const slabp_cache = g.off_slab ? find_general_cachep(mm, g.slab_size, 0) : null;
  if (g.off_slab && slabp_cache === null) throw new Error(`slab: no general cache for ${name}'s ${g.slab_size}-byte management`);
  const nodes = mm.nodes.length;
  const cpus_on = (n: number) => k.percpu.filter((pc) => (mm.cpu_to_node[pc.id] ?? 0) === n).length;
  const cache: kmem_cache = {
    ...g,
    name,
    flags: g.flags,
    gfpflags: flags & SLAB_CACHE_DMA ? GFP_DMA : 0,
    obj_size: s.debug || kasan_enabled(k) ? g.debug.obj_size : g.size,
    debug: g.debug,
    stats: s.debug ? new_stats() : null,
    ctor,
    slabp_cache,
    limit: t.limit,
    batchcount: t.batchcount,
    shared: t.shared,
    array: k.percpu.map(() => new_array(t.limit, t.batchcount)),
    nodelists: Array.from({ length: nodes }, (_, n) => ({
      slabs_partial: [],
      slabs_full: [],
      slabs_free: [],
      free_objects: 0,
      free_limit: (1 + cpus_on(n)) * t.batchcount + g.num,
      colour_next: 0,
      list_lock: spin_lock_init(`&l3->list_lock`),
      shared: t.shared > 0 ? new_array(t.shared * t.batchcount, 0xbaadf00d) : null,
      next_reap: 0,
      free_touched: false,
    })),
    dead: false,
  };
  s.cache_chain.unshift(cache); // list_add(&cachep->next, &cache_chain)
  return cache;
}

/** The general cache for `size` bytes (kmalloc.ts installs the table), or null. */
let find_general: (mm: MmState, size: number, gfp: gfp_t) => kmem_cache | null = () => null;
export const set_general_cache_lookup = (f: typeof find_general): void => void (find_general = f);
const find_general_cachep = (mm: MmState, size: number, gfp: gfp_t): kmem_cache | null => find_general(mm, size, gfp);

export const node_of = (k: Kernel, mm: MmState): number => mm.cpu_to_node[k.this_cpu().id] ?? 0;
export const cpu_cache_get = (k: Kernel, c: kmem_cache): array_cache => c.array[k.this_cpu().id]!;

function list_of(l3: kmem_list3, which: "partial" | "full" | "free"): slab[] {
  return which === "partial" ? l3.slabs_partial : which === "full" ? l3.slabs_full : l3.slabs_free;
}

/** list_del() then list_add() (head) or list_add_tail() onto `which`. */
export function move_slab(l3: kmem_list3, sp: slab, which: "partial" | "full" | "free" | null, tail = false): void {
  if (sp.list !== null) {
    const from = list_of(l3, sp.list);
    from.splice(from.indexOf(sp), 1);
  }
  sp.list = which;
  if (which === null) return;
  const to = list_of(l3, which);
  if (tail) to.push(sp);
  else to.unshift(sp);
}

const index_to_obj = (c: kmem_cache, sp: slab, i: number): kaddr_t => sp.s_mem + c.size * i;
const obj_to_index = (c: kmem_cache, sp: slab, obj: kaddr_t): number => Math.floor((obj - sp.s_mem) / c.size);

/** slab_get_obj(): the first free object off the bufctl chain. */
function slab_get_obj(c: kmem_cache, sp: slab): kaddr_t {
  const obj = index_to_obj(c, sp, sp.free);
  const next = sp.bufctl[sp.free]!;
  if (sp.debug !== undefined) sp.bufctl[sp.free] = BUFCTL_FREE;
  sp.inuse++;
  sp.free = next;
  return obj;
}

/** slab_put_obj(): the object goes back at the head of its slab's chain; false (DEBUG) if it was already there. */
function slab_put_obj(c: kmem_cache, sp: slab, obj: kaddr_t): boolean {
  const i = obj_to_index(c, sp, obj);
  // DEBUG: an object whose bufctl is not BUFCTL_FREE is already on the chain.
  if (sp.debug !== undefined && sp.bufctl[i] !== BUFCTL_FREE) return false;
  sp.bufctl[i] = sp.free;
  sp.free = i;
  sp.inuse--;
  return true;
}

/** virt_to_slab(): the slab of an object (page->lru.prev), or undefined for a non-slab page. */
export function virt_to_slab(mm: MmState, obj: kaddr_t): slab | undefined {
  return slab_state(mm).slab_of.get(virt_to_page(mm.dm, obj));
}

/** kmem_getpages(): the slab's pages, PG_slab on each, counted as slab memory. */
function* kmem_getpages(mm: MmState, c: kmem_cache, gfp: gfp_t, nid: number): Effect.fn.Return<number | null> {
  let flags = gfp | c.gfpflags;
  if (c.flags & SLAB_RECLAIM_ACCOUNT) flags |= __GFP_RECLAIMABLE;
  const p = yield* alloc_pages_node(nid, flags & ~__GFP_ZERO, c.gfporder);
  if (p === null) return null;
  const n = 1 << c.gfporder;
  const z = mm.page_zone(p)!;
  if (c.flags & SLAB_RECLAIM_ACCOUNT) z.stat.nr_slab_reclaimable += n;
  else z.stat.nr_slab_unreclaimable += n;
  for (let i = 0; i < n; i++) mm.mem_map.set(p + i, PG_slab);
  return p;
}

/** kmem_freepages(): PG_slab off, the accounting undone, the pages back to the allocator. */
const kmem_freepages = (mm: MmState, c: kmem_cache, p: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const n = 1 << c.gfporder;
    const z = mm.page_zone(p)!;
    if (c.flags & SLAB_RECLAIM_ACCOUNT) z.stat.nr_slab_reclaimable -= n;
    else z.stat.nr_slab_unreclaimable -= n;
    for (let i = 0; i < n; i++) mm.mem_map.clear(p + i, PG_slab);
    return __free_pages(p, c.gfporder);
  });

/** slab_destroy(): the pages go, and an off-slab descriptor back to its cache. */
export function* slab_destroy(k: Kernel, mm: MmState, c: kmem_cache, sp: slab): Effect.fn.Return<void> {
  const s = slab_state(mm);
  slab_destroy_debugcheck(k, mm, c, sp);
  for (let i = 0; i < 1 << c.gfporder; i++) s.slab_of.delete(sp.page + i);
  yield* kmem_freepages(mm, c, sp.page);
  if (c.slabp_cache !== null) yield* kmem_cache_free(c.slabp_cache, sp.mgmt);
}

/**
 * cache_grow(): a new slab on the node's free list, coloured by colour_next. With a sleeping
 * mask interrupts are on while the pages are allocated. Returns false when none could be had.
 * Context: interrupts off (caller), may sleep with a sleeping mask.
 */
function* cache_grow(k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t, nid: number): Effect.fn.Return<boolean> {
  if (gfp & __GFP_HIGHMEM) return yield* BUG("mm/slab.c: cache_grow(): BUG_ON(flags & GFP_SLAB_BUG_MASK)");
  const l3 = c.nodelists[nid]!;
  yield* spin_lock(l3.list_lock);
  let colour = l3.colour_next;
  if (mm.era === "6") {
    // 6.1 cache_grow_begin(): colour_next moves first, then is used.
    l3.colour_next = l3.colour_next + 1 >= c.colour ? 0 : l3.colour_next + 1;
    colour = l3.colour_next >= c.colour ? 0 : l3.colour_next;
  } else l3.colour_next = l3.colour_next + 1 >= c.colour ? 0 : l3.colour_next + 1;
  yield* spin_unlock(l3.list_lock);
  const offset = slab_state(mm).colouring ? colour * c.colour_off : 0;
  const blocking = gfpflags_allow_blocking(gfp);
  if (blocking) yield* local_irq_enable();
  const sp = yield* new_slab(k, mm, c, gfp, nid, offset);
  if (blocking) local_irq_disable();
  if (sp === null) return false;
  yield* spin_lock(l3.list_lock);
  move_slab(l3, sp, "free", true); // list_add_tail(&slabp->list, &l3->slabs_free)
  if (c.stats !== null) c.stats.grown++;
  l3.free_objects += c.num;
  yield* spin_unlock(l3.list_lock);
  return true;
}

/** kmem_getpages + alloc_slabmgmt + slab_map_pages + cache_init_objs. */
function* new_slab(k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t, nid: number, offset: number): Effect.fn.Return<slab | null> {
  const p = yield* kmem_getpages(mm, c, gfp, nid);
  if (p === null) return null;
  let mgmt = 0;
  let colouroff = offset;
  if (c.slabp_cache !== null) {
    mgmt = yield* kmem_cache_alloc_node(c.slabp_cache, gfp & ~__GFP_ZERO, nid);
    if (mgmt === 0) {
      yield* kmem_freepages(mm, c, p);
      return null;
    }
  } else if (mm.era === "2.6") colouroff += c.slab_size; // 6.1 keeps an on-slab freelist at the slab's end
  const base = page_address(mm.dm, p);
  kasan_poison_slab(k, base, PAGE << c.gfporder); // cache_grow_begin()
  const bufctl = new Int32Array(c.num);
  for (let i = 0; i < c.num; i++) bufctl[i] = i + 1 < c.num ? i + 1 : BUFCTL_END;
  const sp: slab = { cache: c, page: p, colouroff, s_mem: base + colouroff, inuse: 0, free: 0, bufctl, nodeid: nid, mgmt, list: null };
  const s = slab_state(mm);
  for (let i = 0; i < 1 << c.gfporder; i++) s.slab_of.set(p + i, sp);
  if (s.debug) {
    // cache_init_objs() with DEBUG: poisoned objects get their ctor at each allocation instead.
    debug_init_slab(c, sp);
    if (c.ctor !== null && !(c.flags & SLAB_POISON)) {
      for (let i = 0; i < c.num; i++) c.ctor(index_to_obj(c, sp, i) + c.debug.obj_offset);
      check_ctor_redzones(k, c, sp);
    }
  } else if (c.ctor !== null) {
    for (let i = 0; i < c.num; i++) {
      // cache_init_objs(): "constructor could break poison info"
      kasan_object_data(k, c, index_to_obj(c, sp, i), true);
      c.ctor(index_to_obj(c, sp, i));
      kasan_object_data(k, c, index_to_obj(c, sp, i), false);
    }
  }
  return sp;
}

/** transfer_objects(): up to `max` objects from one array to another. */
function transfer_objects(to: array_cache, from: array_cache, max: number): number {
  const nr = Math.min(from.avail, max, to.limit - to.avail);
  if (nr <= 0) return 0;
  to.entry.splice(to.avail, 0, ...from.entry.splice(from.avail - nr, nr));
  from.avail -= nr;
  to.avail += nr;
  to.touched = true;
  return nr;
}

/** cache_alloc_refill(): refill this CPU's empty array (batchcount objects), growing if needed. */
const cache_alloc_refill = gen_fn(function* cache_alloc_refill(k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  for (;;) {
    const node = node_of(k, mm);
    let ac = cpu_cache_get(k, c);
    let batchcount = ac.batchcount;
    if (!ac.touched && batchcount > BATCHREFILL_LIMIT) batchcount = BATCHREFILL_LIMIT;
    const l3 = c.nodelists[node]!;
    yield* spin_lock(l3.list_lock);
    ac = cpu_cache_get(k, c);
    if (l3.shared !== null && transfer_objects(ac, l3.shared, batchcount) > 0) l3.shared.touched = true;
    else {
      while (batchcount > 0) {
        let sp = l3.slabs_partial[0];
        if (sp === undefined) {
          l3.free_touched = true;
          sp = l3.slabs_free[0];
          if (sp === undefined) break;
        }
        while (sp.inuse < c.num && batchcount-- > 0) {
          if (c.stats !== null) {
            c.stats.num_allocations++; // STATS_INC_ALLOCED, STATS_INC_ACTIVE, STATS_SET_HIGH
            c.stats.high_mark = Math.max(c.stats.high_mark, ++c.stats.num_active);
          }
          ac.entry[ac.avail++] = slab_get_obj(c, sp);
        }
        move_slab(l3, sp, sp.free === BUFCTL_END ? "full" : "partial");
      }
      l3.free_objects -= ac.avail;
    }
    k.charge(k.costs.pcpOp * Math.max(1, ac.avail));
    yield* spin_unlock(l3.list_lock);
    if (ac.avail === 0) {
      const grown = yield* cache_grow(k, mm, c, gfp, node);
      // cache_grow can reenable interrupts, then ac could change.
      ac = cpu_cache_get(k, c);
      if (!grown && ac.avail === 0) return 0;
      if (ac.avail === 0) continue;
    }
    ac.touched = true;
    return ac.entry[--ac.avail]!;
  }
});

/** ____cache_alloc()'s hit: the hottest object off this CPU's array `ac` (not empty). Context: interrupts off. */
export function cache_alloc_hit(k: Kernel, c: kmem_cache, ac: array_cache): kaddr_t {
  if (c.stats !== null) c.stats.allochit++;
  ac.touched = true;
  k.charge(k.costs.pcpOp);
  const objp = ac.entry[--ac.avail]!;
  kmemleak_erase(k, ac.entry, ac.avail);
  return objp;
}

/** ____cache_alloc(): from this CPU's array, refilling it when empty. Context: interrupts off. */
const ____cache_alloc = (k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t): Effect.Effect<kaddr_t> => {
  const ac = cpu_cache_get(k, c);
  if (ac.avail > 0) return Effect.succeed(cache_alloc_hit(k, c, ac));
  if (c.stats !== null) c.stats.allocmiss++;
  // The refill may have changed this CPU's array: kmemleak_erase() takes the current one.
  return Effect.map(cache_alloc_refill(k, mm, c, gfp), (objp) => {
    if (objp !== 0) {
      const now = cpu_cache_get(k, c);
      kmemleak_erase(k, now.entry, now.avail);
    }
    return objp;
  });
};

/**
 * __cache_alloc()'s checks before the array: failslab (2.6.34's slab_should_failslab() before
 * might_sleep, 6.1's after it) and might_sleep_if the mask sleeps (cache_alloc_debugcheck_before).
 * True when failslab fails the allocation.
 */
export function cache_alloc_precheck(k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t): boolean {
  if (mm.era === "2.6" && should_failslab(k, c.obj_size, gfp)) return true;
  if (gfpflags_allow_blocking(gfp)) __might_sleep("mm/slab.c", mm.era === "2.6" ? 3101 : 0, 0);
  return mm.era === "6" && should_failslab(k, c.obj_size, gfp);
}

/**
 * __cache_alloc(): might_sleep_if the mask sleeps (cache_alloc_debugcheck_before, mm/slab.c),
 * then ____cache_alloc with interrupts off, then __GFP_ZERO's memset. 0 (NULL) on failure.
 */
export const __cache_alloc = gen_fn(function* __cache_alloc(c: kmem_cache, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  const k = kernel();
  const mm = mm_of(k);
  if (c.dead) throw new ScenarioError(`kmem_cache_alloc: cache ${c.name} was destroyed`);
  if (cache_alloc_precheck(k, mm, c, gfp)) return 0;
  const flags = local_irq_save();
  let obj = yield* ____cache_alloc(k, mm, c, gfp);
  if (obj !== 0 && slab_state(mm).debug) {
    const sp = slab_state(mm).slab_of.get(virt_to_page(mm.dm, obj))!;
    obj = cache_alloc_debugcheck_after(k, mm, c, sp, obj_to_index(c, sp, obj), obj);
    if (c.ctor !== null && c.flags & SLAB_POISON) c.ctor(obj);
  }
  yield* local_irq_restore(flags);
  // slab_post_alloc_hook(): kasan_slab_alloc (a sleeping mask first trims the quarantine), then init.
  if (gfpflags_allow_blocking(gfp)) yield* qlist_free_all(kasan_quarantine_reduce(k));
  kasan_slab_alloc(k, c, obj);
  if (obj !== 0 && gfp & __GFP_ZERO) memset(obj, 0, c.obj_size);
  return obj;
});

/** kmem_cache_alloc() as Effect code (slab_fast.ts's op continues here off its fast path). */
export const kmem_cache_alloc_slow = (c: kmem_cache, gfp: gfp_t): Effect.Effect<kaddr_t> =>
  Effect.map(with_frame("kmem_cache_alloc", __cache_alloc(c, gfp)), (obj) => kmem_cache_alloc_done(kernel(), c, obj));

/** kmem_cache_alloc()'s end, after __cache_alloc: the tracepoint and kmemleak. */
export function kmem_cache_alloc_done(k: Kernel, c: kmem_cache, obj: kaddr_t): kaddr_t {
  trace_kmem_cache_alloc(k, obj, c.obj_size, c.size);
  kmemleak_alloc(k, obj, c.obj_size, "kmem_cache_alloc");
  return obj;
}

/** kmem_cache_alloc_node(): on one node (mmsim: this CPU's node, as the UMA path). */
export const kmem_cache_alloc_node = (c: kmem_cache, gfp: gfp_t, _nid: number): Effect.Effect<kaddr_t> => __cache_alloc(c, gfp);


/**
 * free_block(): each object back into its slab; an emptied slab is destroyed when the node has
 * more than free_limit free objects (2.6.34 under list_lock; 6.1 collects them and destroys them
 * after it is dropped, by `destroy`), else it heads the free list; a partial one goes to the
 * partial list's tail. Context: l3->list_lock held.
 */
function free_block(c: kmem_cache, l3: kmem_list3, objs: readonly kaddr_t[], mm: MmState, destroy: slab[]): kaddr_t | null {
  const s = slab_state(mm);
  for (const obj of objs) {
    const sp = s.slab_of.get(virt_to_page(mm.dm, obj))!;
    if (c.stats !== null) c.stats.num_active--;
    move_slab(l3, sp, null);
    if (!slab_put_obj(c, sp, obj)) {
      move_slab(l3, sp, sp.inuse === 0 ? "free" : sp.free === BUFCTL_END ? "full" : "partial");
      return obj;
    }
    l3.free_objects++;
    if (sp.inuse === 0) {
      if (l3.free_objects > l3.free_limit) {
        l3.free_objects -= c.num;
        destroy.push(sp);
      } else move_slab(l3, sp, "free");
    } else move_slab(l3, sp, "partial", true);
  }
  return null;
}

/** free_block() under the node's list_lock, then the emptied slabs' destruction. */
export const free_block_locked = gen_fn(function* free_block_locked(k: Kernel, mm: MmState, c: kmem_cache, l3: kmem_list3, take: () => kaddr_t[]): Effect.fn.Return<void> {
  yield* spin_lock(l3.list_lock);
  const destroy: slab[] = [];
  const double_free = free_block(c, l3, take(), mm, destroy);
  if (double_free !== null) {
    k.printk(`slab: double free detected in cache '${c.name}', objp ${format_kaddr(mm.dm, double_free)}`);
    return yield* BUG("mm/slab.c: slab_put_obj()");
  }
  k.charge(k.costs.pcpOp * Math.max(1, destroy.length));
  if (mm.era === "2.6") for (const sp of destroy) yield* slab_destroy(k, mm, c, sp);
  yield* spin_unlock(l3.list_lock);
  if (mm.era === "6") for (const sp of destroy) yield* slab_destroy(k, mm, c, sp);
});

/** free_done's STATS_SET_FREEABLE: the most free slabs the node has had after a flush. */
function set_freeable(c: kmem_cache, l3: kmem_list3): void {
  if (c.stats !== null) c.stats.max_freeable = Math.max(c.stats.max_freeable, l3.slabs_free.length);
}

/** cache_flusharray(): the oldest batchcount objects to the shared array if it has room, else to their slabs. */
function* cache_flusharray(k: Kernel, mm: MmState, c: kmem_cache, ac: array_cache): Effect.fn.Return<void> {
  const l3 = c.nodelists[node_of(k, mm)]!;
  let batchcount = ac.batchcount;
  const shared = l3.shared;
  if (shared !== null && shared.limit - shared.avail > 0) {
    yield* spin_lock(l3.list_lock);
    batchcount = Math.min(batchcount, shared.limit - shared.avail);
    shared.entry.splice(shared.avail, 0, ...ac.entry.splice(0, batchcount));
    shared.avail += batchcount;
    ac.avail -= batchcount;
    set_freeable(c, l3);
    yield* spin_unlock(l3.list_lock);
    return;
  }
  yield* free_block_locked(k, mm, c, l3, () => {
    ac.avail -= batchcount;
    return ac.entry.splice(0, batchcount);
  });
  set_freeable(c, l3);
}

/**
 * __cache_free(): KASAN may keep the object in its quarantine, or refuse an invalid or double
 * free (kasan_slab_free; `fns` name the free for its report, outermost first); then
 * ___cache_free. Context: interrupts off.
 */
const __cache_free = (k: Kernel, mm: MmState, c: kmem_cache, obj: kaddr_t, fns: readonly string[]): Effect.Effect<void> => {
  if (kasan_enabled(k)) {
    const v = kasan_slab_free(k, c, obj, virt_to_page(mm.dm, obj), (c.flags & SLAB_DESTROY_BY_RCU) !== 0, fns);
    if (v === "invalid-free" || v === "double-free") kasan_report_invalid_free(k, obj, v, fns);
    if (v !== "free") return Effect.void;
  }
  return ___cache_free(k, mm, c, obj);
};

/**
 * ___cache_free(): onto this CPU's array, flushing it first when full; with DEBUG the object is
 * checked first (cache_free_debugcheck) and the array holds its buffer. Context: interrupts off.
 */
const ___cache_free = gen_fn(function* ___cache_free(k: Kernel, mm: MmState, c: kmem_cache, obj: kaddr_t): Effect.fn.Return<void> {
  if (slab_state(mm).debug) {
    const sp = slab_state(mm).slab_of.get(virt_to_page(mm.dm, obj));
    if (sp === undefined) return yield* BUG(`mm/slab.c: page_get_cache(): BUG_ON(!PageSlab(page)) for ${obj.toString(16)}`);
    if (sp.cache !== c) return yield* BUG("mm/slab.c: cache_free_debugcheck(): BUG_ON(virt_to_cache(objp) != cachep)");
    const r = cache_free_debugcheck(k, mm, c, sp, obj);
    if (typeof r === "string") return yield* BUG(r);
    obj = r[0];
  }
  const ac = cpu_cache_get(k, c);
  if (ac.avail < ac.limit) return cache_free_hit(k, c, ac, obj);
  if (c.stats !== null) c.stats.freemiss++;
  yield* cache_flusharray(k, mm, c, ac);
  array_push(k, cpu_cache_get(k, c), obj);
});

/** ___cache_free()'s hit: this CPU's array `ac` has room for the object. Context: interrupts off. */
export function cache_free_hit(k: Kernel, c: kmem_cache, ac: array_cache, obj: kaddr_t): void {
  if (c.stats !== null) c.stats.freehit++;
  array_push(k, ac, obj);
}

/**
 * The object goes on top of the array (ac->entry[ac->avail++] = objp); the array keeps no
 * entries past the new top (what was handed out above it is gone).
 */
function array_push(k: Kernel, ac: array_cache, obj: kaddr_t): void {
  const e = ac.entry;
  const n = ac.avail;
  while (e.length > n + 1) e.pop(); // (not `length =`: that gives the array's store back)
  e[n] = obj;
  ac.avail = n + 1;
  k.charge(k.costs.pcpOp);
}

/** The object's slab and cache, or the BUG virt_to_cache() hits (BUG_ON(!PageSlab(page))). */
const virt_to_cache = (mm: MmState, obj: kaddr_t): Effect.Effect<kmem_cache> =>
  Effect.suspend(() => {
    const sp = slab_state(mm).slab_of.get(virt_to_page(mm.dm, obj));
    return sp === undefined ? BUG(`mm/slab.c: page_get_cache(): BUG_ON(!PageSlab(page)) for ${obj.toString(16)}`) : Effect.succeed(sp.cache);
  });

/** kmem_cache_free() as Effect code (slab_fast.ts's op continues here off its fast path). */
export const kmem_cache_free_slow = gen_fn(function* kmem_cache_free_slow(c: kmem_cache, obj: kaddr_t): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  kmemleak_free(k, obj);
  const flags = local_irq_save();
  yield* __cache_free(k, mm, c, obj, ["kmem_cache_free"]);
  yield* local_irq_restore(flags);
  trace_kmem_cache_free(k, obj);
});

/** kfree()'s body: the object's cache from its page, then __cache_free. */
export const cache_free_object = gen_fn(function* cache_free_object(obj: kaddr_t): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  const flags = local_irq_save();
  const c = yield* virt_to_cache(mm, obj);
  // 6.1 SLAB: kfree() calls __kmem_cache_free(), where __cache_free is inlined.
  yield* __cache_free(k, mm, c, obj, ["kfree", "__kmem_cache_free"]);
  yield* local_irq_restore(flags);
});

/**
 * qlist_free_all(): objects leaving KASAN's quarantine go back to their caches (qlink_free:
 * ___cache_free with interrupts off). Context: any.
 */
export const qlist_free_all = (q: readonly qlink[]): Effect.Effect<void> =>
  q.length === 0
    ? Effect.void
    : Effect.gen(function* () {
        const k = kernel();
        const mm = mm_of(k);
        for (const { cache, object } of q) {
          const flags = local_irq_save();
          yield* ___cache_free(k, mm, cache, object);
          yield* local_irq_restore(flags);
        }
      });

/** obj_size(virt_to_cache(obj)), for ksize. */
export const object_cache = (obj: kaddr_t): Effect.Effect<kmem_cache> => Effect.suspend(() => virt_to_cache(mm_of(kernel()), obj));

/** slab_error(): "slab error in FUNC(): cache `NAME': MSG" and a backtrace. */
export function slab_error(k: Kernel, func: string, c: kmem_cache, msg: string): void {
  k.report("slab_error", [`slab error in ${func}(): cache \`${c.name}': ${msg}`, ...dump_stack(k.this_ctx(), [func, "__slab_error"])].join("\n"));
}

/**
 * kmem_cache_create(name, size, align, flags, ctor): a new cache, or null (a duplicate name;
 * SLAB_PANIC panics instead). A NULL name, interrupt context or a size out of range is 2.6.34's
 * "Early error in slab" BUG. Context: process, may sleep (cache_chain_mutex).
 */
export const kmem_cache_create = gen_fn(function* kmem_cache_create(name: string, size: number, align: number, flags: number, ctor: kmem_cache["ctor"] = null): Effect.fn.Return<kmem_cache | null> {
  const k = kernel();
  const mm = mm_of(k);
  const abi = slab_state(mm).abi;
  if (!Number.isInteger(size) || !Number.isInteger(align) || align < 0) throw new ScenarioError(`kmem_cache_create(${JSON.stringify(name)}, ${size}, ${align}, ...): size and align are whole numbers of bytes`);
  if (!name || in_interrupt() || size < abi.bytes_per_word || size > KMALLOC_MAX_SIZE) {
    k.printk(`kmem_cache_create: Early error in slab ${name}`);
    return yield* BUG("mm/slab.c: kmem_cache_create()");
  }
  const s = slab_state(mm);
  const fail = (why: string[]): Effect.Effect<null> => {
    if (flags & SLAB_PANIC) {
      k.report("panic", `Kernel panic - not syncing: kmem_cache_create(): failed to create slab \`${name}'`);
      k.halt(k.now(), `panic: kmem_cache_create(): failed to create slab \`${name}'`);
      return Effect.never;
    }
    for (const l of why) k.printk(l);
    return Effect.succeed(null);
  };
  yield* mutex_lock(s.cache_chain_mutex);
  const dup = s.cache_chain.some((c) => c.name === name);
  if (!dup && mm.era === "2.6") {
    if (s.debug) WARN_ON(name.includes(" "), "mm/slab.c: kmem_cache_create()"); // it confuses parsers
    // Under cache_chain_mutex, as Linux checks them (the BUG leaves it held).
    if (s.debug && flags & SLAB_DESTROY_BY_RCU && flags & SLAB_POISON) return yield* BUG("mm/slab.c: kmem_cache_create(): BUG_ON(flags & SLAB_POISON)");
    if (flags & ~CREATE_MASK(s.debug)) return yield* BUG("mm/slab.c: kmem_cache_create(): BUG_ON(flags & ~CREATE_MASK)");
  }
  const c = dup ? null : create_cache(k, mm, name, size, align, flags, ctor);
  yield* mutex_unlock(s.cache_chain_mutex);
  if (dup) return yield* fail([`kmem_cache_create: duplicate cache ${name}`, ...dump_stack(k.this_ctx(), ["kmem_cache_create"])]);
  if (c === null) return yield* fail([`kmem_cache_create: couldn't create cache ${name}.`]);
  return c;
});
