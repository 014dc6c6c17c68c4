// More kmap users than LAST_PKMAP (1 GiB i386: 1024 permanent kmap slots). "early" maps 700
// HighMem pages and holds them for 5 ms; "late" then maps 700 more: after the slots left run out
// it sleeps on pkmap_map_wait, wakes as "early" unmaps, and each time its scan wraps around with
// unmapped slots to reclaim, flush_all_zero_pkmaps() frees them and flushes the kmap range from
// every TLB. The two run on different CPUs, so late rescans while early is still unmapping: many
// wraps and flushes (on one CPU, early would unmap everything first and one flush would do).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_HIGHUSER, __free_page, alloc_page, current, kmap, kthread_run, kunmap, msleep, printk, type page } from "../../src/kernel/index.ts";

const PAGES = 700;

export default defineScenario({
  name: "kmap-pressure",
  description: "more kmap users than LAST_PKMAP: a task sleeps until slots are released",
  machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
  setup() {
    const st = { done: 0, late_sleeps: 0 };
    const user = (delay_ms: number, hold_ms: number) => () =>
      Effect.gen(function* () {
        if (delay_ms > 0) yield* msleep(delay_ms);
        const pages: page[] = [];
        for (let i = 0; i < PAGES; i++) pages.push((yield* alloc_page(GFP_HIGHUSER))!);
        const before = current().nvcsw;
        for (const p of pages) yield* kmap(p);
        printk(`${current().comm}: ${PAGES} pages kmapped after ${current().nvcsw - before} sleeps`);
        if (current().comm === "late") st.late_sleeps = current().nvcsw - before;
        if (hold_ms > 0) yield* msleep(hold_ms);
        for (const p of pages) yield* kunmap(p);
        for (const p of pages) yield* __free_page(p);
        st.done++;
      });
    kthread_run(user(0, 5), null, "early", { cpus: [0] });
    kthread_run(user(1, 0), null, "late", { cpus: [1] });
    return st;
  },
  check(st, expect) {
    expect.equal(st.done, 2, "kmap users that finished");
    expect.that(st.late_sleeps > 0, "late never had to wait for a kmap slot");
  },
});
