// mm/slab.c's fast paths as ops (src/sim/op.ts): kmem_cache_alloc() when this CPU's array cache
// has an object, kmem_cache_free() when it has room, and the pieces kmalloc() and kfree()
// (kmalloc.ts) build their ops from. Each does what the Effect code in slab.ts does, step for step
// (the same charges, trace events, with_frame frames and interleaving point: local_irq_restore's,
// when it turns interrupts back on), with no generator or closure per call; the rules themselves
// (failslab and might_sleep, the array's hit and push) are slab.ts's plain functions, called by
// both. Anything else -- a refill or flush, a destroyed cache, CONFIG_DEBUG_SLAB, KASAN -- is
// decided before the op does anything, and the op becomes (BECOME) the Effect code. What it
// leaves out of Linux is slab.ts's list.
import type * as Effect from "effect/Effect";
import { BECOME, OpClass, PARK, op, type Activation } from "../../sim/op.ts";
import { kernel, type Kernel } from "../kernel.ts";
import { irq_restore_op, local_irq_save } from "../irqflags.ts";
import { __GFP_ZERO, type gfp_t } from "./gfp.ts";
import type { MmState } from "./mm_state.ts";
import { mm_of } from "./page_alloc.ts";
import type { kaddr_t } from "./page.ts";
import { memset } from "./access.ts";
import { kmemleak_free } from "./kmemleak.ts";
import { kasan_enabled } from "./kasan.ts";
import {
  cache_alloc_hit,
  cache_alloc_precheck,
  cache_free_hit,
  cpu_cache_get,
  kmem_cache_alloc_done,
  kmem_cache_alloc_slow,
  kmem_cache_free_slow,
  slab_state,
  type kmem_cache,
} from "./slab.ts";
import { trace_kmem_cache_free } from "./trace.ts";

/** The fast paths are taken when they apply (tests turn them off to run the same calls through the Effect code and compare). */
export const slab_fast_paths = { enabled: true };

/**
 * __cache_alloc() can take the fast path: a live cache, no DEBUG or KASAN, and an object on
 * this CPU's array (nothing before ____cache_alloc changes the array).
 */
export function cache_alloc_fast_ok(k: Kernel, mm: MmState, c: kmem_cache): boolean {
  return slab_fast_paths.enabled && !c.dead && cpu_cache_get(k, c).avail > 0 && !slab_state(mm).debug && !kasan_enabled(k);
}

/** __cache_free() can take the fast path: no KASAN or DEBUG, and room on this CPU's array. */
export function cache_free_fast_ok(k: Kernel, mm: MmState, c: kmem_cache): boolean {
  const ac = cpu_cache_get(k, c);
  return slab_fast_paths.enabled && ac.avail < ac.limit && !slab_state(mm).debug && !kasan_enabled(k);
}

/**
 * __cache_alloc() on the fast path (cache_alloc_fast_ok), from its start to local_irq_restore:
 * the object, or PARK when restoring turned interrupts on (the object in act.n; the caller's
 * phase 1 goes on with cache_alloc_post). 0 when failslab fails the allocation.
 */
export function cache_alloc_fast(k: Kernel, mm: MmState, c: kmem_cache, gfp: gfp_t, act: Activation): unknown {
  if (cache_alloc_precheck(k, mm, c, gfp)) return 0;
  const flags = local_irq_save();
  const obj = cache_alloc_hit(k, c, cpu_cache_get(k, c));
  if (irq_restore_op(flags)) {
    act.n = obj;
    act.phase = 1;
    return PARK;
  }
  return cache_alloc_post(c, gfp, obj);
}

/** __cache_alloc()'s end with KASAN off (the fast path's condition): slab_post_alloc_hook()'s __GFP_ZERO. */
export function cache_alloc_post(c: kmem_cache, gfp: gfp_t, obj: kaddr_t): kaddr_t {
  if (obj !== 0 && gfp & __GFP_ZERO) memset(obj, 0, c.obj_size);
  return obj;
}

/**
 * __cache_free() on the fast path (cache_free_fast_ok), with local_irq_save/restore around it:
 * undefined, or PARK when restoring turned interrupts on (phase 1 next).
 */
export function cache_free_fast(k: Kernel, c: kmem_cache, obj: kaddr_t, act: Activation): unknown {
  const flags = local_irq_save();
  cache_free_hit(k, c, cpu_cache_get(k, c), obj);
  if (irq_restore_op(flags)) {
    act.phase = 1;
    return PARK;
  }
  return undefined;
}

/**
 * kmem_cache_alloc(cachep, flags): with_frame("kmem_cache_alloc", __cache_alloc), then the
 * tracepoint. Phases: 0 up to local_irq_restore; 1 after its interleaving point.
 */
class KmemCacheAlloc extends OpClass {
  constructor(
    readonly c: kmem_cache,
    readonly gfp: gfp_t,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const c = this.c;
    let obj: kaddr_t;
    if (act.phase === 0) {
      const mm = mm_of(k);
      if (!cache_alloc_fast_ok(k, mm, c)) {
        act.x = kmem_cache_alloc_slow(c, this.gfp);
        return BECOME;
      }
      k.this_ctx().frames.push("kmem_cache_alloc");
      const r = cache_alloc_fast(k, mm, c, this.gfp, act);
      if (r === PARK) return PARK;
      obj = r as kaddr_t;
    } else obj = cache_alloc_post(c, this.gfp, act.n);
    k.this_ctx().frames.pop();
    return kmem_cache_alloc_done(k, c, obj);
  }
}

/**
 * kmem_cache_free(cachep, objp): kmemleak_free, __cache_free with interrupts off, then the
 * tracepoint. Phases: 0 up to local_irq_restore; 1 after its interleaving point.
 */
class KmemCacheFree extends OpClass {
  constructor(
    readonly c: kmem_cache,
    readonly obj: kaddr_t,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    if (act.phase === 0) {
      if (!cache_free_fast_ok(k, mm_of(k), this.c)) {
        act.x = kmem_cache_free_slow(this.c, this.obj);
        return BECOME;
      }
      kmemleak_free(k, this.obj);
      if (cache_free_fast(k, this.c, this.obj, act) === PARK) return PARK;
    }
    trace_kmem_cache_free(k, this.obj);
    return undefined;
  }
}

/** kmem_cache_alloc(cachep, flags): an object, or 0 (NULL). Context: may sleep if `flags` may. */
export const kmem_cache_alloc = (c: kmem_cache, gfp: gfp_t): Effect.Effect<kaddr_t> => op(new KmemCacheAlloc(c, gfp));

/** kmem_cache_zalloc(): kmem_cache_alloc with __GFP_ZERO. */
export const kmem_cache_zalloc = (c: kmem_cache, gfp: gfp_t): Effect.Effect<kaddr_t> => op(new KmemCacheAlloc(c, gfp | __GFP_ZERO));

/** kmem_cache_free(cachep, objp). Context: any; never sleeps. */
export const kmem_cache_free = (c: kmem_cache, obj: kaddr_t): Effect.Effect<void> => op(new KmemCacheFree(c, obj));
