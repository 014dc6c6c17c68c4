// mm/slab.c's draining and shrinking (2.6.34): drain_array() and drain_freelist() (for the reaper
// and for shrinking), kmem_cache_shrink() (every CPU's array by IPI, the shared arrays, every
// free slab) and kmem_cache_destroy() ("Can't free all objects" when objects remain).
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { BUG } from "../api_misc.ts";
import { spin_lock, spin_unlock } from "../locking/spinlock.ts";
import { mutex_lock, mutex_unlock } from "../locking/mutex.ts";
import { in_interrupt } from "../sched/core.ts";
import { on_each_cpu } from "../smp.ts";
import { kasan_quarantine_remove_cache } from "./kasan.ts";
import type { MmState } from "./mm_state.ts";
import { mm_of } from "./page_alloc.ts";
import { cpu_cache_get, free_block_locked, move_slab, node_of, qlist_free_all, slab_destroy, slab_error, slab_state, type array_cache, type kmem_cache, type kmem_list3 } from "./slab.ts";
import { gen_fn } from "../gen_fn.ts";

/** drain_array(): hand back objects from an array not touched since the last pass (all with `force`). */
export const drain_array = (k: Kernel, mm: MmState, c: kmem_cache, l3: kmem_list3, ac: array_cache | null, force: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (ac === null || ac.avail === 0) return Effect.void;
    if (ac.touched && !force) {
      ac.touched = false;
      return Effect.void;
    }
    return free_block_locked(k, mm, c, l3, () => {
      let tofree = force ? ac.avail : Math.floor((ac.limit + 4) / 5);
      if (tofree > ac.avail) tofree = Math.floor((ac.avail + 1) / 2);
      ac.avail -= tofree;
      return ac.entry.splice(0, tofree);
    });
  });

/** drain_freelist(): destroys up to `tofree` free slabs, oldest first. Returns how many. */
export function* drain_freelist(k: Kernel, mm: MmState, c: kmem_cache, l3: kmem_list3, tofree: number): Effect.fn.Return<number> {
  let n = 0;
  while (n < tofree) {
    yield* spin_lock(l3.list_lock);
    const sp = l3.slabs_free[l3.slabs_free.length - 1];
    if (sp === undefined) {
      yield* spin_unlock(l3.list_lock);
      break;
    }
    move_slab(l3, sp, null);
    l3.free_objects -= c.num;
    yield* spin_unlock(l3.list_lock);
    yield* slab_destroy(k, mm, c, sp);
    n++;
  }
  return n;
}

/** do_drain(): this CPU's array back into the slabs (on_each_cpu's function; interrupts off). */
const do_drain = (info: unknown): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    const mm = mm_of(k);
    const c = info as kmem_cache;
    const ac = cpu_cache_get(k, c);
    return free_block_locked(k, mm, c, c.nodelists[node_of(k, mm)]!, () => {
      const objs = ac.entry.splice(0, ac.avail);
      ac.avail = 0;
      return objs;
    });
  });

/** __cache_shrink(): every CPU's array (do_drain, by IPI), the shared arrays, every free slab. 1 if objects remain. */
function* __cache_shrink(k: Kernel, mm: MmState, c: kmem_cache): Effect.fn.Return<number> {
  yield* on_each_cpu(do_drain, c, true);
  let ret = 0;
  for (const l3 of c.nodelists) {
    yield* drain_array(k, mm, c, l3, l3.shared, true);
    yield* drain_freelist(k, mm, c, l3, l3.free_objects);
    if (l3.slabs_full.length > 0 || l3.slabs_partial.length > 0) ret = 1;
  }
  return ret;
}

/** kmem_cache_shrink(cachep): frees every free slab; 0 if the cache is now empty. Context: process (BUG in interrupt). */
export const kmem_cache_shrink = gen_fn(function* kmem_cache_shrink(c: kmem_cache): Effect.fn.Return<number> {
  const k = kernel();
  if (in_interrupt()) return yield* BUG("mm/slab.c: kmem_cache_shrink(): BUG_ON(!cachep || in_interrupt())");
  const mm = mm_of(k);
  const s = slab_state(mm);
  yield* mutex_lock(s.cache_chain_mutex);
  const ret = yield* __cache_shrink(k, mm, c);
  yield* mutex_unlock(s.cache_chain_mutex);
  return ret;
});

/**
 * kmem_cache_destroy(cachep): shrinks the cache and removes it; if objects remain it reports
 * "Can't free all objects" and the cache stays, back at the head of the chain. Context: process.
 */
export const kmem_cache_destroy = gen_fn(function* kmem_cache_destroy(c: kmem_cache): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  if (in_interrupt()) return yield* BUG("mm/slab.c: kmem_cache_destroy(): BUG_ON(!cachep || in_interrupt())");
  const s = slab_state(mm);
  yield* mutex_lock(s.cache_chain_mutex);
  const chain = s.cache_chain;
  chain.splice(chain.indexOf(c), 1);
  yield* qlist_free_all(kasan_quarantine_remove_cache(k, c)); // kasan_cache_shutdown()
  if (yield* __cache_shrink(k, mm, c)) {
    slab_error(k, "kmem_cache_destroy", c, "Can't free all objects");
    chain.unshift(c);
  } else c.dead = true;
  yield* mutex_unlock(s.cache_chain_mutex);
});
