// The general caches and the kmalloc family: kmem_cache_init()'s caches (mm/slab.c), kmalloc /
// kfree / ksize (include/linux/slab_def.h, mm/slab.c), kzalloc / kcalloc (include/linux/slab.h),
// krealloc (mm/util.c).
// 2.6.34: "size-N" and "size-N(DMA)" for N in kmalloc_sizes.h with 4 KiB pages and 64-byte
//   L1_CACHE_BYTES: 32, 64, 128, 192, 256, 512 ... 4194304 (no 96); created INDEX_AC (size-32)
//   and INDEX_L3 (size-64 on i386, size-128 on x86_64) first, then each size and its DMA twin;
//   SLAB_HWCACHE_ALIGN, align ARCH_KMALLOC_MINALIGN (8). kmalloc picks the first size >= the
//   request (GFP_DMA: its twin); 0 gives ZERO_SIZE_PTR (16); more than 4 MiB gives NULL.
// 6.1 with CONFIG_SLAB: "kmalloc-N", "kmalloc-rcl-N" (SLAB_RECLAIM_ACCOUNT, for
//   __GFP_RECLAIMABLE) and "dma-kmalloc-N" (GFP_DMA) for N = 32, 64, 96, 128, 192, 256, 512,
//   1k, 2k, 4k, 8k (KMALLOC_SHIFT_LOW 5, KMALLOC_SHIFT_HIGH 13; 96 and 192 right after 64 and
//   128; natural alignment for powers of two); larger requests go to the page allocator
//   (__kmalloc_large_node: __GFP_COMP, counted in NR_SLAB_UNRECLAIMABLE, not in slabinfo).
//   (SLUB, 6.1's default allocator, would add kmalloc-8 and kmalloc-16; mmsim models SLAB.)
// kmalloc/kzalloc and kfree are ops: an object off or onto this CPU's array cache through
// slab_fast.ts's pieces, everything else as the Effect code here and in slab.ts.
// Not modelled: kmalloc-cg-N (CONFIG_MEMCG_KMEM), kmalloc_track_caller's caller, kzfree.
import * as Effect from "effect/Effect";
import { ScenarioError } from "../../sim/errors.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { __GFP_COMP, __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ZERO, gfpflags_allow_blocking, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { __free_pages, alloc_pages, mm_of, with_frame } from "./page_alloc.ts";
import { direct_map_pfn, page_address, virt_to_page, type kaddr_t } from "./page.ts";
import { PG_slab } from "./page-flags.ts";
import { MAX_ORDER } from "./buddy.ts";
import { memcpy } from "./access.ts";
import { __cache_alloc, cache_free_object, create_cache, object_cache, qlist_free_all, set_general_cache_lookup, slab_init, slab_state, type kmem_cache } from "./slab.ts";
import { cache_alloc_fast, cache_alloc_fast_ok, cache_alloc_post, cache_free_fast, cache_free_fast_ok } from "./slab_fast.ts";
import { BECOME, OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { kasan_byte_accessible_at, kasan_kmalloc, kasan_kmalloc_large, kasan_quarantine_reduce, kasan_unpoison_range } from "./kasan.ts";
import { kasan_check_byte, kasan_report_invalid_free } from "./kasan_report.ts";
import { ARCH_KMALLOC_MINALIGN, SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_PANIC, SLAB_RECLAIM_ACCOUNT } from "./slab_geometry.ts";
import { __might_sleep } from "../sched/core.ts";
import { start_cache_reap } from "./slab_reap.ts";
import { kmemleak_alloc, kmemleak_free } from "./kmemleak.ts";
import { trace_kfree, trace_kmalloc } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

/** ZERO_SIZE_PTR: what kmalloc(0) returns; kfree takes it like NULL. */
export const ZERO_SIZE_PTR = 16;
const ZERO_OR_NULL_PTR = (p: kaddr_t): boolean => p <= ZERO_SIZE_PTR;

/** 2.6.34 kmalloc_sizes.h with PAGE_SIZE 4096, L1_CACHE_BYTES 64, KMALLOC_MAX_SIZE 4 MiB. */
const SIZES_26 = [32, 64, 128, 192, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304];
/** 6.1 SLAB: kmalloc_info[] from KMALLOC_SHIFT_LOW 5 to KMALLOC_SHIFT_HIGH 13, in creation order. */
const SIZES_6 = [32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
const KMALLOC_MAX_CACHE_SIZE_6 = 8192;
const short = (n: number): string => (n >= 1 << 20 ? `${n >> 20}M` : n >= 1024 ? `${n >> 10}k` : `${n}`);

/** The general caches by size: normal, DMA and (6.1) reclaimable. */
interface GeneralCaches {
  readonly sizes: readonly number[];
  readonly normal: kmem_cache[];
  readonly dma: kmem_cache[];
  readonly reclaim: kmem_cache[];
}
// The module's state, kept in the MmState's own field (a property load on the hot paths).
const generals = {
  get: (o: MmState): GeneralCaches | undefined => o.ext_kmalloc as GeneralCaches | undefined,
  set: (o: MmState, v: GeneralCaches): void => {
    o.ext_kmalloc = v;
  },
};

/** kmem_cache_init(): the general caches of the era, in Linux's creation order; reaping starts. */
export function kmem_cache_init(k: Kernel, mm: MmState, colouring = true, debug = false): void {
  slab_init(k, mm, colouring, debug);
  const g: GeneralCaches = { sizes: mm.era === "2.6" ? SIZES_26 : SIZES_6, normal: [], dma: [], reclaim: [] };
  generals.set(mm, g);
  set_general_cache_lookup(find_general_cachep);
  const make = (name: string, size: number, flags: number, early: boolean): kmem_cache => {
    const align = mm.era === "6" && (size & (size - 1)) === 0 ? Math.max(ARCH_KMALLOC_MINALIGN, size) : ARCH_KMALLOC_MINALIGN;
    return create_cache(k, mm, name, size, align, SLAB_HWCACHE_ALIGN | SLAB_PANIC | flags, null, early)!;
  };
  if (mm.era === "2.6") {
    // INDEX_AC (struct arraycache_init) and INDEX_L3 (struct kmem_list3) first, on-slab.
    const ac = 0;
    const l3 = mm.arch === "i386" ? 1 : 2;
    g.normal[ac] = make("size-32", 32, 0, true);
    g.normal[l3] = make(`size-${g.sizes[l3]}`, g.sizes[l3]!, 0, true);
    g.sizes.forEach((n, i) => {
      g.normal[i] ??= make(`size-${n}`, n, 0, false);
      g.dma[i] = make(`size-${n}(DMA)`, n, SLAB_CACHE_DMA, false);
    });
  } else {
    g.sizes.forEach((n, i) => (g.normal[i] = make(`kmalloc-${short(n)}`, n, 0, false)));
    g.sizes.forEach((n, i) => (g.reclaim[i] = make(`kmalloc-rcl-${short(n)}`, n, SLAB_RECLAIM_ACCOUNT, false)));
    g.sizes.forEach((n, i) => (g.dma[i] = make(`dma-kmalloc-${short(n)}`, n, SLAB_CACHE_DMA, false)));
  }
  start_cache_reap(k, mm);
}

/** __find_general_cachep() / kmalloc_slab(): the cache for `size` bytes and `gfp`, or null. */
function find_general_cachep(mm: MmState, size: number, gfp: gfp_t): kmem_cache | null {
  const g = generals.get(mm);
  if (g === undefined) return null;
  const sizes = g.sizes;
  let i = 0;
  while (i < sizes.length && !(size <= sizes[i]!)) i++;
  if (i === sizes.length) return null;
  if (gfp & __GFP_DMA) return g.dma[i] ?? null;
  if (mm.era === "6" && gfp & __GFP_RECLAIMABLE) return g.reclaim[i] ?? null;
  return g.normal[i] ?? null;
}

/** The general caches of this machine (for /proc/slabinfo order and tests). */
export const general_caches = (mm: MmState): GeneralCaches | undefined => generals.get(mm);

/** 6.1 __kmalloc_large_node(): whole pages from the page allocator, counted as unreclaimable slab. */
function* kmalloc_large(mm: MmState, size: number, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  const order = Math.max(0, Math.ceil(Math.log2(Math.ceil(size / 4096))));
  const p = yield* alloc_pages(gfp | __GFP_COMP, order);
  // kasan_kmalloc_large(): a sleeping mask trims the quarantine; the pages past the request are redzone.
  if (gfpflags_allow_blocking(gfp)) yield* qlist_free_all(kasan_quarantine_reduce(kernel()));
  if (p === null) return 0;
  mm.page_zone(p)!.stat.nr_slab_unreclaimable += 1 << order;
  kasan_kmalloc_large(kernel(), page_address(mm.dm, p), size, order);
  return page_address(mm.dm, p);
}

/** 6.1 kmalloc() of more than KMALLOC_MAX_CACHE_SIZE: kmalloc_large() and its tracepoint. */
const kmalloc_large_traced = gen_fn(function* kmalloc_large_traced(k: Kernel, mm: MmState, size: number, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  if (gfpflags_allow_blocking(gfp)) __might_sleep("mm/slab_common.c", 0, 0);
  const ptr = yield* kmalloc_large(mm, size, gfp);
  trace_kmalloc(k, ptr, size, 4096 << Math.max(0, Math.ceil(Math.log2(Math.ceil(size / 4096)))), gfp, mm.era);
  kmemleak_alloc(k, ptr, size, "kmalloc_large");
  return ptr;
});

/** __kmalloc() from general cache `c` as Effect code (the op continues here off its fast path). */
const kmalloc_slow = (k: Kernel, mm: MmState, c: kmem_cache, size: number, gfp: gfp_t): Effect.Effect<kaddr_t> =>
  Effect.map(with_frame("__kmalloc", __cache_alloc(c, gfp)), (ptr) => kmalloc_done(k, mm, c, ptr, size, gfp));

/** __kmalloc()'s end, after __cache_alloc: KASAN's redzone, the tracepoint, kmemleak. */
function kmalloc_done(k: Kernel, mm: MmState, c: kmem_cache, ptr: kaddr_t, size: number, gfp: gfp_t): kaddr_t {
  kasan_kmalloc(k, c, ptr, size);
  trace_kmalloc(k, ptr, size, c.size, gfp, mm.era);
  kmemleak_alloc(k, ptr, size, "__kmalloc");
  return ptr;
}

/**
 * kmalloc(size, flags) / __kmalloc(): the general cache for the size, then
 * with_frame("__kmalloc", __cache_alloc) -- on the fast path slab_fast.ts's pieces, else the
 * Effect code. Phases: 0 up to local_irq_restore; 1 after its interleaving point (act.x: the
 * cache, act.n: the object).
 */
class Kmalloc extends OpClass {
  constructor(
    readonly size: number,
    readonly gfp: gfp_t,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const mm = mm_of(k);
    const size = this.size;
    const gfp = this.gfp;
    let c: kmem_cache;
    let ptr: kaddr_t;
    if (act.phase === 0) {
      if (!Number.isInteger(size) || size < 0) throw new ScenarioError(`kmalloc(${size}): the size must be a whole number of bytes`);
      if (mm.era === "6" && size > KMALLOC_MAX_CACHE_SIZE_6) {
        act.x = kmalloc_large_traced(k, mm, size, gfp);
        return BECOME;
      }
      if (size === 0) return ZERO_SIZE_PTR;
      const found = find_general_cachep(mm, size, gfp);
      if (found === null) return 0;
      c = found;
      if (!cache_alloc_fast_ok(k, mm, c)) {
        act.x = kmalloc_slow(k, mm, c, size, gfp);
        return BECOME;
      }
      k.this_ctx().frames.push("__kmalloc");
      const r = cache_alloc_fast(k, mm, c, gfp, act);
      if (r === PARK) {
        act.x = c;
        return PARK;
      }
      ptr = r as kaddr_t;
    } else {
      c = act.x as kmem_cache;
      ptr = cache_alloc_post(c, gfp, act.n);
    }
    k.this_ctx().frames.pop();
    return kmalloc_done(k, mm, c, ptr, size, gfp);
  }
}

/**
 * kmalloc(size, flags): `size` bytes from the general caches, or 0 (NULL); kmalloc(0) is
 * ZERO_SIZE_PTR. Context: may sleep if `flags` may (might_sleep in mm/slab.c).
 */
export const kmalloc = (size: number, gfp: gfp_t): Effect.Effect<kaddr_t> => op(new Kmalloc(size, gfp));

/** kzalloc(size, flags): kmalloc with __GFP_ZERO. */
export const kzalloc = (size: number, gfp: gfp_t): Effect.Effect<kaddr_t> => op(new Kmalloc(size, gfp | __GFP_ZERO));

/** kcalloc(n, size, flags): a zeroed array; NULL if n * size overflows an unsigned long. */
export const kcalloc = (n: number, size: number, gfp: gfp_t): Effect.Effect<kaddr_t> =>
  Effect.suspend(() => {
    const ulong_max = mm_of(kernel()).arch === "i386" ? 0xffffffff : 2 ** 64 - 1;
    if (size !== 0 && n > Math.floor(ulong_max / size)) return Effect.succeed(0);
    return kmalloc(n * size, gfp | __GFP_ZERO);
  });

/** virt_to_head_page(): the first page of the allocated block `p` lies in (`p` itself when none covers it). */
function head_page(mm: MmState, p: number): number {
  for (let q = p; q >= 0 && q > p - (1 << (MAX_ORDER - 1)); q--) {
    const order = mm.alloc_order[q]!;
    if (order >= 0) return q + (1 << order) > p ? q : p;
  }
  return p;
}

/** kfree() as Effect code (the op continues here off its fast path). */
const kfree_slow = (obj: kaddr_t): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const mm = mm_of(k);
    trace_kfree(k, obj);
    if (ZERO_OR_NULL_PTR(obj)) return Effect.void;
    kmemleak_free(k, obj);
    if (mm.era === "6") {
      const p = head_page(mm, virt_to_page(mm.dm, obj)); // virt_to_folio()
      if (!mm.mem_map.test(p, PG_slab)) {
        // free_large_kmalloc(): the pages the large kmalloc took; kasan_kfree_large() reports
        // a pointer off the pages' start or already free, and the free goes on (6.1 ignores it).
        if (obj !== page_address(mm.dm, p)) kasan_report_invalid_free(k, obj, "invalid-free", ["kfree", "free_large_kmalloc"], ["__kasan_kfree_large"]);
        else if (!kasan_byte_accessible_at(k, obj)) kasan_report_invalid_free(k, obj, "double-free", ["kfree", "free_large_kmalloc"], ["__kasan_kfree_large"]);
        const order = Math.max(0, mm.alloc_order[p]!);
        if (mm.alloc_order[p]! >= 0) mm.page_zone(p)!.stat.nr_slab_unreclaimable -= 1 << order;
        return __free_pages(p, order);
      }
    }
    return cache_free_object(obj);
  });

