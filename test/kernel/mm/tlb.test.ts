// User TLB flushes and lazy TLB mode, 2.6.34 against 6.1 (arch/x86/mm/tlb.c), on 2 CPUs, 64 MiB
// i386. A user process "app" on CPU1 faults one page in at 0xb7fff000 (mmap_base 0xb8000000 less
// a page); its switch-in loaded its page table (CPU1's TLB flush 1). A kernel thread on CPU0,
// which never ran app, then flushes app's mm.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { current, flush_tlb_all, flush_tlb_mm, flush_tlb_page, flush_tlb_range, kthread_run, msleep, process_run, touch_anon_pages, udelay, vfree, vmalloc } from "../../../src/kernel/index.ts";
import { TLB_FLUSH_ALL, flush_tlb_mm_range, tlb_flush } from "../../../src/kernel/mm/tlb.ts";
import type { mm_struct } from "../../../src/kernel/mm/mm_types.ts";

const PAGE = 4096;
const A = 0xb7fff000;

/**
 * app sleeps (CPU1 idles, lazily keeping app's page table) while CPU0 runs `flush`; then app
 * wakes. Returns [lazy before, mask before, CPU1 flushes before, lazy after, mask after, CPU1
 * shootdowns, CPU1 flushes after, CPU1 interrupts meanwhile, app's tlb_gen, CPU1's loaded
 * generation; then, once app runs again: CPU1 flushes, app's table loaded, CPU1's generation].
 */
function lazy_case(era: "2.6" | "6", flush: (mm: mm_struct) => Effect.Effect<void>): unknown[] {
  const seen: unknown[] = [];
  const r = run(
    inline(
      () => {
        const st = { sleeping: false, flushed: false };
        const app = process_run(
          () =>
            Effect.gen(function* () {
              yield* touch_anon_pages(1);
              st.sleeping = true;
              while (!st.flushed) yield* msleep(1);
              const pc = kernel().this_cpu();
              seen.push(kernel().machine.tlbs[1]!.flushes, pc.active_mm === current().mm, pc.loaded_tlb_gen);
            }),
          null,
          "app",
          { cpus: [1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              while (!st.sleeping) yield* udelay(10);
              yield* msleep(1); // app is asleep: CPU1 idles, lazily on app's page table
              const k = kernel();
              const pc1 = k.percpu[1]!;
              const tlb1 = k.machine.tlbs[1]!;
              seen.push(pc1.active_mm === app.mm && pc1.curr !== app, [...app.mm!.cpumask], tlb1.flushes);
              const irqs = pc1.irqs;
              yield* flush(app.mm!);
              seen.push(pc1.active_mm === app.mm, [...app.mm!.cpumask], tlb1.shootdowns, tlb1.flushes, pc1.irqs - irqs, app.mm!.tlb_gen, pc1.loaded_tlb_gen);
              st.flushed = true;
            }),
          null,
          "flusher",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 } },
    ),
  );
  assert.equal(r.reports, []);
  return seen;
}

test("2.6.34: a flush of any kind IPIs the lazy CPU, which leaves the mm; app's return reloads its table", () => {
  // The IPI (1 interrupt, 1 shootdown) runs leave_mm: swapper_pg_dir (flush 2), out of the mask;
  // app's switch-in loads its table again (flush 3). No generations in 2.6.34.
  for (const flush of [flush_tlb_page, flush_tlb_mm] as const) {
    assert.equal(lazy_case("2.6", (mm) => flush(mm, A)), [true, [1], 1, false, [], 1, 2, 1, 0, 0, 3, true, 0], flush.name);
  }
});

test("6.1 flush_tlb_page: no IPI to the lazy CPU; it stays in the mask and flushes when app returns (tlb_gen moved)", () => {
  // tlb_gen 0 -> 1; CPU1 is still at 0 and keeps app's table: no interrupt, no shootdown, no flush.
  // app's switch-in finds the same mm but an older generation: CR3 reload (flush 2), now at 1.
  assert.equal(lazy_case("6", (mm) => flush_tlb_page(mm, A)), [true, [1], 1, true, [1], 0, 1, 0, 1, 0, 2, true, 1]);
});

test("6.1 flush_tlb_mm (freed_tables): the lazy CPU gets the IPI and switches to init_mm", () => {
  // flush_tlb_func on a lazy CPU: switch_mm_irqs_off(NULL, &init_mm): flush 2, out of the mask.
  // app's switch-in is a different mm again: CR3 load (flush 3) at app's generation 1.
  assert.equal(lazy_case("6", flush_tlb_mm), [true, [1], 1, false, [], 1, 2, 1, 1, 0, 3, true, 1]);
});

test("6.1 tlb_flush of an mmu_gather: freed_tables decides whether the lazy CPU is reached", () => {
  const gather = (freed_tables: boolean) => (mm: mm_struct) => tlb_flush({ mm, fullmm: false, start: A, end: A + PAGE, freed_tables });
  assert.equal(lazy_case("6", gather(false)), [true, [1], 1, true, [1], 0, 1, 0, 1, 0, 2, true, 1]);
  assert.equal(lazy_case("6", gather(true)), [true, [1], 1, false, [], 1, 2, 1, 1, 0, 3, true, 1]);
  // A full-mm gather (exit) flushes everything with its freed_tables.
  assert.equal(lazy_case("6", (mm) => tlb_flush({ mm, fullmm: true, start: 0, end: 0, freed_tables: true })), [true, [1], 1, false, [], 1, 2, 1, 1, 0, 3, true, 1]);
});

