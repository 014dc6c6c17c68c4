// mm/kasan/ (generic KASAN, CONFIG_KASAN_GENERIC, as in Linux 6.1): shadow memory, the
// allocator hooks (common.c, generic.c, shadow.c) and the quarantine (quarantine.c). The checks
// and the report are in kasan_report.ts.
// - Shadow: one byte per KASAN_GRANULE_SIZE (8) bytes of the direct map and the vmalloc area
//   (kasan.h): 0 all 8 accessible, 1..7 the first N, negative values name what the granule is:
//   KASAN_PAGE_FREE 0xFF, KASAN_PAGE_REDZONE 0xFE, KASAN_SLAB_REDZONE 0xFC, KASAN_SLAB_FREE 0xFB,
//   KASAN_SLAB_FREETRACK 0xFA (freed, free track saved), KASAN_VMALLOC_INVALID 0xF8. Stored
//   sparsely, a page of shadow at a time (a number for a page all of one value); the direct map
//   starts accessible (boot's memblock_free_all frees with FPI_SKIP_KASAN_POISON), the vmalloc
//   area invalid (CONFIG_KASAN_VMALLOC's populated shadow).
// - Pages: allocation unpoisons them (post_alloc_hook), freeing poisons KASAN_PAGE_FREE
//   (free_pages_prepare). A new slab is KASAN_SLAB_REDZONE throughout (kasan_poison_slab), a
//   constructor runs on an unpoisoned object. kmem_cache_alloc unpoisons the object_size
//   (__kasan_slab_alloc), kmalloc then poisons what lies past the request (____kasan_kmalloc:
//   round_up(object + size) to round_up(object + object_size), KASAN_SLAB_REDZONE) and a large
//   kmalloc the rest of its pages (KASAN_PAGE_REDZONE). vmalloc unpoisons the requested size;
//   the rest of the last page and the guard page stay KASAN_VMALLOC_INVALID, and vfree
//   poisons the area again.
// - Free (____kasan_slab_free): a pointer that is not its object's start is an invalid-free, an
//   object whose first byte is not accessible a double-free; either is reported and the free is
//   not done (it returns true, __cache_free returns early). Else the object is poisoned
//   KASAN_SLAB_FREE, its free track saved (first shadow byte KASAN_SLAB_FREETRACK) and it goes into
//   the quarantine. SLAB_TYPESAFE_BY_RCU (mmsim's SLAB_DESTROY_BY_RCU) objects are freed at once.
// - Caches (__kasan_cache_create): each object gets alloc metadata (struct kasan_alloc_meta, 16
//   bytes), free metadata (16) when the object cannot hold it (a ctor, RCU, under 16 bytes), and
//   at least optimal_redzone(object_size) bytes past the object, before SLAB aligns the size:
//   kmalloc-128's 128 + 16 + 32 bytes become 192, which SLAB aligns to 128 for a power-of-two
//   kmalloc cache: its buffers are 256 bytes apart with KASAN on.
// - Quarantine (quarantine.c): a freed object waits in this CPU's queue (QUARANTINE_PERCPU_SIZE,
//   1 MiB); past that the queue moves to the global one's tail batch (QUARANTINE_BATCHES 1024),
//   and a sleeping allocation (kasan_quarantine_reduce from __kasan_slab_alloc and
//   kmalloc_large) frees the head batch once the global quarantine holds more than
//   totalram / QUARANTINE_FRACTION (32) less the per-CPU queues. Sizes count cache->size.
//   The quarantine really delays reuse, as in Linux: that is KASAN's allocator behaviour, and a
//   use-after-free is only seen while the object is not handed out again. So, with KASAN on,
//   which address a kmalloc returns differs from a run without it (also from the bigger
//   buffers), and memory held in the quarantine and the redzones can make an allocation fail
//   that would succeed without KASAN, as on a real KASAN kernel; with KASAN off nothing changes.
// Not modelled: compiler instrumentation (only mmsim's accessors are checked: mem_read,
// mem_write, memset, memcpy and what uses them), stack and global redzones, the quarantine's
// locks and srcu (its operations are atomic steps here), per-CPU queue offlining, mempool
// hooks, kasan_record_aux_stack, tags, the stack depot (tracks keep the frames).
import type { Kernel } from "../kernel.ts";
import { page_address, type DirectMap, type kaddr_t } from "./page.ts";
import type { kmem_cache, slab } from "./slab.ts";
import { vmalloc_range } from "./vmalloc_area.ts";
import { ScenarioError } from "../../sim/errors.ts";
import type { MemorySpec } from "./mmzone.ts";

