// A block-IO-like path under total memory exhaustion (32 MiB i386, kernel 2.6, 2 CPUs). A
// "writer" on CPU1 allocates a 128-byte request ("bio", from its own slab cache) with GFP_NOIO,
// submits it to disk "sdb" and waits for it; the disk's interrupt, on CPU0, completes it and
// frees the request there. After 10 ms a kernel thread takes every page it can (GFP_ATOMIC until
// NULL): nothing is left above the min watermark, and nothing is reclaimable (no page cache, no
// swap).
// - mempool-io: requests come from mempool_alloc(pool, GFP_NOIO) over a 4-element reserve. When
//   the cache needs a new slab and no page can be had, the reserve serves; each completion's
//   mempool_free refills it: the IO goes on at the disk's pace.
// - mempool-io-nopool: plain kmem_cache_alloc(GFP_NOIO). The writer's CPU holds the 30 objects of
//   the cache's first slab (its array, then the slab); the frees land in CPU0's array, which CPU1
//   never takes from. The 31st request needs a new slab: GFP_NOIO may not start IO and there is
//   nothing to reclaim, so the allocator loops in reclaim and congestion_wait, and the path stalls.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  GFP_ATOMIC, GFP_NOIO, IRQ_HANDLED, SLAB_HWCACHE_ALIGN, SLAB_PANIC, __GFP_NOWARN, alloc_page, complete, disk, init_completion, kmem_cache_alloc, kmem_cache_create, kmem_cache_free, kthread_run, mempool_alloc, mempool_create_slab_pool, mempool_free, msleep, printk, request_irq, wait_for_completion,
  type completion, type kmem_cache, type mempool_t,
} from "../../src/kernel/index.ts";

interface State {
  done: number;
  hog_pages: number;
  /** The IO path's cache and pool (kmemleak's handle on the reserve). */
  readonly io: { cache: kmem_cache | null; pool: mempool_t | null; waiting: completion | null };
}

function mempool_io(name: string, use_pool: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: use_pool ? "an IO path keeps going under memory exhaustion: its requests come from a mempool" : "the same IO path with plain kmem_cache_alloc(GFP_NOIO): it stalls once it needs a new slab",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 }, disks: [{ name: "sdb", irq: 15, minNs: 900_000, maxNs: 1_100_000, cpus: [0] }] },
    duration_ms: 200,
    setup() {
      const st: State = { done: 0, hog_pages: 0, io: { cache: null, pool: null, waiting: null } };
      const io = st.io;
      function* sdb_interrupt(_irq: number, _dev: unknown) {
        for (const bio of disk("sdb").reap()) {
          // bio_endio(): the request goes back where it came from.
          if (use_pool) yield* mempool_free(bio, io.pool!);
          else yield* kmem_cache_free(io.cache!, bio);
          st.done++;
          if (io.waiting !== null) complete(io.waiting);
        }
        return IRQ_HANDLED;
      }
      request_irq(15, sdb_interrupt, 0, "sdb", null);
      kthread_run(
        function writer() {
          return Effect.gen(function* () {
            io.cache = (yield* kmem_cache_create("bio", 128, 0, SLAB_HWCACHE_ALIGN | SLAB_PANIC))!;
            if (use_pool) io.pool = yield* mempool_create_slab_pool(4, io.cache);
            for (;;) {
              const bio = use_pool ? yield* mempool_alloc(io.pool!, GFP_NOIO) : yield* kmem_cache_alloc(io.cache, GFP_NOIO);
              if (bio === null || bio === 0) break;
              io.waiting = init_completion();
              disk("sdb").submit(bio);
              yield* wait_for_completion(io.waiting);
            }
          });
        },
        null,
        "writer",
        { cpus: [1] },
      );
      kthread_run(
        function hog() {
          return Effect.gen(function* () {
            yield* msleep(10);
            while ((yield* alloc_page(GFP_ATOMIC | __GFP_NOWARN)) !== null) st.hog_pages++;
            printk(`hog: took ${st.hog_pages} pages; the IO path has done ${st.done} requests`);
          });
        },
        null,
        "hog",
        { cpus: [0] },
      );
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.done} requests done in 200 ms`);
      // A request takes 0.9 to 1.1 ms: some 180 in 200 ms when nothing stops the path.
      if (use_pool) expect.that(st.done >= 150, `the mempool path did only ${st.done} requests`);
      else expect.equal(st.done, 30, "requests before the path stalled (the objects of one slab)");
    },
  });
}

export const mempoolIo = mempool_io("mempool-io", true);
export const mempoolIoNopool = mempool_io("mempool-io-nopool", false);
