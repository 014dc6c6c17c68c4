// User processes' memory: page tables from the allocator (PageTables), faults, the zero page,
// munmap with mmu_gather batches, SIGSEGV, lazy TLB mode. Numbers worked by hand from the
// layouts: mmap_base = TASK_SIZE - 128 MiB (0xb8000000 on i386, 0x7ffff7fff000 on x86_64) and
// mappings placed top-down below it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import type { MemorySpec } from "../../../src/kernel/mm/mmzone.ts";
import { meminfo } from "../../../src/kernel/proc/meminfo.ts";
import * as HW from "../../../src/hw/mmu/paging.ts";
import { kernel_vm } from "../../../src/kernel/mm/vmalloc.ts";
import { TASK_DEAD, type Task } from "../../../src/kernel/sched/task.ts";
import { current, flush_tlb_mm, kthread_run, mmap_anon, msleep, munmap, process_run, touch_anon_pages, udelay, user_read, user_write, vm_events } from "../../../src/kernel/index.ts";

const PAGE = 4096;
const page_tables_kb = (): number => Number(/PageTables: +(\d+) kB/.exec(meminfo(kernel(), kernel().mm!))![1]);
const allocated = (): number => kernel().mm!.zones.reduce((s, z) => s + z.managed_pages - z.free_pages, 0);

/** Runs `body` in a user process "app" on CPU1 and, once it has exited, `after` in a kernel thread. */
function in_process(memory: MemorySpec, body: (app: Task) => Effect.Effect<void>, after: () => void = () => {}, cpus = 2) {
  return run(
    inline(
      () => {
        const app: Task = process_run(() => body(app), null, "app", { cpus: [1] });
        kthread_run(
          () =>
            Effect.gen(function* () {
              while (app.state !== TASK_DEAD) yield* msleep(1);
              after();
            }),
          null,
          "reaper",
          { cpus: [0] },
        );
      },
      { cpus, memory },
    ),
  );
}

const cases: { name: string; memory: MemorySpec; addr: number; kb: number; bytes: number; tables: number }[] = [
  // 2048 pages = 8 MiB below mmap_base. i386: 0xb7800000, 4 MiB aligned: 2 PTE tables of 4 MiB
  // (PAE: 4 of 2 MiB, plus the 3 PMDs pgd_alloc preallocated). x86_64: 0x7ffff77ff000, 1 page
  // below a 2 MiB boundary: 1 + 4 PTE tables, one PMD and one PUD. 2.6.34 counts PTE tables in
  // PageTables; 6.1 also PMDs, and its pgtables_bytes has PUDs too.
  { name: "i386 2.6", memory: { arch: "i386", kernel: "2.6", mb: 64 }, addr: 0xb7800000, kb: 8, bytes: 0, tables: 1 + 2 },
  { name: "i386 PAE 2.6", memory: { arch: "i386", kernel: "2.6", mb: 64, pae: true }, addr: 0xb7800000, kb: 16, bytes: 0, tables: 1 + 3 + 4 },
  { name: "i386 PAE 6", memory: { arch: "i386", kernel: "6", mb: 64, pae: true }, addr: 0xb7800000, kb: 28, bytes: 7 * PAGE, tables: 1 + 3 + 4 },
  { name: "x86_64 2.6", memory: { arch: "x86_64", kernel: "2.6", mb: 64 }, addr: 0x7ffff77ff000, kb: 20, bytes: 0, tables: 1 + 1 + 1 + 5 },
  { name: "x86_64 6", memory: { arch: "x86_64", kernel: "6", mb: 64 }, addr: 0x7ffff77ff000, kb: 24, bytes: 7 * PAGE, tables: 1 + 1 + 1 + 5 },
];

for (const c of cases) {
  test(`${c.name}: 2048 touched pages need their page tables, which show in PageTables and go at exit`, () => {
    const seen: Record<string, number> = {};
    const r = in_process(
      { ...c.memory, pcp: false },
      (app) =>
        Effect.gen(function* () {
          yield* touch_anon_pages(2048);
          const m = app.mm!;
          Object.assign(seen, { addr: m.mmap[0]!.vm_start, rss: m.rss, total_vm: m.total_vm, bytes: m.pgtables_bytes, kb: page_tables_kb(), allocated: allocated(), faults: vm_events().pgfault });
        }),
      () => Object.assign(seen, { kb_after: page_tables_kb(), allocated_after: allocated() }),
    );
    assert.equal(r.reports, []);
    assert.equal(seen, { addr: c.addr, rss: 2048, total_vm: 2048, bytes: c.bytes, kb: c.kb, allocated: 2048 + c.tables, faults: 2048, kb_after: 0, allocated_after: 0 });
  });
}