export const KASAN_GRANULE_SIZE = 8;
export const KASAN_PAGE_FREE = 0xff;
export const KASAN_PAGE_REDZONE = 0xfe;
export const KASAN_SLAB_REDZONE = 0xfc;
export const KASAN_SLAB_FREE = 0xfb;
export const KASAN_SLAB_FREETRACK = 0xfa;
export const KASAN_VMALLOC_INVALID = 0xf8;
const QUARANTINE_PERCPU_SIZE = 1 << 20;
const QUARANTINE_BATCHES = 1024;
const QUARANTINE_FRACTION = 32;
const PAGE = 4096;
const GRANULES = PAGE / KASAN_GRANULE_SIZE;

/** struct kasan_track: the task and its frames, innermost first. */
export interface kasan_track {
  readonly pid: number;
  readonly frames: readonly string[];
}

export interface qlink {
  readonly cache: kmem_cache;
  readonly object: kaddr_t;
}
interface qlist {
  items: qlink[];
  bytes: number;
}

export interface KasanState {
  /** Shadow by page of address (addr / 4096): a page all of one value, or 512 bytes. */
  readonly shadow: Map<number, number | Uint8Array>;
  /** The vmalloc area (set once memory is up; empty before). */
  vmalloc: { readonly start: kaddr_t; readonly end: kaddr_t };
  /** kasan_alloc_meta / kasan_free_meta, by object address. */
  readonly alloc_track: Map<kaddr_t, kasan_track>;
  readonly free_track: Map<kaddr_t, kasan_track>;
  readonly cpu_quarantine: qlist[];
  readonly global_quarantine: (qlist | undefined)[];
  head: number;
  tail: number;
  quarantine_size: number;
  quarantine_max_size: number;
  quarantine_batch_size: number;
  /** KASAN_BIT_REPORTED: without kasan_multi_shot only the first report prints. */
  reported: boolean;
  /** The slab allocator's pfn -> slab map (slab_init hands it over), for the report. */
  slab_of: ReadonlyMap<number, slab> | null;
}
// The module's state, kept in the kernel's own field (a property load on the hot paths).
const states = {
  get: (o: Kernel): KasanState | undefined => o.ext_kasan as KasanState | undefined,
  set: (o: Kernel, v: KasanState): void => {
    o.ext_kasan = v;
  },
  has: (o: Kernel): boolean => o.ext_kasan !== undefined,
};

/**
 * kasan_init(): the shadow, before memory comes up (the caches are sized for KASAN). KASAN came
 * with Linux 4.0 and 6.1's generic mode is x86_64-only (HAVE_ARCH_KASAN if X86_64): a machine
 * without memory, with kernel "2.6" or on i386 is refused.
 */
