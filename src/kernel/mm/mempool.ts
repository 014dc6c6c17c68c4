// mm/mempool.c (2.6.34; 4.19's, which 6.1 keeps, with kernel "6"): a reserve of min_nr
// elements for allocations that must make progress under memory pressure.
// - mempool_create pre-fills the reserve with alloc_fn(GFP_KERNEL); a failure frees it all and
//   returns null.
// - mempool_alloc: might_sleep_if the mask may sleep; the mask gains __GFP_NOMEMALLOC |
//   __GFP_NORETRY | __GFP_NOWARN; the backing allocator is tried first without direct reclaim
//   or IO, then the reserve (LIFO, under pool->lock). Empty: a mask that cannot sleep gets NULL;
//   otherwise 4.19 retries at once with the full mask, then sleeps uninterruptibly on pool->wait
//   (io_schedule_timeout(5 * HZ)) and starts again; 2.6.34 queues on pool->wait first and
//   sleeps (unless an element came back meanwhile) before its first try with the full mask.
// - mempool_free: while the reserve is below min_nr any element refills it and a waiter is
//   woken; otherwise free_fn.
// - mempool_resize, mempool_destroy (2.6.34 BUGs on elements still out; 4.19 frees what it holds).
// The pool and its element array are not allocated in simulated memory. Not modelled: element
// poisoning (CONFIG_DEBUG_SLAB), KASAN, kmemleak, iowait accounting.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { BUG } from "../api_misc.ts";
import { __might_sleep } from "../sched/core.ts";
import { TASK_UNINTERRUPTIBLE } from "../sched/task.ts";
import { DEFINE_WAIT, finish_wait, init_waitqueue_head, prepare_to_wait, wake_up, type wait_queue_head_t } from "../sched/wait.ts";
import { spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore, type spinlock_t } from "../locking/spinlock.ts";
import { schedule_timeout } from "../time/sleep.ts";
import { GFP_KERNEL, __GFP_DIRECT_RECLAIM, __GFP_IO, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, gfpflags_allow_blocking, type gfp_t } from "./gfp.ts";
import { __free_pages, alloc_pages, mm_of } from "./page_alloc.ts";
import { kfree, kmalloc } from "./kmalloc.ts";
import { kmem_cache_alloc, kmem_cache_free, type kmem_cache } from "./slab.ts";
import { gen_fn } from "../gen_fn.ts";

/** An element (an object's address or a page), or null for NULL. */
export type mempool_alloc_t = (gfp: gfp_t, pool_data: unknown) => Effect.Effect<number | null>;
export type mempool_free_t = (element: number, pool_data: unknown) => Effect.Effect<void>;

/** mempool_t. */
export interface mempool_t {
  readonly lock: spinlock_t;
  min_nr: number;
  /** The reserve, a LIFO stack: elements[curr_nr - 1] goes first. */
  readonly elements: number[];
  readonly pool_data: unknown;
  readonly alloc: mempool_alloc_t;
  readonly free: mempool_free_t;
  readonly wait: wait_queue_head_t;
}

const curr_nr = (pool: mempool_t): number => pool.elements.length;

/** free_pool() / mempool_exit(): remove_element() and free_fn until the reserve is empty. */
function* free_reserve(pool: mempool_t): Effect.fn.Return<void> {
  while (pool.elements.length > 0) yield* pool.free(pool.elements.pop()!, pool.pool_data);
}

/** mempool_create(min_nr, alloc_fn, free_fn, pool_data): the pool, pre-filled, or null. Context: may sleep. */
export const mempool_create = gen_fn(function* mempool_create(min_nr: number, alloc_fn: mempool_alloc_t, free_fn: mempool_free_t, pool_data: unknown): Effect.fn.Return<mempool_t | null> {
  if (!Number.isInteger(min_nr) || min_nr < 1) throw new Error(`mempool_create(${min_nr}, ...): min_nr is a positive number of elements`);
  const pool: mempool_t = { lock: spin_lock_init("&pool->lock"), min_nr, elements: [], pool_data, alloc: alloc_fn, free: free_fn, wait: init_waitqueue_head("&pool->wait") };
  while (curr_nr(pool) < pool.min_nr) {
    const element = yield* pool.alloc(GFP_KERNEL, pool.pool_data);
    if (element === null) {
      yield* free_reserve(pool);
      return null;
    }
    pool.elements.push(element);
  }
  return pool;
});