/**
 * The cache kfree(obj) puts the object back in on the fast path, or null: a slab object (6.1:
 * its head page is PG_slab, not a large kmalloc's) whose cache takes slab_fast.ts's path.
 */
function kfree_fast_cache(k: Kernel, mm: MmState, obj: kaddr_t): kmem_cache | null {
  if (ZERO_OR_NULL_PTR(obj)) return null;
  const p = direct_map_pfn(mm.dm, obj);
  if (p < 0 || (mm.era === "6" && !mm.mem_map.test(head_page(mm, p), PG_slab))) return null;
  const sp = slab_state(mm).slab_of.get(p);
  return sp !== undefined && cache_free_fast_ok(k, mm, sp.cache) ? sp.cache : null;
}

/**
 * kfree(objp): the tracepoint, kmemleak_free, then (cache_free_object) __cache_free with
 * interrupts off. Phases: 0 up to local_irq_restore; 1 after its interleaving point.
 */
class Kfree extends OpClass {
  constructor(readonly obj: kaddr_t) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase !== 0) return undefined;
    const k = kernel();
    const obj = this.obj;
    const c = kfree_fast_cache(k, mm_of(k), obj);
    if (c === null) {
      act.x = kfree_slow(obj);
      return BECOME;
    }
    trace_kfree(k, obj);
    kmemleak_free(k, obj);
    return cache_free_fast(k, c, obj, act);
  }
}