export function kasan_init(k: Kernel, memory: MemorySpec | undefined): void {
  if (memory === undefined) throw new ScenarioError(`machine.kasan needs machine memory (machine.memory or --machine FILE) with "kernel": "6" and "arch": "x86_64"`);
  if (memory.kernel !== "6") throw new ScenarioError(`machine.kasan: KASAN exists only in kernels 4.0 and later; it needs "kernel": "6" (this machine has kernel "${memory.kernel}")`);
  if (memory.arch !== "x86_64") throw new ScenarioError(`machine.kasan: generic KASAN is x86_64-only in 6.1; it needs "arch": "x86_64" (this machine is ${memory.arch})`);
  states.set(k, {
    shadow: new Map(),
    vmalloc: { start: 0, end: 0 },
    alloc_track: new Map(),
    free_track: new Map(),
    cpu_quarantine: Array.from({ length: k.percpu.length }, () => ({ items: [], bytes: 0 })),
    global_quarantine: [],
    head: 0,
    tail: 0,
    quarantine_size: 0,
    quarantine_max_size: 0,
    quarantine_batch_size: 0,
    reported: false,
    slab_of: null,
  });
}
/** After mem_init: the vmalloc area's shadow starts KASAN_VMALLOC_INVALID. */
export function kasan_init_vmalloc(k: Kernel): void {
  const s = states.get(k);
  if (s !== undefined && k.mm !== null) s.vmalloc = vmalloc_range(k.mm.dm, k.mm.era);
}
export const kasan_state = (k: Kernel): KasanState | undefined => states.get(k);
export const kasan_enabled = (k: Kernel): boolean => states.has(k);
export function kasan_register_slabs(k: Kernel, slab_of: ReadonlyMap<number, slab>): void {
  const s = states.get(k);
  if (s !== undefined) s.slab_of = slab_of;
}

// ---- shadow ----

const default_of = (s: KasanState, page: number): number => (page * PAGE >= s.vmalloc.start && page * PAGE < s.vmalloc.end ? KASAN_VMALLOC_INVALID : 0);

/** The shadow byte of the granule holding `addr`. */
export function shadow_byte(s: KasanState, addr: kaddr_t): number {
  const page = Math.floor(addr / PAGE);
  const v = s.shadow.get(page);
  if (v === undefined) return default_of(s, page);
  return typeof v === "number" ? v : v[Math.floor((addr % PAGE) / KASAN_GRANULE_SIZE)]!;
}

/** Sets the granules [g0, g1) of one page to `value`. */
function set_granules(s: KasanState, page: number, g0: number, g1: number, value: number): void {
  if (g0 === 0 && g1 === GRANULES) {
    if (value === default_of(s, page)) s.shadow.delete(page);
    else s.shadow.set(page, value);
    return;
  }
  let v = s.shadow.get(page);
  if (v === undefined || typeof v === "number") {
    const fill = v ?? default_of(s, page);
    if (fill === value) return;
    v = new Uint8Array(GRANULES).fill(fill);
    s.shadow.set(page, v);
  }
  v.fill(value, g0, g1);
}

/** kasan_poison(): the granules from `addr` (granule-aligned) over `size` bytes get `value`. */
export function kasan_poison(s: KasanState, addr: kaddr_t, size: number, value: number): void {
  const g_start = Math.floor(addr / KASAN_GRANULE_SIZE);
  const g_end = Math.ceil((addr + size) / KASAN_GRANULE_SIZE);
  for (let g = g_start; g < g_end; ) {
    const page = Math.floor(g / GRANULES);
    const last = Math.min(g_end, (page + 1) * GRANULES);
    set_granules(s, page, g - page * GRANULES, last - page * GRANULES, value);
    g = last;
  }
}

/** kasan_unpoison(): `size` bytes at `addr` accessible, a partial last granule as its byte count. */
export function kasan_unpoison(s: KasanState, addr: kaddr_t, size: number): void {
  kasan_poison(s, addr, size, 0);
  if (size % KASAN_GRANULE_SIZE !== 0) kasan_poison(s, addr + size - (size % KASAN_GRANULE_SIZE), 1, size % KASAN_GRANULE_SIZE);
}

const round_up = (x: number): number => Math.ceil(x / KASAN_GRANULE_SIZE) * KASAN_GRANULE_SIZE;

