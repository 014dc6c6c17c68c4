// Slab colouring and the CPU cache (64 MiB i386, kernel 2.6, 1 CPU; 32 KiB 8-way data cache with
// 64-byte lines: 64 sets, so an address's set is its offset in its page / 64). A cache of
// 600-byte objects holds 6 a slab with 440 bytes left over: 6 colours of 64 bytes. The first
// object of a slab sits at colour * 64 + 56 (the on-slab struct slab and bufctls take 56 bytes).
// 24 slabs' first objects are the hot ones: a loop reads 8 bytes of each, 100 times.
// - slab-colour: colour_next cycles 0..5, so the 24 hot words fall in 6 sets, 4 in each: they
//   stay cached (8 ways) and after the first pass every read hits.
// - slab-colour-off: the same with colouring switched off (memory.slab_colouring false, an
//   mmsim switch: Linux has no such knob): all 24 in set 0; 24 lines cycling through 8 ways miss
//   on every read, 24 conflict misses a pass, the reason the seeds give for colouring.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, cpu_counters, kmem_cache_alloc, kmem_cache_create, ktime_get_ns, kthread_run, mem_read, printk } from "../../src/kernel/index.ts";

const HOT = 24;
const PASSES = 100;

interface State {
  colours: number[];
  misses: number;
  ns: number;
  /** Every object allocated (they stay allocated: kmemleak's handle on them). */
  readonly objects: number[];
}

function slab_colour(name: string, colouring: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: colouring ? "24 hot objects at the start of 24 slabs: coloured, they spread over 6 cache sets and stay cached" : "the same with slab colouring off: all in one cache set, a conflict miss on every read",
    machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64, slab_colouring: colouring } },
    setup() {
      const st: State = { colours: [], misses: 0, ns: 0, objects: [] };
      kthread_run(
        function hot_loop() {
          return Effect.gen(function* () {
            const c = (yield* kmem_cache_create("obj600", 600, 8, 0))!;
            // Enough objects for every slab's six to come out; keep the first object of the first 24 full slabs.
            const by_page = new Map<number, number[]>();
            for (let i = 0; i < 200; i++) {
              const o = yield* kmem_cache_alloc(c, GFP_KERNEL);
              st.objects.push(o);
              const page = Math.floor(o / 4096);
              by_page.set(page, [...(by_page.get(page) ?? []), o]);
            }
            const hot = [...by_page.entries()]
              .filter(([, objs]) => objs.length === c.num)
              .sort((a, b) => a[0] - b[0])
              .slice(0, HOT)
              .map(([, objs]) => Math.min(...objs));
            st.colours = hot.map((o) => ((o % 4096) - 56) / 64);
            for (const o of hot) mem_read(o, 8); // warm up
            const m0 = cpu_counters().cache_misses;
            const t0 = ktime_get_ns();
            for (let p = 0; p < PASSES; p++) for (const o of hot) mem_read(o, 8);
            st.misses = cpu_counters().cache_misses - m0;
            st.ns = ktime_get_ns() - t0;
            printk(`${name}: colours ${[0, 1, 2, 3, 4, 5].map((k) => `${k}:${st.colours.filter((x) => x === k).length}`).join(" ")}; ${st.misses} cache misses in ${PASSES} passes, ${(st.ns / 1000).toFixed(1)} us`);
          });
        },
        null,
        "hot_loop",
      );
      return st;
    },
    check(st, expect) {
      expect.equal(st.colours.length, HOT, "hot objects found");
      if (colouring) {
        // Each colour at most 8 times (the cache's ways): no conflict misses; 2400 hits of 1 ns.
        expect.that([0, 1, 2, 3, 4, 5].every((k) => st.colours.filter((x) => x === k).length <= 8), `colours ${st.colours}`);
        expect.equal(st.misses, 0, "cache misses after the warm-up pass");
        expect.equal(st.ns, HOT * PASSES * 1, "ns for 2400 cached reads");
      } else {
        expect.that(st.colours.every((x) => x === 0), `colours ${st.colours}`);
        expect.equal(st.misses, HOT * PASSES, "cache misses: every read of 24 lines in one 8-way set");
        expect.equal(st.ns, HOT * PASSES * 80, "ns for 2400 reads from memory");
      }
    },
  });
}

export const slabColour = slab_colour("slab-colour", true);
export const slabColourOff = slab_colour("slab-colour-off", false);
