// Kernel memory accesses through the TLB and caches, costs from the default tables (cache: hit
// 1, memory 80; a page walk 20 plus its entry reads; a TLB miss on the i386 direct map reads one
// page-directory entry, a PSE entry, except in the first 4 MiB, mapped with 4 KiB pages: a PDE
// and a PTE).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_KERNEL, __flush_tlb_one, __get_free_page, current_ds, gdt_selectors, loadsegment, mem_read, mem_write, memcpy, memset, vmalloc } from "../../../src/kernel/index.ts";
import * as HW from "../../../src/hw/mmu/paging.ts";
import { kernel_vm, kernel_walk, linear_of } from "../../../src/kernel/mm/vmalloc.ts";

const M = { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } } as const;

test("first touch: a TLB miss (one PDE read from memory) and a cache miss; then hits", () => {
  const cost: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        const k = kernel();
        const t = () => k.now();
        let t0 = t();
        mem_read(a, 8);
        cost.push(t() - t0); // the walk (20) + PDE from memory (80) + the line from memory (80)
        t0 = t();
        mem_write(a + 8, 8);
        cost.push(t() - t0); // TLB hit, cache hit (Exclusive -> Modified): 1
        t0 = t();
        memset(a + 64, 0, 256);
        cost.push(t() - t0); // 4 new lines: 4 * 80
        t0 = t();
        memcpy(a + 1024, a, 128);
        cost.push(t() - t0); // reads 2 cached lines (1 + 1), writes 2 new lines (2 * 80)
        const tlb = k.machine.tlbs[0]!;
        cost.push(tlb.misses, tlb.hits);
      }),
    M,
  );
  assert.equal(cost, [180, 1, 320, 162, 1, 4]); // one TLB miss, then every access hits
});

for (const [addr, title] of [
  [0xf8000000, "BUG: unable to handle kernel paging request at f8000000"], // vmalloc range, nothing there
  [0xfffff800, "BUG: unable to handle kernel paging request at fffff800"], // the top page directory entry is empty
  [0x10, "BUG: unable to handle kernel NULL pointer dereference at 00000010"],
] as const) {
  test(`an access the page tables do not map is an oops that stops the machine: ${title.slice(35)}`, () => {
    const r = inTask(
      () =>
        Effect.sync(() => {
          mem_read(addr, 4);
        }),
      M,
    );
    assert.equal(r.reports.map((x) => x.title), [title]);
    // 2.6.34 dump_pagetable(): the PDE read ("*pde = %08x "), then die()'s line with CONFIG_PREEMPT.
    assert.match(r.reports[0]!.text, /\n\*pde = 00000000 \nOops: 0000 \[#1\] PREEMPT SMP \n/);
    assert.match(r.stop, /^stopped: /);
  });
}

test("the direct map's first 4 MiB are 4 KiB pages (2 levels walked, one TLB entry a page); above it 4 MiB pages", () => {
  const seen: number[] = [];
  inTask(
    () =>
      Effect.sync(() => {
        const k = kernel();
        const tlb = k.machine.tlbs[0]!;
        const t0 = k.now();
        mem_read(0xc0100000, 4); // the walk (20); PDE + PTE + the line: 3 reads from memory
        mem_read(0xc0101000, 4); // the next page: a TLB miss, a walk (20); PDE and PTE (the next word) cached: 1 + 1 + 80
        seen.push(k.now() - t0, tlb.misses);
        const t1 = k.now();
        mem_read(0xc0800000, 4); // 8 MiB: a walk (20); PDE 770, in the cached line of PDEs 768..783 (1), + the line (80)
        mem_read(0xc0801000, 4); // same 4 MiB TLB entry: the line only
        seen.push(k.now() - t1, tlb.misses);
      }),
    M,
  );
  assert.equal(seen, [20 + 240 + 20 + 82, 2, 20 + 81 + 80, 3]);
});

test("costs come from the machine: a walk 50 ns, memory 200 ns and a cache hit 2 ns change the first touch and a hit; a bad key is named", () => {
  const cost: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        const k = kernel();
        let t0 = k.now();
        mem_read(a, 8);
        cost.push(k.now() - t0); // the walk (50), the PSE entry and the line, both from memory (200 each)
        t0 = k.now();
        mem_read(a, 8);
        cost.push(k.now() - t0);
      }),
    { ...M, costs: { memory: 200, cache_hit: 2, page_walk: 50 } },
  );
  assert.equal(cost, [450, 2]);
  assert.throws(() => inTask(() => Effect.void, { ...M, costs: { dram: 1 } }), /costs: unknown field "dram" \(accepted: step, atomic, .*, llc_hit\)/);
  assert.throws(() => inTask(() => Effect.void, { ...M, costs: { memory: -1 } }), /costs.memory must be a whole number of ns/);
});