/** mempool_alloc(pool, gfp_mask): an element, or null (only for a mask that cannot sleep). Context: may sleep if the mask may. */
export const mempool_alloc = gen_fn(function* mempool_alloc(pool: mempool_t, gfp_mask: gfp_t): Effect.fn.Return<number | null> {
  const era = mm_of(kernel()).era;
  // might_sleep_if(): line 209 of 2.6.34's mm/mempool.c (4.19/6.1: line not known here).
  if (gfpflags_allow_blocking(gfp_mask)) __might_sleep("mm/mempool.c", era === "2.6" ? 209 : 0, 0);
  gfp_mask |= __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN;
  let gfp_temp = gfp_mask & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);
  for (;;) {
    const element = yield* pool.alloc(gfp_temp, pool.pool_data);
    if (element !== null) return element;
    const flags = yield* spin_lock_irqsave(pool.lock);
    if (curr_nr(pool) > 0) {
      const e = pool.elements.pop()!; // remove_element
      yield* spin_unlock_irqrestore(pool.lock, flags);
      return e;
    }
    if (era === "6" && gfp_temp !== gfp_mask) {
      // 4.19: the pool is empty and the first try could not reclaim: retry at once with it all.
      yield* spin_unlock_irqrestore(pool.lock, flags);
      gfp_temp = gfp_mask;
      continue;
    }
    if (era === "2.6") yield* spin_unlock_irqrestore(pool.lock, flags);
    if (!gfpflags_allow_blocking(gfp_mask)) {
      if (era === "6") yield* spin_unlock_irqrestore(pool.lock, flags);
      return null;
    }
    gfp_temp = gfp_mask;
    const wait = DEFINE_WAIT();
    prepare_to_wait(pool.wait, wait, TASK_UNINTERRUPTIBLE);
    if (era === "6") yield* spin_unlock_irqrestore(pool.lock, flags);
    // io_schedule_timeout(5*HZ); 2.6.34 skips the sleep if an element came back meanwhile.
    if (era === "6" || curr_nr(pool) === 0) yield* schedule_timeout(5 * kernel().config.hz);
    finish_wait(pool.wait, wait);
  }
});

/** mempool_free(element, pool): refills the reserve (and wakes a waiter) while it is short, else free_fn. Context: any. */
export const mempool_free = gen_fn(function* mempool_free(element: number | null, pool: mempool_t): Effect.fn.Return<void> {
  if (element === null) return;
  if (curr_nr(pool) < pool.min_nr) {
    const flags = yield* spin_lock_irqsave(pool.lock);
    if (curr_nr(pool) < pool.min_nr) {
      pool.elements.push(element); // add_element
      yield* spin_unlock_irqrestore(pool.lock, flags);
      wake_up(pool.wait);
      return;
    }
    yield* spin_unlock_irqrestore(pool.lock, flags);
  }
  yield* pool.free(element, pool.pool_data);
});

/**
 * mempool_resize(pool, new_min_nr): shrinking frees reserve elements above it; growing fills the
 * reserve with alloc_fn(GFP_KERNEL) outside the lock, and returns 0 even if that falls short
 * (later frees top it up). Context: may sleep.
 */
export const mempool_resize = gen_fn(function* mempool_resize(pool: mempool_t, new_min_nr: number): Effect.fn.Return<number> {
  if (!Number.isInteger(new_min_nr) || new_min_nr <= 0) return yield* BUG("mm/mempool.c:120");
  if (mm_of(kernel()).era === "6") __might_sleep("mm/mempool.c", 0, 0);
  let flags = yield* spin_lock_irqsave(pool.lock);
  if (new_min_nr <= pool.min_nr) {
    while (new_min_nr < curr_nr(pool)) {
      const e = pool.elements.pop()!;
      yield* spin_unlock_irqrestore(pool.lock, flags);
      yield* pool.free(e, pool.pool_data);
      flags = yield* spin_lock_irqsave(pool.lock);
    }
    pool.min_nr = new_min_nr;
    yield* spin_unlock_irqrestore(pool.lock, flags);
    return 0;
  }
  pool.min_nr = new_min_nr;
  while (curr_nr(pool) < pool.min_nr) {
    yield* spin_unlock_irqrestore(pool.lock, flags);
    const e = yield* pool.alloc(GFP_KERNEL, pool.pool_data);
    if (e === null) return 0;
    flags = yield* spin_lock_irqsave(pool.lock);
    if (curr_nr(pool) < pool.min_nr) pool.elements.push(e);
    else {
      yield* spin_unlock_irqrestore(pool.lock, flags);
      yield* pool.free(e, pool.pool_data); // raced
      return 0;
    }
  }
  yield* spin_unlock_irqrestore(pool.lock, flags);
  return 0;
});

