// mempool on both eras with a backing allocator the test switches off, so each step of
// mempool_alloc is seen: the masks it tries, the LIFO reserve, the wait on pool->wait, the wake
// from mempool_free, the 5 s timeout, and GFP_ATOMIC's NULL.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { gfp_value, type gfp_t } from "../../../src/kernel/mm/gfp.ts";
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_NOIO, jiffies, kthread_run, mempool_alloc, mempool_create, mempool_curr_nr, mempool_destroy, mempool_free, mempool_resize, msleep, type mempool_t,
} from "../../../src/kernel/index.ts";

const M = (kernel: "2.6" | "6") => ({ cpus: 2, memory: { arch: "i386", kernel, mb: 64 } }) as const;

/** A backing allocator handing out 1000, 1001, ... while `on`, recording the masks it is asked with (Linux values). */
function backing() {
  const st = { on: true, next: 1000, masks: [] as string[], freed: [] as number[] };
  const alloc = (gfp: gfp_t) =>
    Effect.sync(() => {
      st.masks.push(`${jiffies()}:0x${gfp_value(gfp, kernel().mm!.era).toString(16)}`);
      return st.on ? st.next++ : null;
    });
  const free = (e: number) => Effect.sync(() => void st.freed.push(e));
  return { st, alloc, free };
}

for (const era of ["2.6", "6"] as const) {
  test(`${era}: pre-fill with GFP_KERNEL; the backing allocator first without reclaim or IO, then the LIFO reserve`, () => {
    const out: unknown[] = [];
    const b = backing();
    run(
      inline(
        () =>
          void kthread_run(
            () =>
              Effect.gen(function* () {
                const pool = (yield* mempool_create(2, b.alloc, b.free, null))!;
                out.push(yield* mempool_alloc(pool, GFP_NOIO)); // backing works: 1002
                b.st.on = false;
                out.push(yield* mempool_alloc(pool, GFP_NOIO), yield* mempool_alloc(pool, GFP_NOIO), mempool_curr_nr(pool));
                out.push(yield* mempool_alloc(pool, GFP_ATOMIC)); // empty, cannot sleep: NULL
                yield* mempool_free(1002, pool); // short: refills the reserve
                yield* mempool_free(1000, pool);
                yield* mempool_free(1001, pool); // full: back to free_fn
                out.push(mempool_curr_nr(pool), b.st.freed);
              }),
            null,
            "t",
          ),
        M(era),
      ),
    );
    // GFP_NOIO plus __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN, less __GFP_WAIT / __GFP_IO:
    // 2.6.34: 0x10 -> 0x11200 (NOMEMALLOC 0x10000, NORETRY 0x1000, NOWARN 0x200);
    // 6.x: 0xc00 less DIRECT_RECLAIM 0x400 -> 0x800 | 0x80000 | 0x10000 | 0x2000 = 0x92800.
    const temp = era === "2.6" ? "0x11200" : "0x92800";
    const full_atomic = era === "2.6" ? "0x11220" : "0x92820"; // GFP_ATOMIC keeps its bits: nothing to take off
    assert.equal(out, [1002, 1001, 1000, 0, null, 2, [1001]]);
    const kern = era === "2.6" ? "0xd0" : "0xcc0";
    assert.equal(b.st.masks.map((m) => m.split(":")[1]), [kern, kern, temp, temp, temp, full_atomic]);
  });
}

for (const era of ["2.6", "6"] as const) {
  test(`${era}: an empty reserve: the sleeper waits on pool->wait until mempool_free wakes it, or 5 s`, () => {
    const b = backing();
    const out: string[] = [];
    run(
      inline(() => {
        const st: { pool: mempool_t | null } = { pool: null };
        kthread_run(
          () =>
            Effect.gen(function* () {
              st.pool = (yield* mempool_create(1, b.alloc, b.free, null))!;
              b.st.on = false;
              const e = yield* mempool_alloc(st.pool, GFP_NOIO); // the reserve's 1000
              const f = yield* mempool_alloc(st.pool, GFP_NOIO); // waits until the freer gives 1000 back
              out.push(`got ${e} ${f} at ${jiffies()}`);
              const g = yield* mempool_alloc(st.pool, GFP_NOIO); // nobody frees: 5 s timeouts until the backing returns
              out.push(`got ${g} at ${jiffies()}`);
            }),
          null,
          "sleeper",
          { cpus: [0] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              yield* msleep(100);
              yield* mempool_free(1000, st.pool!);
              yield* msleep(12000);
              b.st.on = true;
            }),
          null,
          "freer",
          { cpus: [1] },
        );
      }, M(era)),
    );
    // HZ 250: the free at 100 ms is jiffy 25; 12 s later (jiffy 3025) the backing works again. The
    // third alloc sleeps 5 s (1250 jiffies) at a time: it tries at 25(+), 1275+, 2525+, then 3775+.
    assert.equal(out.length, 2);
    assert.match(out[0]!, /^got 1000 1000 at 2[5-6]$/);
    const at = Number(/at (\d+)$/.exec(out[1]!)![1]);
    assert.ok(at >= 3775 && at < 3790, out[1]);
    assert.match(out[1]!, /^got 1001 /);
    // The masks tried after the pre-fill: 2.6.34 sleeps first and then tries with the full mask
    // (0x11210, __GFP_WAIT back); 4.19 retries at once with it (0x92c00) before each sleep.
    const masks = b.st.masks.map((m) => m.split(":")[1]).slice(1);
    const [t, f] = era === "2.6" ? ["0x11200", "0x11210"] : ["0x92800", "0x92c00"];
    assert.equal(masks, era === "2.6" ? [t, t, f, t, f, f, f] : [t, t, f, f, t, f, f, f, f]);
  });
}

test("2.6.34: destroying a pool with elements out is a kernel BUG; 4.19/6.1 frees what it holds", () => {
  for (const era of ["2.6", "6"] as const) {
    const b = backing();
    const r = run(
      inline(
        () =>
          void kthread_run(
            () =>
              Effect.gen(function* () {
                const pool = (yield* mempool_create(2, b.alloc, b.free, null))!;
                yield* mempool_resize(pool, 3); // grows with GFP_KERNEL: 1002
                b.st.on = false;
                yield* mempool_alloc(pool, GFP_KERNEL);
                yield* mempool_destroy(pool);
              }),
            null,
            "t",
          ),
        M(era),
      ),
    );
    if (era === "2.6") assert.equal(r.reports.map((x) => x.title), ["kernel BUG at mm/mempool.c:186!"]);
    else assert.equal([r.reports, b.st.freed], [[], [1001, 1000]]);
  }
});

test.run();
