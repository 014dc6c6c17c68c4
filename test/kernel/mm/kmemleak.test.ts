// kmemleak (CONFIG_DEBUG_KMEMLEAK) on a 64 MiB i386 2.6 machine, 2 CPUs, HZ 250: what is
// tracked, what counts as a reference (the scenario's state, shared() variables, a number
// pointing into an object), the report's exact lines, one report per object.
import { test } from "uvu";
import * as Effect from "effect/Effect";
import * as assert from "uvu/assert";
import { inTask, inline, reportText, run } from "../../helpers.ts";
import { parseMachineFile } from "../../../src/harness/machine_file.ts";
import {
  GFP_KERNEL,
  format_kaddr,
  kfree,
  kmalloc,
  kmem_cache_alloc,
  kmem_cache_create,
  kmemleak_not_leak,
  kmemleak_scan,
  kthread_run,
  ktime_get_ns,
  mdelay,
  shared,
  vfree,
  vmalloc,
} from "../../../src/kernel/index.ts";

const M = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 }, kmemleak: true } as const;

test("a kmalloc nothing refers to at the end of the run: one report, Linux's lines, the task, jiffies and the backtrace", () => {
  const seen: string[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        yield* mdelay(20); // 20 ms at HZ 250: jiffies 5
        const a = yield* kmalloc(100, GFP_KERNEL);
        seen.push(format_kaddr(a));
      }),
    M,
  );
  // The object is 100 bytes as asked (kmemleak records the request, not the cache's 128). The
  // task "t" is pid 4 (ksoftirqd/0, ksoftirqd/1 and kswapd0 are 1 to 3); the run ends microseconds after the allocation: age 0.000s. The backtrace is the
  // innermost first: __kmalloc, the task's function, kthread.
  assert.equal(reportText(r, "kmemleak"), [
    [
      "kmemleak: 1 new suspected memory leak (see /sys/kernel/debug/kmemleak)",
      `unreferenced object 0x${seen[0]} (size 100):`,
      '  comm "t", pid 4, jiffies 5 (age 0.000s)',
      "  backtrace:",
      "    __kmalloc",
      "    threadfn",
      "    kthread",
    ].join("\n"),
  ]);
});

test("off by default: the same leak without kmemleak reports nothing, and turning it on changes no allocation", () => {
  const body = (out: number[]) => () =>
    Effect.gen(function* () {
      out.push(yield* kmalloc(100, GFP_KERNEL), yield* kmalloc(3000, GFP_KERNEL), yield* vmalloc(8192));
    });
  const on: number[] = [];
  const off: number[] = [];
  const r_on = inTask(body(on), M);
  const r_off = inTask(body(off), { ...M, kmemleak: false });
  assert.equal(reportText(r_off, "kmemleak"), []);
  assert.is(reportText(r_on, "kmemleak").length, 1);
  assert.equal(on, off);
  // A run that frees what it allocates: the same trace, event for event, with kmemleak on or off.
  const clean = () =>
    Effect.gen(function* () {
      const a = yield* kmalloc(100, GFP_KERNEL);
      const v = yield* vmalloc(8192);
      yield* kfree(a);
      yield* vfree(v);
    });
  assert.is(inTask(clean, M).traceHash, inTask(clean, { ...M, kmemleak: false }).traceHash);
});

test("references: the scenario's state, a shared() variable and a pointer into the object keep it; a freed object is forgotten", () => {
  interface S {
    held: number[];
  }
  const r = run(
    inline<S>(
      () => {
        const s: S = { held: [] };
        const inner = shared(0);
        kthread_run(
          () =>
            Effect.gen(function* () {
              s.held.push(yield* kmalloc(64, GFP_KERNEL)); // state holds its address
              inner.value = (yield* kmalloc(64, GFP_KERNEL)) + 40; // a pointer 40 bytes in
              yield* kfree(yield* kmalloc(64, GFP_KERNEL)); // freed: not an object any more
            }),
          null,
          "t",
        );
        return s;
      },
      M,
    ),
  );
  assert.equal(reportText(r, "kmemleak"), []);
});