/**
 * app keeps CPU1 busy (not lazy) while CPU0 flushes its mm three times: one page, 40 pages, two
 * pages. Returns CPU1's flush count after each, then [shootdowns, interrupts, tlb_gen, CPU1's
 * generation, CPU0's flushes].
 */
function busy_case(era: "2.6" | "6"): number[] {
  const seen: number[] = [];
  const r = run(
    inline(
      () => {
        const st = { ready: false, done: false };
        const app = process_run(
          () =>
            Effect.gen(function* () {
              yield* touch_anon_pages(1);
              st.ready = true;
              while (!st.done) yield* udelay(5);
            }),
          null,
          "app",
          { cpus: [1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              while (!st.ready) yield* udelay(10);
              const k = kernel();
              const tlb1 = k.machine.tlbs[1]!;
              const irqs = k.percpu[1]!.irqs;
              const mm = app.mm!;
              seen.push(tlb1.flushes);
              yield* flush_tlb_page(mm, A);
              seen.push(tlb1.flushes);
              yield* flush_tlb_range(mm, A - 39 * PAGE, A + PAGE);
              seen.push(tlb1.flushes);
              yield* flush_tlb_mm_range(mm, A - PAGE, A + PAGE, false);
              seen.push(tlb1.flushes, tlb1.shootdowns, k.percpu[1]!.irqs - irqs, mm.tlb_gen, k.percpu[1]!.loaded_tlb_gen, k.machine.tlbs[0]!.flushes);
              st.done = true;
            }),
          null,
          "flusher",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "i386", kernel: era, mb: 64 } },
    ),
  );
  assert.equal(r.reports, []);
  return seen;
}

test("a CPU running the process gets every flush by IPI; 6.1 flushes by page when that brings it exactly up to date", () => {
  // 2.6.34: invlpg of the one page, then flush_tlb_range (and 2.6's flush_tlb_mm_range stand-in)
  // flush the whole mm: +1 each. 3 IPIs, 3 shootdowns; CPU0, not in the mask, flushes nothing.
  assert.equal(busy_case("2.6"), [1, 2, 3, 4, 3, 3, 0, 0, 0]);
  // 6.1: generation 1 is a 1-page flush at local 0 -> invlpg (+1); 40 pages > 33 is a full flush
  // (+1) to 2; the 2-page range at 2 -> 3 is two invlpgs (+2). CPU1 ends at generation 3.
  assert.equal(busy_case("6"), [1, 2, 3, 5, 3, 3, 3, 3, 0]);
});

test("flush_tlb_mm_range with TLB_FLUSH_ALL on 6.1 is a full flush even for a CPU one generation behind", () => {
  const seen = busy_like_all();
  assert.equal(seen, [1, 2, 1, 1]);
});

/** One flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, false) at CPU1 busy: [flushes before, after, tlb_gen, CPU1's generation]. */
function busy_like_all(): number[] {
  const seen: number[] = [];
  run(
    inline(
      () => {
        const st = { ready: false, done: false };
        const app = process_run(
          () =>
            Effect.gen(function* () {
              yield* touch_anon_pages(1);
              st.ready = true;
              while (!st.done) yield* udelay(5);
            }),
          null,
          "app",
          { cpus: [1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              while (!st.ready) yield* udelay(10);
              const k = kernel();
              seen.push(k.machine.tlbs[1]!.flushes);
              yield* flush_tlb_mm_range(app.mm!, 0, TLB_FLUSH_ALL, false);
              seen.push(k.machine.tlbs[1]!.flushes, app.mm!.tlb_gen, k.percpu[1]!.loaded_tlb_gen);
              st.done = true;
            }),
          null,
          "flusher",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } },
    ),
  );
  return seen;
}

test("2.6.34 flush_tlb_all / vfree: do_flush_tlb_all makes the lazy CPU leave_mm; 6.1's does not", () => {
  const vmalloc_vfree = () => Effect.flatMap(vmalloc(PAGE), vfree);
  // 2.6.34: the IPI (1 interrupt, 1 shootdown) flushes everything (flush 2), then CPU1 is lazy
  // (TLBSTATE_LAZY): leave_mm drops it from app's mask and loads swapper_pg_dir (flush 3); app's
  // switch-in is then a different mm: CR3 load (flush 4). vfree's flush_tlb_kernel_range is
  // flush_tlb_all on 2.6.34, so the same numbers.
  for (const flush of [() => flush_tlb_all(), vmalloc_vfree]) {
    assert.equal(lazy_case("2.6", flush), [true, [1], 1, false, [], 1, 3, 1, 0, 0, 4, true, 0]);
  }
  // 6.1 flush_tlb_all: the IPI flushes everything (flush 2); CPU1 stays lazy in the mask; kernel
  // flushes do not move app's tlb_gen, so app's switch-in reloads nothing (still 2).
  assert.equal(lazy_case("6", () => flush_tlb_all()), [true, [1], 1, true, [1], 1, 2, 1, 0, 0, 2, true, 0]);
  // 6.1 vfree of a 1-page area: flush_tlb_kernel_range over its 2 pages (the guard page
  // included, area->size) is 2 <= 33 invlpgs: flushes 1 + 2 = 3, nothing more on app's return.
  assert.equal(lazy_case("6", vmalloc_vfree), [true, [1], 1, true, [1], 1, 3, 1, 0, 0, 3, true, 0]);
});

test.run();