/** memory_is_poisoned(): some byte of [addr, addr + size) is not accessible. */
export function memory_is_poisoned(s: KasanState, addr: kaddr_t, size: number): boolean {
  const end = addr + size - 1;
  for (let g = Math.floor(addr / KASAN_GRANULE_SIZE); g <= Math.floor(end / KASAN_GRANULE_SIZE); g++) {
    const v = shadow_byte(s, g * KASAN_GRANULE_SIZE);
    if (v === 0) continue;
    if (v >= 0x80) return true; // negative as an s8
    const last = Math.min(end, g * KASAN_GRANULE_SIZE + KASAN_GRANULE_SIZE - 1) % KASAN_GRANULE_SIZE;
    if (last >= v) return true;
  }
  return false;
}

/** kasan_byte_accessible(): the granule of `addr` is at least partly accessible. */
export const kasan_byte_accessible = (s: KasanState, addr: kaddr_t): boolean => shadow_byte(s, addr) < KASAN_GRANULE_SIZE;

/** kasan_byte_accessible() of the running kernel's shadow (true with KASAN off). */
export function kasan_byte_accessible_at(k: Kernel, addr: kaddr_t): boolean {
  const s = states.get(k);
  return s === undefined || kasan_byte_accessible(s, addr);
}

/** kasan_unpoison_range(): `size` bytes at `addr` made accessible (ksize). */
export function kasan_unpoison_range(k: Kernel, addr: kaddr_t, size: number): void {
  const s = states.get(k);
  if (s !== undefined) kasan_unpoison(s, addr, size);
}

// ---- tracks ----

/** kasan_save_stack() / kasan_set_track(): the current task and frames, under `hook`'s frames. */
function set_track(k: Kernel, hook: readonly string[]): kasan_track {
  return { pid: k.this_cpu().curr.pid, frames: ["kasan_save_stack", "kasan_set_track", ...hook, ...[...k.this_ctx().frames].reverse()] };
}

// ---- pages ----

/** kasan_unpoison_pages() (post_alloc_hook): the block's direct-map bytes accessible. */
export function kasan_unpoison_pages(k: Kernel, dm: DirectMap, pfn: number, order: number): void {
  const s = states.get(k);
  if (s === undefined) return;
  const addr = page_address(dm, pfn);
  if (addr !== 0) kasan_unpoison(s, addr, PAGE << order);
}

/** kasan_poison_pages() (free_pages_prepare): KASAN_PAGE_FREE over the block. */
export function kasan_poison_pages(k: Kernel, dm: DirectMap, pfn: number, order: number): void {
  const s = states.get(k);
  if (s === undefined) return;
  const addr = page_address(dm, pfn);
  if (addr !== 0) kasan_poison(s, addr, PAGE << order, KASAN_PAGE_FREE);
}

// ---- slab ----

/** optimal_redzone() (common.c). */
function optimal_redzone(object_size: number): number {
  if (object_size <= 64 - 16) return 16;
  if (object_size <= 128 - 32) return 32;
  if (object_size <= 512 - 64) return 64;
  if (object_size <= 4096 - 128) return 128;
  if (object_size <= (1 << 14) - 256) return 256;
  if (object_size <= (1 << 15) - 512) return 512;
  if (object_size <= (1 << 16) - 1024) return 1024;
  return 2048;
}

/** __kasan_cache_create(): the buffer size with KASAN's metadata and redzone (before SLAB's ALIGN). */
export function kasan_cache_create(object_size: number, size: number, has_ctor: boolean, rcu: boolean): number {
  size += 16; // struct kasan_alloc_meta: the alloc track and two aux stacks
  if (rcu || has_ctor || object_size < 16) size += 16; // struct kasan_free_meta outside the object
  return Math.max(size, Math.min(object_size + optimal_redzone(object_size), 4 << 20)); // KMALLOC_MAX_SIZE
}

/** kasan_poison_slab(): a new slab's pages, KASAN_SLAB_REDZONE. */
export function kasan_poison_slab(k: Kernel, addr: kaddr_t, bytes: number): void {
  const s = states.get(k);
  if (s !== undefined) kasan_poison(s, addr, bytes, KASAN_SLAB_REDZONE);
}

