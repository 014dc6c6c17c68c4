// kmap / kunmap on a 1 GiB i386 machine (HighMem holds pfn 227326 (MAXMEM_PFN) and up; PKMAP_BASE 0xff800000).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { complete, init_completion, wait_for_completion, raw_smp_processor_id, vmalloc_to_page, mem_read, GFP_HIGHUSER, GFP_KERNEL, IRQ_HANDLED, __free_page, alloc_page, current, format_kaddr, kmap, kmap_atomic, kmap_local_page, kthread_run, kunmap, kunmap_atomic, kunmap_local, mem_write, msleep, nic, page_address, request_irq, udelay, type page } from "../../../src/kernel/index.ts";
import { pkmap_of } from "../../../src/kernel/mm/highmem.ts";

const G1 = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 1024 } } as const;

test("a lowmem page maps to its direct-map address; a HighMem page to pkmap slot 1", () => {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const low = (yield* alloc_page(GFP_KERNEL))!;
        seen.push((yield* kmap(low)) === page_address(low));
        const high = (yield* alloc_page(GFP_HIGHUSER))!;
        const a = yield* kmap(high);
        seen.push(format_kaddr(a), page_address(high) === a);
        mem_write(a, 64); // walks init_mm's pkmap page table
        const again = yield* kmap(high); // still mapped: same address, one more user
        const pk = pkmap_of(kernel().mm!)!;
        seen.push(again === a, pk.count[1]);
        yield* kunmap(high);
        yield* kunmap(high);
        seen.push(pk.count[1], page_address(high) === a); // unused, still mapped until a flush
        yield* kunmap(low);
      }),
    G1,
  );
  assert.equal(r.reports, []);
  assert.equal(seen, [true, "ff801000", true, true, 3, 1, true]);
});

test("more kmaps than LAST_PKMAP: the second task sleeps until the first unmaps, then one wrap-around flush", () => {
  const st = { slept: -1, done: 0, flushes: 0 };
  const holder = (n: number, hold_ms: number) => () =>
    Effect.gen(function* () {
      const pages: page[] = [];
      for (let i = 0; i < n; i++) pages.push((yield* alloc_page(GFP_HIGHUSER))!);
      for (const p of pages) yield* kmap(p);
      if (hold_ms > 0) yield* msleep(hold_ms);
      for (const p of pages) yield* kunmap(p);
      for (const p of pages) yield* __free_page(p);
      if (current().comm === "late") st.slept = current().nvcsw;
      if (++st.done === 2) st.flushes = pkmap_of(kernel().mm!)!.flushes;
    });
  const scn = inline(() => {
    kthread_run(holder(700, 5), null, "early", { cpus: [0] });
    kthread_run(
      () =>
        Effect.gen(function* () {
          yield* msleep(1);
          yield* holder(700, 0)();
        }),
      null,
      "late",
      { cpus: [0] },
    );
  }, G1);
  const r = run(scn, { verify: true });
  assert.equal(r.reports, []);
  assert.is(st.done, 2);
  // Both on CPU0. "late" maps into slots 701..1023 and, after the first wrap (which finds nothing
  // to flush), slot 0: 324 of its 700. Its next scan finds every slot in use and it sleeps on
  // pkmap_map_wait. "early" unmaps all 700 (count 1 each) before "late" runs again; late's scan
  // then wraps and flush_all_zero_pkmaps() frees them with one TLB flush. late's 2 voluntary
  // switches: its msleep(1) and the one wait.
  assert.equal([st.slept, st.flushes], [2, 1]);
});

test("kmap in an interrupt handler: might_sleep; kunmap there: kernel BUG", () => {
  const scn = inline(
    () => {
      const st = { page: -1 };
      request_irq(
        11,
        () =>
          Effect.gen(function* () {
            nic("eth0").reap();
            if (st.page >= 0) {
              const p = st.page;
              st.page = -1;
              yield* kmap(p);
              yield* kunmap(p);
            }
            return IRQ_HANDLED;
          }),
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            st.page = (yield* alloc_page(GFP_HIGHUSER))!;
          }),
        null,
        "t",
        { cpus: [0] },
      );
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }], memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
    { duration_ms: 5 },
  );
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.kind), ["might_sleep", "bug"]);
  assert.is(r.reports[1]!.title, "kernel BUG at arch/x86/mm/highmem_32.c: kunmap() in interrupt context!");
});

test("kmap_atomic: per-CPU slots from the fixmap, usable at once; an interrupt reusing KM_USER0 is a BUG", () => {
  const seen: unknown[] = [];
  const ok = inTask(
    () =>
      Effect.gen(function* () {
        const p = (yield* alloc_page(GFP_HIGHUSER))!;
        const a = yield* kmap_atomic(p, "KM_USER0");
        mem_write(a, 64);
        seen.push(format_kaddr(a), kernel().this_cpu().preempt_count > 0);
        yield* kunmap_atomic(a, "KM_USER0");
        seen.push(kernel().this_cpu().preempt_count);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
  );
  assert.equal(ok.reports, []);
  // Slot KM_USER0 (3) on CPU0: 0xfffff000 - (64 + 3) * 4096 = 0xfffbc000.
  assert.equal(seen, ["fffbc000", true, 0]);
  const scn = inline(
    () => {
      const st = { page: -1 };
      request_irq(
        11,
        () =>
          Effect.gen(function* () {
            nic("eth0").reap();
            if (st.page >= 0) yield* kmap_atomic(st.page, "KM_USER0"); // wrong slot for an interrupt
            return IRQ_HANDLED;
          }),
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            st.page = (yield* alloc_page(GFP_HIGHUSER))!;
            const a = yield* kmap_atomic(st.page, "KM_USER0");
            yield* udelay(2000); // busy with the mapping while interrupts arrive
            yield* kunmap_atomic(a, "KM_USER0");
          }),
        null,
        "t",
        { cpus: [0] },
      );
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }], memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
    { duration_ms: 5 },
  );
  const r = run(scn);
  // The task's page is HighMem's first, pfn 0x377fe: the zone starts there, 2 pages below the
  // 1024-aligned 0x37800, so its smallest free block is the order-1 block 0x377fe, split first.
  assert.equal(r.reports.map((x) => x.title), ["kernel BUG at arch/x86/mm/highmem_32.c: kmap_atomic(KM_USER0) on CPU0: the slot still maps pfn 377fe for t!"]);
});