/** kfree(objp): back to its cache (6.1: a large kmalloc back to the page allocator); NULL and ZERO_SIZE_PTR do nothing. Context: any. */
export const kfree = (obj: kaddr_t): Effect.Effect<void> => op(new Kfree(obj));

/** ksize(objp): the usable size (the object size of its cache; 6.1 large: the pages). */
export const ksize = (obj: kaddr_t): Effect.Effect<number> =>
  Effect.suspend(() => {
    if (obj === 0) throw new ScenarioError("ksize(NULL): BUG_ON(!objp) (ksize takes an object kmalloc returned)");
    if (obj === ZERO_SIZE_PTR) return Effect.succeed(0);
    const k = kernel();
    const mm = mm_of(k);
    // 6.1: kasan_check_byte(), and the whole usable size is unpoisoned for the caller.
    if (!kasan_check_byte(k, obj, "ksize")) return Effect.succeed(0);
    const p = virt_to_page(mm.dm, obj);
    if (mm.era === "6" && !mm.mem_map.test(p, PG_slab)) return Effect.succeed(4096 << Math.max(0, mm.alloc_order[p]!));
    return Effect.map(object_cache(obj), (c) => {
      kasan_unpoison_range(k, obj, c.obj_size);
      return c.obj_size;
    });
  });

/**
 * krealloc(p, new_size, flags): the same object if it is big enough (ksize), else a new one with
 * the old ksize bytes copied and the old one freed; krealloc(p, 0) frees p and returns
 * ZERO_SIZE_PTR; on failure NULL and p is left alone.
 */
export const krealloc = gen_fn(function* krealloc(p: kaddr_t, new_size: number, gfp: gfp_t): Effect.fn.Return<kaddr_t> {
  if (new_size === 0) {
    yield* kfree(p);
    return ZERO_SIZE_PTR;
  }
  const ks = p !== 0 ? yield* ksize(p) : 0;
  if (ks >= new_size) return p;
  const ret = yield* kmalloc(new_size, gfp);
  if (ret !== 0 && p !== 0 && ks > 0) memcpy(ret, p, ks);
  if (ret !== 0 && p !== ret) yield* kfree(p);
  return ret;
});