/** kasan_unpoison_object_data() / kasan_poison_object_data(): around a constructor. */
export function kasan_object_data(k: Kernel, c: kmem_cache, obj: kaddr_t, accessible: boolean): void {
  const s = states.get(k);
  if (s === undefined) return;
  if (accessible) kasan_unpoison(s, obj, c.obj_size);
  else kasan_poison(s, obj, round_up(c.obj_size), KASAN_SLAB_REDZONE);
}

/** __kasan_slab_alloc(): the object accessible, its alloc track (kmem_cache_alloc's). */
export function kasan_slab_alloc(k: Kernel, c: kmem_cache, obj: kaddr_t): void {
  const s = states.get(k);
  if (s === undefined || obj === 0) return;
  kasan_unpoison(s, obj, c.obj_size);
  s.alloc_track.set(obj, set_track(k, ["__kasan_slab_alloc", "kmem_cache_alloc"]));
}

/** __kasan_kmalloc(): the bytes past the request poisoned, the request accessible, kmalloc's track. */
export function kasan_kmalloc(k: Kernel, c: kmem_cache, obj: kaddr_t, size: number): void {
  const s = states.get(k);
  if (s === undefined || obj === 0) return;
  const rz_start = round_up(obj + size);
  kasan_poison(s, rz_start, round_up(obj + c.obj_size) - rz_start, KASAN_SLAB_REDZONE);
  kasan_unpoison(s, obj, size);
  s.alloc_track.set(obj, set_track(k, ["__kasan_kmalloc", "__kmalloc"]));
}

/** __kasan_kmalloc_large(): the pages past the request KASAN_PAGE_REDZONE. */
export function kasan_kmalloc_large(k: Kernel, ptr: kaddr_t, size: number, order: number): void {
  const s = states.get(k);
  if (s === undefined || ptr === 0) return;
  const rz_start = round_up(ptr + size);
  kasan_poison(s, rz_start, ptr + (PAGE << order) - rz_start, KASAN_PAGE_REDZONE);
  kasan_unpoison(s, ptr, size);
}

/** The slab object `addr` falls in (nearest_obj), or null off slab pages. */
export function kasan_nearest_obj(s: KasanState, addr: kaddr_t, pfn: number): { sp: slab; object: kaddr_t } | null {
  const sp = s.slab_of?.get(pfn);
  if (sp === undefined) return null;
  const c = sp.cache;
  const i = Math.max(0, Math.min(c.num - 1, Math.floor((addr - sp.s_mem) / c.size)));
  return { sp, object: sp.s_mem + i * c.size };
}

/**
 * ____kasan_slab_free()'s verdict on freeing `obj` (on slab page `pfn`): "invalid-free" or
 * "double-free" (report it; the free is not done), "quarantine" (KASAN keeps the object) or
 * "free" (free it now: KASAN off, or an RCU cache). `fns`: the free's functions, outermost first.
 */
export function kasan_slab_free(k: Kernel, c: kmem_cache, obj: kaddr_t, pfn: number, rcu: boolean, fns: readonly string[]): "invalid-free" | "double-free" | "quarantine" | "free" {
  const s = states.get(k);
  if (s === undefined) return "free";
  if (kasan_nearest_obj(s, obj, pfn)?.object !== obj) return "invalid-free";
  if (rcu) return "free";
  if (!kasan_byte_accessible(s, obj)) return "double-free";
  kasan_poison(s, obj, round_up(c.obj_size), KASAN_SLAB_FREE);
  // kasan_save_free_info(): the free track, and the first shadow byte says it is there.
  s.free_track.set(obj, set_track(k, ["kasan_save_free_info", "____kasan_slab_free", "__kasan_slab_free", ...[...fns].reverse()]));
  kasan_poison(s, obj, 1, KASAN_SLAB_FREETRACK);
  quarantine_put(k, s, { cache: c, object: obj });
  return "quarantine";
}

// ---- quarantine ----