test("kernel 6 prints 6.1's page-fault oops: the #PF lines, the table walk, PREEMPT SMP", () => {
  const r = inTask(
    () =>
      Effect.sync(() => {
        mem_read(0x10, 4);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  assert.equal(r.reports[0]!.text.split("\n").slice(0, 5), [
    "BUG: kernel NULL pointer dereference, address: 00000010",
    "#PF: supervisor read access in kernel mode",
    "#PF: error_code(0x0000) - not-present page",
    "*pde = 00000000 ",
    "Oops: 0000 [#1] PREEMPT SMP",
  ]);
});

test("a kernel access to a user address is bad input: processes use user_read/user_write", () => {
  assert.throws(() => inTask(() => Effect.sync(() => mem_read(0x08048000, 4)), M), /kernel access to 0x08048000: a user address \(below PAGE_OFFSET\)/);
});

test("segmentation: DS is __USER_DS (0x7b) and flat; a null DS faults on use with #GP, a bad selector on load", () => {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        seen.push(current_ds(), gdt_selectors());
        loadsegment("ds", gdt_selectors().__KERNEL_DS); // 0x68: allowed at CPL 0
        mem_read(a, 4);
        loadsegment("ds", 0); // a null selector may be loaded into DS...
        seen.push(current_ds());
        mem_read(a, 4); // ...but not used
        seen.push("not reached");
      }),
    M,
  );
  assert.equal(seen, [0x7b, { __KERNEL_CS: 0x60, __KERNEL_DS: 0x68, __USER_CS: 0x73, __USER_DS: 0x7b }, 0]);
  assert.equal(r.reports.map((x) => x.title), ["general protection fault: 0000 [#1] PREEMPT SMP "]);
  const bad = inTask(() => Effect.sync(() => loadsegment("ds", 0x80)), M); // GDT entry 16: none there
  assert.equal(bad.reports.map((x) => x.title), ["general protection fault: 0080 [#1] PREEMPT SMP "]);
  // 6.1 exc_general_protection(): a non-zero error code (the selector) is "segment-related"; the
  // null DS's error code 0 keeps the plain words (no address hint: get_seg_base() of a null
  // selector fails); die's line has no trailing space.
  const M6 = { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64 } } as const;
  assert.equal(inTask(() => Effect.sync(() => loadsegment("ds", 0x80)), M6).reports.map((x) => x.title), ["segment-related general protection fault: 0080 [#1] PREEMPT SMP"]);
  const null_ds = inTask(() => Effect.flatMap(__get_free_page(GFP_KERNEL), (a) => Effect.sync(() => (loadsegment("ds", 0), mem_read(a, 4)))), M6);
  assert.equal(null_ds.reports.map((x) => x.title), ["general protection fault: 0000 [#1] PREEMPT SMP"]);
  // x86_64, 64-bit mode: DS's base and limit are ignored; a null DS is harmless.
  const x = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* __get_free_page(GFP_KERNEL);
        loadsegment("ds", 0);
        mem_read(a, 4);
        seen.push(gdt_selectors().__USER_DS);
      }),
    { cpus: 1, memory: { arch: "x86_64", kernel: "2.6", mb: 64 } },
  );
  assert.equal(x.reports, []);
  assert.is(seen[seen.length - 1], 0x2b);
});

/** Clears the Dirty bit of the PTE mapping kernel address `addr` in init_mm (as pte_mkclean would). */
function clear_dirty(addr: number): void {
  const mm = kernel().mm!;
  const v = kernel_vm(mm);
  const w = kernel_walk(mm, addr, false, false);
  if (!w.ok) throw new Error("not mapped");
  const last = v.fmt.bits.length - 1;
  const idx = HW.level_index(v.fmt, last, linear_of(mm, addr));
  const e = HW.read_entry(v.mem, v.fmt, w.tables[last]!, idx);
  HW.write_entry(v.mem, v.fmt, w.tables[last]!, idx, { lo: e.lo & ~HW._PAGE_DIRTY, hi: e.hi });
}

test("Dirty: vmalloc's PAGE_KERNEL PTE is dirty from the start; a write hitting an entry a read cached clean walks again to set D", () => {
  const seen: unknown[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const k = kernel();
        const tlb = k.machine.tlbs[0]!;
        const dirty = () => (kernel_walk(k.mm!, a, false, false) as { dirty: boolean }).dirty;
        const a = yield* vmalloc(4096);
        const cost = (f: () => void) => {
          const t0 = k.now();
          f();
          return k.now() - t0;
        };
        // PAGE_KERNEL has _PAGE_DIRTY: a read walk caches the entry dirty, the write then hits it
        // and costs only the cache line, already Exclusive from the read (1).
        seen.push(dirty(), cost(() => mem_read(a, 4)), cost(() => mem_write(a, 4)), tlb.misses, tlb.hits);
        // The same page made clean by hand (pte_mkclean) and dropped from the TLB: the read walks
        // (20) through the PDE and the PTE, cached by the first walk (1 + 1), to the line (1):
        // 23, and leaves D clear. The write hits that clean entry (a hit, no miss) and walks again
        // to set D: 20 + 1 + 1, then the line (Modified already: 1) = 23.
        clear_dirty(a);
        __flush_tlb_one(a);
        seen.push(dirty(), cost(() => mem_read(a, 4)), dirty(), cost(() => mem_write(a, 4)), dirty(), tlb.misses, tlb.hits);
        seen.push(cost(() => mem_write(a, 4))); // now cached dirty: the line only
      }),
    M,
  );
  // First read: a miss, walk 20 + PDE and PTE from memory (80 + 80) + the line (80) = 260.
  assert.equal(seen, [true, 260, 1, 1, 1, false, 23, false, 23, true, 2, 2, 1]);
});

test.run();