test("a read fault maps the zero page read-only; the first write gets a page of its own and flushes the old PTE", () => {
  const seen: number[][] = [];
  const r = in_process({ arch: "i386", kernel: "2.6", mb: 64, pcp: false }, (app) =>
    Effect.gen(function* () {
      const a = mmap_anon(PAGE);
      const tlb = kernel().machine.tlbs[1]!;
      const snap = () => seen.push([vm_events().pgfault, app.mm!.rss, allocated(), tlb.flushes]);
      snap();
      yield* user_read(a, 4); // do_anonymous_page: a PTE table, the zero page mapped
      snap();
      yield* user_read(a + 8, 4); // a TLB hit
      snap();
      yield* user_write(a, 4); // protection fault: do_wp_page, flush_tlb_page here (invlpg)
      snap();
      yield* user_write(a + 8, 4);
      snap();
    }),
  );
  assert.equal(r.reports, []);
  // [faults, rss, pages allocated (the pgd first), TLB flushes on CPU1 (1: app's CR3 load)]
  assert.equal(seen, [
    [0, 0, 1, 1],
    [1, 0, 2, 1],
    [1, 0, 2, 1],
    [2, 1, 3, 2],
    [2, 1, 3, 2],
  ]);
});

test("Dirty: an anonymous write fault maps the page dirty; a write hitting an entry a read cached clean walks again to set D", () => {
  const seen: unknown[] = [];
  const r = in_process({ arch: "i386", kernel: "2.6", mb: 64 }, (app) =>
    Effect.gen(function* () {
      const k = kernel();
      const v = kernel_vm(k.mm!);
      const a = mmap_anon(PAGE);
      const pte = () => {
        const w = HW.walk(v.mem, v.fmt, app.mm!.pgd!, a, false, true, false);
        return { table: w.tables[1]!, idx: HW.level_index(v.fmt, 1, a), dirty: w.ok && w.dirty };
      };
      const timed = (e: Effect.Effect<void>) =>
        Effect.gen(function* () {
          const t0 = k.now();
          yield* e;
          return k.now() - t0;
        });
      yield* user_write(a, 4); // do_anonymous_page: pte_mkwrite(pte_mkdirty(entry))
      seen.push(pte().dirty);
      // Made clean by hand (as pte_mkclean would) and dropped from CPU1's TLB.
      const p = pte();
      const e = HW.read_entry(v.mem, v.fmt, p.table, p.idx);
      HW.write_entry(v.mem, v.fmt, p.table, p.idx, { lo: e.lo & ~HW._PAGE_DIRTY, hi: e.hi });
      k.machine.tlbs[1]!.flush_page(a);
      const misses = k.machine.tlbs[1]!.misses;
      // The read: a TLB miss; walk 20, PDE and PTE cached by the fault's walk (1 + 1), the line
      // the write left Modified (1) = 23; D stays clear. The write hits the clean entry and
      // walks again: 20 + 1 + 1, and the line (1) = 23; D is set.
      seen.push(yield* timed(user_read(a, 4)), pte().dirty, yield* timed(user_write(a, 4)), pte().dirty, k.machine.tlbs[1]!.misses - misses);
    }),
  );
  assert.equal(r.reports, []);
  assert.equal(seen, [true, 23, false, 23, true, 1]);
});

test("munmap frees the pages and the page tables no mapping uses; 2.6.34 flushes every 506 pages, 6.1 once", () => {
  for (const [era, flushes] of [["2.6", 3], ["6", 1]] as const) {
    const seen: number[] = [];
    const r = in_process({ arch: "i386", kernel: era, mb: 64, pcp: false }, (app) =>
      Effect.gen(function* () {
        const a = mmap_anon(1024 * PAGE); // 0xb7c00000: exactly one PTE table's 4 MiB
        const b = mmap_anon(PAGE); // 0xb7bff000: in the table below
        for (let i = 0; i < 1024; i++) yield* user_write(a + i * PAGE, 4);
        yield* user_write(b, 4);
        const tlb = kernel().machine.tlbs[1]!;
        const before = tlb.flushes;
        seen.push(a, b, page_tables_kb(), allocated());
        assert.is(yield* munmap(a + PAGE, PAGE), 0); // splits a; its table stays
        seen.push(app.mm!.mmap.length, app.mm!.rss, page_tables_kb());
        const mid = tlb.flushes;
        assert.is(yield* munmap(a, 1024 * PAGE), 0); // the rest of a, and its table
        seen.push(app.mm!.rss, app.mm!.total_vm, page_tables_kb(), allocated(), tlb.flushes - mid, mid - before);
      }),
    );
    assert.equal(r.reports, []);
    // 1 pgd + 2 PTE tables + 1025 pages; after the first munmap 3 mappings (b, a's two pieces);
    // the second unmaps 1023 pages: 2.6.34 flushes at 506 and 1012 gathered and at the end.
    assert.equal(seen, [0xb7c00000, 0xb7bff000, 8, 1028, 3, 1024, 8, 1, 1, 4, 1 + 1 + 1, flushes, 1], era);
  }
});