test("a pointer just past the object's end is not a reference to it", () => {
  const held = { p: 0 };
  const r = run(
    inline(
      () => {
        kthread_run(
          () =>
            Effect.gen(function* () {
              const a = yield* kmalloc(100, GFP_KERNEL);
              held.p = a + 100;
            }),
          null,
          "t",
        );
        return held;
      },
      M,
    ),
  );
  assert.is(reportText(r, "kmemleak").length, 1);
  assert.ok(reportText(r, "kmemleak")[0]!.includes("(size 100):"));
});

test("kmemleak_not_leak() silences one object; kmem_cache_alloc and vmalloc objects are tracked with their own sizes", () => {
  const seen: string[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const c = yield* kmem_cache_create("leaky", 200, 0, 0, null);
        const a = yield* kmem_cache_alloc(c!, GFP_KERNEL);
        const v = yield* vmalloc(3 * 4096);
        const w = yield* vmalloc(4096);
        yield* vfree(w);
        const q = yield* kmalloc(32, GFP_KERNEL);
        kmemleak_not_leak(q);
        seen.push(format_kaddr(a), format_kaddr(v));
      }),
    M,
  );
  const text = reportText(r, "kmemleak");
  assert.is(text.length, 1);
  const lines = text[0]!.split("\n");
  assert.is(lines[0], "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)");
  // Objects in address order: the slab object (low memory) before the vmalloc area.
  assert.equal(
    lines.filter((l) => l.startsWith("unreferenced")),
    [`unreferenced object 0x${seen[0]} (size 200):`, `unreferenced object 0x${seen[1]} (size 12288):`],
  );
  assert.equal(
    lines.filter((l) => l.startsWith("    ")),
    ["    kmem_cache_alloc", "    threadfn", "    kthread", "    vmalloc", "    threadfn", "    kthread"],
  );
});

test("kmemleak_scan() reports now and returns the count; an object is reported once, not again at the end", () => {
  const counts: number[] = [];
  const ages: string[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const t0 = ktime_get_ns();
        yield* kmalloc(500, GFP_KERNEL);
        yield* mdelay(1234);
        const t1 = ktime_get_ns();
        counts.push(kmemleak_scan(), kmemleak_scan());
        // age = now - the allocation's time, as seconds and milliseconds
        const ms = Math.floor((t1 - t0) / 1e6);
        ages.push(`${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}s`);
        yield* kmalloc(600, GFP_KERNEL);
      }),
    M,
  );
  assert.equal(counts, [1, 0]);
  const text = reportText(r, "kmemleak");
  assert.is(text.length, 2);
  assert.ok(text[0]!.includes("(size 500):"));
  assert.ok(!text[1]!.includes("(size 500):"));
  assert.ok(text[1]!.includes("(size 600):"));
  // 1234 ms of busy-waiting plus the timer ticks taken meanwhile: 1.234 s and a little.
  assert.match(ages[0]!, /^1\.23[4-9]s$/);
  assert.ok(text[0]!.includes(`(age ${ages[0]})`));
});

test("a cache kept in the scenario's state does not hide its leaked objects (kmemleak_erase of the per-CPU array slot)", () => {
  const st: { cache: unknown } = { cache: null };
  const r = run(
    inline(
      () => {
        kthread_run(
          () =>
            Effect.gen(function* () {
              const c = (yield* kmem_cache_create("leaky", 200, 0, 0, null))!;
              st.cache = c;
              yield* kmem_cache_alloc(c, GFP_KERNEL); // from a refill: the array's first object
              yield* kmem_cache_alloc(c, GFP_KERNEL); // from the array
            }),
          null,
          "t",
        );
        return st;
      },
      M,
    ),
  );
  assert.match(reportText(r, "kmemleak")[0] ?? "", /^kmemleak: 2 new suspected memory leaks /);
});

test("machine file: kmemleak must be true or false", () => {
  assert.equal(parseMachineFile({ kmemleak: true }).kmemleak, true);
  assert.throws(() => parseMachineFile({ kmemleak: "yes" }), /"kmemleak" must be true or false/);
});

test.run();
