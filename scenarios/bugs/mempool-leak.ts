// A mempool element leaked on an error path: each request takes an element from a mempool and a
// small header with kmalloc(GFP_ATOMIC); when the header allocation fails (rare: failslab injects
// 3 % of the slab allocations that cannot sleep here), the error path returns without
// mempool_free. At the end every element the pool's allocator handed out must be back in the
// pool or freed; a leaked one is neither. Fixed: the error path frees the element.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_ATOMIC, GFP_NOIO, kfree, kmalloc, kthread_run, mempool_alloc, mempool_create, mempool_curr_nr, mempool_free, mempool_kfree, mempool_kmalloc, udelay, type mempool_t } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

const MIN = 4;

export default bug_pair("bug-mempool-leak", "a mempool element not returned on an error path", "expectation", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the error path returns the element: the pool is full again at the end" : "the error path after a failed GFP_ATOMIC allocation forgets mempool_free: the pool leaks on some seeds",
    machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 32 }, fault_injection: { failslab: { probability: 3, times: -1, verbose: 0 } } },
    setup() {
      const st: { pool: mempool_t | null; errors: number; outstanding: number } = { pool: null, errors: 0, outstanding: 0 };
      kthread_run(
        () =>
          Effect.gen(function* () {
            // The pool's allocator counts the elements it hands out and gets back.
            const pool = (yield* mempool_create(
              MIN,
              (gfp, data) => Effect.map(mempool_kmalloc(gfp, data), (e) => (e !== null && st.outstanding++, e)),
              (e, data) => Effect.map(mempool_kfree(e, data), () => void st.outstanding--),
              512,
            ))!;
            st.pool = pool;
            for (let i = 0; i < 30; i++) {
              yield* udelay(20);
              const req = yield* mempool_alloc(pool, GFP_NOIO);
              const hdr = yield* kmalloc(64, GFP_ATOMIC);
              if (hdr === 0) {
                st.errors++;
                if (fixed) yield* mempool_free(req, pool);
                continue; // -ENOMEM
              }
              yield* udelay(5);
              yield* kfree(hdr);
              yield* mempool_free(req, pool);
            }
          }),
        null,
        "submit",
      );
      return st;
    },
    check(st, expect) {
      // What the allocator handed out and did not get back is in the pool, or leaked.
      expect.equal(st.outstanding, st.pool === null ? -1 : mempool_curr_nr(st.pool), `elements outstanding (in the pool: the rest leaked) after ${st.errors} failed requests`);
    },
  }),
);