function quarantine_put(k: Kernel, s: KasanState, q: qlink): void {
  const cq = s.cpu_quarantine[k.this_cpu().id]!;
  cq.items.push(q);
  cq.bytes += q.cache.size;
  if (cq.bytes <= QUARANTINE_PERCPU_SIZE) return;
  s.quarantine_size += cq.bytes;
  const tail = (s.global_quarantine[s.tail] ??= { items: [], bytes: 0 });
  tail.items.push(...cq.items);
  tail.bytes += cq.bytes;
  cq.items = [];
  cq.bytes = 0;
  if (tail.bytes >= s.quarantine_batch_size) {
    const next = s.tail + 1 === QUARANTINE_BATCHES ? 0 : s.tail + 1;
    if (next !== s.head) s.tail = next;
  }
}

/**
 * kasan_quarantine_reduce(): when the global quarantine is over its limit, its head batch
 * leaves; returns the objects the caller must free (qlist_free_all: ___cache_free each). Called
 * for sleeping allocations only.
 */
export function kasan_quarantine_reduce(k: Kernel): qlink[] {
  const s = states.get(k);
  if (s === undefined || s.quarantine_size <= s.quarantine_max_size) return [];
  const mm = k.mm!;
  const total = (mm.zones.reduce((a, z) => a + z.managed_pages, 0) * PAGE) / QUARANTINE_FRACTION;
  const percpu = QUARANTINE_PERCPU_SIZE * s.cpu_quarantine.length;
  s.quarantine_max_size = total < percpu ? 0 : total - percpu;
  s.quarantine_batch_size = Math.max(QUARANTINE_PERCPU_SIZE, Math.floor((2 * total) / QUARANTINE_BATCHES));
  if (s.quarantine_size <= s.quarantine_max_size) return [];
  const batch = s.global_quarantine[s.head] ?? { items: [], bytes: 0 };
  delete s.global_quarantine[s.head];
  s.quarantine_size -= batch.bytes;
  s.head = s.head + 1 === QUARANTINE_BATCHES ? 0 : s.head + 1;
  return qlist_leave(s, batch.items);
}

/** qlink_free()'s shadow: back to KASAN_SLAB_FREE (the free track is no longer trusted). */
function qlist_leave(s: KasanState, items: qlink[]): qlink[] {
  for (const q of items) {
    kasan_poison(s, q.object, 1, KASAN_SLAB_FREE);
    s.free_track.delete(q.object);
  }
  return items;
}

/** kasan_quarantine_remove_cache() (kmem_cache_destroy): the cache's objects leave every queue. */
export function kasan_quarantine_remove_cache(k: Kernel, c: kmem_cache): qlink[] {
  const s = states.get(k);
  if (s === undefined) return [];
  const out: qlink[] = [];
  const take = (q: qlist, global: boolean): void => {
    const mine = q.items.filter((x) => x.cache === c);
    if (mine.length === 0) return;
    q.items = q.items.filter((x) => x.cache !== c);
    q.bytes -= mine.length * c.size;
    if (global) s.quarantine_size -= mine.length * c.size;
    out.push(...mine);
  };
  for (const q of s.cpu_quarantine) take(q, false);
  for (const q of s.global_quarantine) if (q !== undefined) take(q, true);
  return qlist_leave(s, out);
}

// ---- vmalloc ----

/** kasan_unpoison_vmalloc(): the requested bytes of a new area. */
export function kasan_unpoison_vmalloc(k: Kernel, addr: kaddr_t, size: number): void {
  const s = states.get(k);
  if (s !== undefined) kasan_unpoison(s, addr, size);
}

/** kasan_poison_vmalloc(): the area (guard page included) KASAN_VMALLOC_INVALID again. */
export function kasan_poison_vmalloc(k: Kernel, addr: kaddr_t, size: number): void {
  const s = states.get(k);
  if (s !== undefined) kasan_poison(s, addr, round_up(size), KASAN_VMALLOC_INVALID);
}