test("a munmap past the mmu_gather's capacity: 6.1 i386 flushes at 9197 gathered pages (8 + 9 x 1021), 2.6.34 every 506", () => {
  // 9216 pages from 0xb5c00000 (mmap_base 0xb8000000 - 36 MiB, 4 MiB aligned): 9 PTE tables.
  // The munmap gathers 9216 pages, then free_pgtables' 9 tables: 9225 entries. 6.1: the 9197th
  // page fills the last of the 9 batches: flush 1 (more than 33 pages: everything), then 19
  // pages + 9 tables and tlb_finish_mmu's flush 2. 2.6.34: a flush at every 506 (18 x 506 =
  // 9108) and the last one for the 117 left: 19.
  for (const [era, flushes] of [["6", 2], ["2.6", 19]] as const) {
    const seen: number[] = [];
    const r = in_process({ arch: "i386", kernel: era, mb: 64, pcp: false }, (app) =>
      Effect.gen(function* () {
        const n = 9216;
        const a = mmap_anon(n * PAGE);
        for (let i = 0; i < n; i++) yield* user_write(a + i * PAGE, 4);
        const tlb = kernel().machine.tlbs[1]!;
        const before = tlb.flushes;
        seen.push(a, page_tables_kb());
        assert.is(yield* munmap(a, n * PAGE), 0);
        seen.push(tlb.flushes - before, app.mm!.rss, page_tables_kb());
      }),
    );
    assert.equal(r.reports, [], era);
    assert.equal(seen, [0xb5c00000, 9 * 4, flushes, 0, 0], era);
  }
});

test("a user access outside every mapping: segfault line, the process dies of SIGSEGV, its memory is freed", () => {
  const seen: string[] = [];
  let left = -1;
  const r = in_process(
    { arch: "i386", kernel: "2.6", mb: 64, pcp: false },
    () =>
      Effect.gen(function* () {
        yield* touch_anon_pages(10);
        yield* user_write(0x1000, 4);
        seen.push("after the fault");
      }),
    () => (left = allocated()),
  );
  assert.equal(r.reports, []);
  assert.equal(seen, []);
  assert.ok(r.log.some((l) => / app\[\d+\]: segfault at 1000 ip \(null\) sp \(null\) error 6$/.test(l)), r.log.join("\n"));
  assert.is(left, 0);
});

test("kernel 6's segfault line: %px zeros in full width, the likely CPU, and show_opcodes' Code line", () => {
  // app runs on CPU1 (one core per CPU, socket 0); error 6 = PF_USER | PF_WRITE, not present.
  // show_opcodes reads ip - 42, which wraps: 0xffffffd6 (i386), 0xffffffffffffffd6 (x86_64).
  for (const [arch, zero, prologue] of [
    ["i386", "00000000", "ffffffd6"],
    ["x86_64", "0000000000000000", "ffffffffffffffd6"],
  ] as const) {
    const r = in_process({ arch, kernel: "6", mb: 64 }, () => user_write(0x1000, 4));
    const at = r.log.findIndex((l) => l.includes("segfault at"));
    assert.match(r.log[at]!, new RegExp(` app\\[\\d+\\]: segfault at 1000 ip ${zero} sp ${zero} error 6 likely on CPU 1 \\(core 1, socket 0\\)$`));
    assert.ok(r.log[at + 1]!.endsWith(` Code: Unable to access opcode bytes at 0x${prologue}.`), r.log[at + 1]);
  }
});

test("lazy TLB: a kernel thread keeps the process's page table; a flush IPI makes that CPU leave it", () => {
  const seen: unknown[] = [];
  run(
    inline(
      () => {
        const st = { sleeping: false, flushed: false };
        const app = process_run(
          () =>
            Effect.gen(function* () {
              yield* touch_anon_pages(1);
              st.sleeping = true;
              while (!st.flushed) yield* msleep(1);
              seen.push(kernel().machine.tlbs[1]!.flushes, kernel().this_cpu().active_mm === current().mm);
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
              const pc1 = kernel().percpu[1]!;
              seen.push(pc1.active_mm === app.mm, [...app.mm!.cpumask], kernel().machine.tlbs[1]!.flushes);
              yield* flush_tlb_mm(app.mm!);
              seen.push(pc1.active_mm, [...app.mm!.cpumask], kernel().machine.tlbs[1]!.shootdowns);
              st.flushed = true;
            }),
          null,
          "flusher",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    ),
  );
  // Before: CPU1 still holds app's table, one CR3 load so far. The IPI's leave_mm loads
  // swapper_pg_dir (flush 2); app's return reloads its own table (flush 3).
  assert.equal(seen, [true, [1], 1, null, [], 1, 3, true]);
});

test.run();
