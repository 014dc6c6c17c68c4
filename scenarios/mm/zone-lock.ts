// zone->lock contention (1 GiB x86_64, kernel 2.6, 8 CPUs): a task on every CPU allocates 48
// order-0 pages and frees them again, 40 times. With per-CPU pagesets (zone-lock) a CPU takes
// zone->lock only to move a batch of 31 pages between its pcp list and the buddy lists; without
// them (zone-lock-nopcp) every allocation and every free takes it, and the CPUs queue on the
// lock. Compare the lock statistics printed at the end (also in `--json` stats).
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, __free_page, alloc_page, for_each_populated_zone, kthread_run, printk, type page } from "../../src/kernel/index.ts";

const CPUS = 8;
const ROUNDS = 40;
const PAGES = 48;

interface State {
  pairs: number;
  finished: number;
  acquisitions: number;
  contentions: number;
}

function zone_lock(name: string, pcp: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: pcp ? "8 CPUs allocate and free pages with per-CPU pagesets: little zone->lock traffic" : "the same with per-CPU pagesets off: every page takes zone->lock",
    machine: { cpus: CPUS, memory: { arch: "x86_64", kernel: "2.6", mb: 1024, pcp } },
    setup() {
      const st: State = { pairs: 0, finished: 0, acquisitions: 0, contentions: 0 };
      for (let cpu = 0; cpu < CPUS; cpu++) {
        kthread_run(
          () =>
            Effect.gen(function* () {
              for (let r = 0; r < ROUNDS; r++) {
                const held: page[] = [];
                for (let i = 0; i < PAGES; i++) {
                  const p = yield* alloc_page(GFP_KERNEL);
                  if (p !== null) held.push(p);
                }
                for (const p of held) yield* __free_page(p);
                st.pairs += held.length;
              }
              if (++st.finished === CPUS) {
                for_each_populated_zone((z) => {
                  st.acquisitions += z.lock.acquisitions;
                  st.contentions += z.lock.contentions;
                  if (z.lock.acquisitions > 0) printk(`zone ${z.name}: zone->lock taken ${z.lock.acquisitions} times, contended ${z.lock.contentions}, waited ${(z.lock.wait_total / 1000).toFixed(1)} us`);
                });
              }
            }),
          null,
          `pager/${cpu}`,
          { cpus: [cpu] },
        );
      }
      return st;
    },
    check(st, expect) {
      expect.equal(st.pairs, CPUS * ROUNDS * PAGES, "pages allocated and freed");
    },
  });
}

export const zoneLock = zone_lock("zone-lock", true);
export const zoneLockNopcp = zone_lock("zone-lock-nopcp", false);