/** mempool_destroy(pool): frees the reserve. 2.6.34: a kernel BUG if elements are still out. */
export const mempool_destroy = gen_fn(function* mempool_destroy(pool: mempool_t | null): Effect.fn.Return<void> {
  if (pool === null) return;
  if (mm_of(kernel()).era === "2.6" && curr_nr(pool) !== pool.min_nr) return yield* BUG("mm/mempool.c:186");
  yield* free_reserve(pool);
});

/** mempool_alloc_slab(gfp_mask, pool_data): an object from the kmem_cache `pool_data` (kmem_cache_alloc), or null. Context: as kmem_cache_alloc with the mask. */
export const mempool_alloc_slab: mempool_alloc_t = (gfp, data) => Effect.map(kmem_cache_alloc(data as kmem_cache, gfp), (o) => (o === 0 ? null : o));
/** mempool_free_slab(element, pool_data): kmem_cache_free(pool_data, element). Context: any; never sleeps. */
export const mempool_free_slab: mempool_free_t = (e, data) => kmem_cache_free(data as kmem_cache, e);
/** mempool_kmalloc(gfp_mask, pool_data): kmalloc(pool_data bytes, gfp_mask), or null. Context: as kmalloc with the mask. */
export const mempool_kmalloc: mempool_alloc_t = (gfp, data) => Effect.map(kmalloc(data as number, gfp), (o) => (o === 0 ? null : o));
/** mempool_kfree(element, pool_data): kfree(element). Context: any; never sleeps. */
export const mempool_kfree: mempool_free_t = (e) => kfree(e);
/** mempool_alloc_pages(gfp_mask, pool_data): alloc_pages(gfp_mask, pool_data as the order); the element is the page, or null. Context: as alloc_pages with the mask. */
export const mempool_alloc_pages: mempool_alloc_t = (gfp, data) => alloc_pages(gfp, data as number);
/** mempool_free_pages(element, pool_data): __free_pages(element, pool_data as the order). Context: any; never sleeps. */
export const mempool_free_pages: mempool_free_t = (e, data) => __free_pages(e, data as number);

/**
 * mempool_create_slab_pool(min_nr, kc): a pool of `min_nr` objects reserved from cache `kc`
 * (mempool_alloc_slab / mempool_free_slab), or null. Context: process; may sleep.
 */
export const mempool_create_slab_pool = (min_nr: number, kc: kmem_cache): Effect.Effect<mempool_t | null> => mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab, kc);
/**
 * mempool_create_kmalloc_pool(min_nr, size): a pool of `min_nr` reserved kmalloc(size) buffers
 * (mempool_kmalloc / mempool_kfree), or null. Context: process; may sleep.
 */
export const mempool_create_kmalloc_pool = (min_nr: number, size: number): Effect.Effect<mempool_t | null> => mempool_create(min_nr, mempool_kmalloc, mempool_kfree, size);
/**
 * mempool_create_page_pool(min_nr, order): a pool of `min_nr` reserved blocks of 2^order pages
 * (mempool_alloc_pages / mempool_free_pages; the elements are pages), or null. Context: process;
 * may sleep.
 */
export const mempool_create_page_pool = (min_nr: number, order: number): Effect.Effect<mempool_t | null> => mempool_create(min_nr, mempool_alloc_pages, mempool_free_pages, order);

/** The reserve's current size (pool->curr_nr). */
export const mempool_curr_nr = curr_nr;