test("kmap_local_page (6): stacked mappings, released in reverse order; out of order warns once", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const p = (yield* alloc_page(GFP_HIGHUSER))!;
        const q = (yield* alloc_page(GFP_HIGHUSER))!;
        const a = yield* kmap_local_page(p);
        const b = yield* kmap_local_page(q);
        yield* kunmap_local(a); // wrong: b is the innermost (WARN_ON_ONCE, and b's slot goes)
        yield* kunmap_local(b); // silent now; a's slot goes
        seen.push(current().kmap_local!.length, current().migrate_disabled);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 1024 } },
  );
  // 6.1's slots: FIX_KMAP_BEGIN + KM_MAX_IDX * cpu + i, at 0xfffff000 - (64 + i) * 4096 on CPU0.
  assert.equal(r.reports.map((x) => x.title), ["WARNING: CPU: 0 PID: 3 at mm/highmem.c kunmap_local_indexed"]);
  assert.match(r.reports[0]!.text, /\nunmapping fffbf000, the innermost mapping is fffbe000\n/);
  assert.equal(seen, [0, 0]);
});

test("an unbalanced kunmap_atomic: the preempt count underflow warning", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const p = (yield* alloc_page(GFP_HIGHUSER))!;
        const a = yield* kmap_atomic(p, "KM_USER1");
        yield* kunmap_atomic(a, "KM_USER1");
        yield* kunmap_atomic(a, "KM_USER1"); // once too often
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
  );
  assert.equal(r.reports.map((x) => x.title), ["WARNING: at kernel/sched.c sub_preempt_count()"]);
  assert.match(r.reports[0]!.text, /\nDEBUG_LOCKS_WARN_ON\(val > preempt_count\(\)\)\n/);
});

const K6 = { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 1024 } } as const;

test("kmap_local (6) is per task: a task switched out gives its slot up and gets its page back when it returns", () => {
  const seen: unknown[] = [];
  const r = run(
    inline(() => {
      const st = { a_mapped: false };
      kthread_run(
        () =>
          Effect.gen(function* () {
            const p = (yield* alloc_page(GFP_HIGHUSER))!;
            const a = yield* kmap_local_page(p);
            st.a_mapped = true;
            yield* msleep(2); // B runs meanwhile on this CPU, in the same slot
            seen.push(["A", format_kaddr(a), vmalloc_to_page(a) === p]);
            mem_read(a, 4);
            yield* kunmap_local(a);
          }),
        null,
        "A",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            while (!st.a_mapped) yield* msleep(1);
            const q = (yield* alloc_page(GFP_HIGHUSER))!;
            const b = yield* kmap_local_page(q);
            seen.push(["B", format_kaddr(b), vmalloc_to_page(b) === q]);
            mem_read(b, 4);
            yield* kunmap_local(b);
          }),
        null,
        "B",
        { cpus: [0] },
      );
    }, K6),
  );
  assert.equal(r.reports, []);
  // Both use CPU0's first slot, 0xfffff000 - 64 * 4096; each sees its own page there.
  assert.equal(seen, [["B", "fffbf000", true], ["A", "fffbf000", true]]);
});

test("kmap_local (6): the task cannot migrate while it holds a mapping (migrate_disable)", () => {
  const seen: number[] = [];
  const run_with = (unmap_first: boolean) => {
    seen.length = 0;
    return run(
      inline(() => {
        const st = { mapped: false, done: init_completion() };
        kthread_run(
          () =>
            Effect.gen(function* () {
              const p = (yield* alloc_page(GFP_HIGHUSER))!;
              const a = yield* kmap_local_page(p);
              seen.push(raw_smp_processor_id()); // (smp_processor_id() would be DEBUG_PREEMPT's report: A may migrate)
              if (unmap_first) yield* kunmap_local(a);
              st.mapped = true;
              yield* wait_for_completion(st.done); // woken by "busy", whose CPU stays busy
              seen.push(raw_smp_processor_id());
              if (!unmap_first) yield* kunmap_local(a);
            }),
          null,
          "A",
          { cpus: [0, 1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              while (!st.mapped) yield* msleep(1);
              complete(st.done);
              yield* udelay(2000);
            }),
          null,
          "busy",
          { cpus: [1] },
        );
      }, K6),
    );
  };
  // A starts on CPU1 (CPU0 runs the boot work first). Woken while CPU1 is busy and CPU0 idle, it
  // moves to CPU0, unless it holds a kmap_local mapping.
  assert.equal(run_with(true).reports, []);
  assert.equal(seen, [1, 0]);
  assert.equal(run_with(false).reports, []);
  assert.equal(seen, [1, 1]);
});

test.run();
