// vmalloc on a 64 MiB i386 machine: VMALLOC_START = 0xc4000000 + 8 MiB = 0xc4800000.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { GFP_KERNEL, __free_page, alloc_page, vmap, vunmap, vzalloc, flush_tlb_mm, process_run, udelay, flush_tlb_kernel_range, format_kaddr, kthread_run, local_irq_restore, local_irq_save, mdelay, mem_read, mem_write, request_irq, vfree, vmalloc, vmalloc_to_page, IRQ_HANDLED, nic } from "../../../src/kernel/index.ts";
import { kernel_vm, vmallocinfo } from "../../../src/kernel/mm/vmalloc.ts";

const M = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } } as const;

test("vmalloc maps fresh pages at VMALLOC_START with a guard page; access walks and then hits the TLB", () => {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const k = kernel();
        const a = yield* vmalloc(3 * 4096);
        const b = yield* vmalloc(100);
        seen.push(format_kaddr(a), format_kaddr(b));
        const v = kernel_vm(k.mm!);
        // One page-table page covers the 4 MiB at PDE 0xc48 >> 2 = 786 (0xc4800000 >> 22).
        seen.push(v.table_pages, v.pages.get(a)!.length);
        const tlb = k.machine.tlbs[k.this_cpu().id]!;
        mem_write(a, 8);
        mem_read(a + 8, 8);
        mem_write(a + 4096, 8);
        seen.push(tlb.misses, tlb.hits);
        yield* vfree(a);
        yield* vfree(b);
        seen.push(tlb.valid, v.list.areas.length);
      }),
    M,
    { verify: true, proc: ["vmallocinfo", "meminfo"] },
  );
  assert.equal(r.reports, []);
  // 3 pages + guard = 0x4000; b follows. Two misses (one per page touched), one hit.
  assert.equal(seen, ["c4800000", "c4804000", 1, 3, 2, 1, 0, 0]);
  assert.is(r.proc.vmallocinfo, "");
});

test("/proc/vmallocinfo names the function that called vmalloc / vzalloc / vmap, then pages= and the kind", () => {
  const r = run(
    inline(() => {
      const my_init = (_: null) =>
        Effect.gen(function* () {
          yield* vmalloc(3 * 4096);
          yield* vzalloc(8192);
          const p = (yield* alloc_page(GFP_KERNEL))!;
          yield* vmap([p], 1);
        });
      kthread_run(my_init, null, "t");
    }, M),
    { proc: ["vmallocinfo", "meminfo"] },
  );
  // s_show(): "0x%p-0x%p %7ld", the caller (%pS, here without +off/size), " pages=%d" when the
  // area owns pages, " vmalloc" / " vmap". 3 pages + guard = 0x4000, 2 + guard = 0x3000, the
  // vmap'd page + guard = 0x2000, each area after the last.
  assert.is(
    r.proc.vmallocinfo,
    "0xc4800000-0xc4804000   16384 my_init pages=3 vmalloc\n" + "0xc4804000-0xc4807000   12288 my_init pages=2 vmalloc\n" + "0xc4807000-0xc4809000    8192 my_init vmap\n",
  );
  // VmallocUsed counts the areas with their guard pages: 16 + 12 + 8 kB.
  assert.ok(r.proc.meminfo!.includes("\nVmallocUsed:          36 kB\n"));
});

test("vfree flushes every CPU's TLB (a shootdown on the others)", () => {
  let flushes: number[] = [];
  let shoot: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* vmalloc(4096);
        yield* vfree(a);
        flushes = kernel().machine.tlbs.map((t) => t.flushes);
        shoot = kernel().machine.tlbs.map((t) => t.shootdowns);
      }),
    M,
  );
  assert.equal(flushes, [1, 1]);
  assert.is(shoot.reduce((a, b) => a + b, 0), 1);
});

test("vfree in interrupt context: kernel BUG", () => {
  const scn = inline(
    () => {
      const st = { addr: 0 };
      request_irq(
        11,
        () =>
          Effect.gen(function* () {
            nic("eth0").reap();
            if (st.addr !== 0) {
              const a = st.addr;
              st.addr = 0;
              yield* vfree(a);
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
            st.addr = yield* vmalloc(4096);
          }),
        null,
        "t",
        { cpus: [0] },
      );
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }], memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    { duration_ms: 5 },
  );
  const r = run(scn);
  assert.equal(r.reports.map((x) => x.title), ["kernel BUG at mm/vmalloc.c: vfree() in interrupt context!"]);
});

test("2.6.34 vfree(NULL) in interrupt context is a BUG too: BUG_ON(in_interrupt()) comes before the NULL test", () => {
  const scn = inline(
    () => {
      const st = { fired: false };
      request_irq(
        11,
        () =>
          Effect.gen(function* () {
            nic("eth0").reap();
            if (!st.fired) {
              st.fired = true;
              yield* vfree(0);
            }
            return IRQ_HANDLED;
          }),
        0,
        "eth0",
        null,
      );
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }], memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    { duration_ms: 5 },
  );
  assert.equal(run(scn).reports.map((x) => x.title), ["kernel BUG at mm/vmalloc.c: vfree() in interrupt context!"]);
});

test("vunmap of an area vmalloc made: __vunmap(addr, 0) unmaps and flushes it, its pages stay allocated", () => {
  for (const era of ["2.6", "6"] as const) {
    const seen: unknown[] = [];
    const r = inTask(
      () =>
        Effect.gen(function* () {
          const k = kernel();
          const a = yield* vmalloc(2 * 4096);
          const pages = [vmalloc_to_page(a)!, vmalloc_to_page(a + 4096)!];
          mem_read(a, 8);
          const tlb = k.machine.tlbs[0]!;
          const before = tlb.flushes;
          yield* vunmap(a);
          seen.push(vmallocinfo(k.mm!), vmalloc_to_page(a), vmalloc_to_page(a + 4096), pages.map((p) => k.mm!.alloc_order[p]), tlb.flushes - before);
          for (const p of pages) yield* __free_page(p); // still the caller's to free
        }),
      { cpus: 1, memory: { arch: "i386", kernel: era, mb: 64 } },
      { verify: true },
    );
    assert.equal(r.reports, [], era);
    // The area is gone and unmapped, both pages still allocated (order 0). The flush covers the
    // area with its guard page, 3 pages: 2.6.34 flushes everything once, 6.1 page by page (3 <= 33).
    assert.equal(seen, ["", null, null, [0, 0], era === "2.6" ? 1 : 3], era);
  }
});

test("vunmap / vfree of an address no area starts at: __vunmap's WARN (nonexistent vm area, bad address), nothing freed", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* vmalloc(4096);
        yield* vunmap(a + 4096); // page-aligned: a's guard page, no area starts there
        yield* vfree(a + 8); // not page-aligned
        yield* vunmap(0); // NULL: nothing
        yield* vfree(a);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    { proc: ["vmallocinfo"] },
  );
  assert.equal(r.reports.map((x) => x.title), ["WARNING: at mm/vmalloc.c __vunmap()", "WARNING: at mm/vmalloc.c __vunmap()"]);
  // 2.6.34's message text for both vfree and vunmap (%p: the pointer in hex, 8 digits on i386).
  assert.is(r.reports[0]!.text.split("\n")[1], "Trying to vfree() nonexistent vm area (c4801000)");
  assert.is(r.reports[1]!.text.split("\n")[1], "Trying to vfree() bad address (c4800008)");
  assert.is(r.proc.vmallocinfo, "");
});

test("vfree waits for every CPU's flush: a CPU with interrupts off for 1 ms delays it", () => {
  let took = 0;
  const scn = inline(() => {
    kthread_run(
      () =>
        Effect.gen(function* () {
          const flags = local_irq_save();
          yield* mdelay(1);
          yield* local_irq_restore(flags);
        }),
      null,
      "irqsoff",
      { cpus: [1] },
    );
    kthread_run(
      () =>
        Effect.gen(function* () {
          const a = yield* vmalloc(4096);
          const t0 = kernel().now();
          yield* vfree(a);
          took = kernel().now() - t0;
        }),
      null,
      "freer",
      { cpus: [0] },
    );
  }, M);
  const r = run(scn);
  assert.equal(r.reports, []);
  assert.ok(took > 900_000, `vfree took ${took} ns`);
});

test("flush_tlb_kernel_range with interrupts off: the smp_call_function_many warning", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const flags = local_irq_save();
        yield* flush_tlb_kernel_range(0, 0);
        yield* local_irq_restore(flags);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
  );
  assert.equal(r.reports.map((x) => x.title), ["WARNING: at kernel/smp.c smp_call_function_many()"]);
});

test("vmap maps the caller's pages contiguously; vunmap unmaps and flushes but leaves them allocated", () => {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const pages = [(yield* alloc_page(GFP_KERNEL))!, (yield* alloc_page(GFP_KERNEL))!];
        const a = yield* vmap(pages, 2);
        mem_write(a + 4096, 8);
        seen.push(format_kaddr(a), vmallocinfo(kernel().mm!));
        yield* vunmap(a);
        seen.push(kernel().mm!.alloc_order[pages[0]!], kernel().machine.tlbs[0]!.flushes);
        for (const p of pages) yield* __free_page(p);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    { verify: true },
  );
  assert.equal(r.reports, []);
  // inTask's thread function is an anonymous arrow: kthread_run names it "threadfn".
  assert.equal(seen, ["c4800000", "0xc4800000-0xc4803000   12288 threadfn vmap\n", 0, 1]);
});

test("flush_tlb_mm: an IPI only to the CPU whose CR3 holds the process's page table", () => {
  const seen: { flushes: number[]; shootdowns: number[]; mask: number[] } = { flushes: [], shootdowns: [], mask: [] };
  const scn = inline(() => {
    const st = { go: false };
    const app = process_run(
      () =>
        Effect.gen(function* () {
          while (!st.go) yield* udelay(1);
          yield* udelay(50);
        }),
      null,
      "app",
      { cpus: [1] },
    );
    kthread_run(
      () =>
        Effect.gen(function* () {
          yield* udelay(5);
          st.go = true;
          seen.mask = [...app.mm!.cpumask];
          yield* flush_tlb_mm(app.mm!);
          seen.flushes = kernel().machine.tlbs.map((t) => t.flushes);
          seen.shootdowns = kernel().machine.tlbs.map((t) => t.shootdowns);
        }),
      null,
      "flusher",
      { cpus: [0] },
    );
  }, { cpus: 3, memory: { arch: "i386", kernel: "2.6", mb: 64 } });
  const r = run(scn);
  assert.equal(r.reports, []);
  // Only CPU1 ever loaded app's page table. CPU0 (the caller, a kernel thread that never ran
  // app) flushes nothing; CPU1 flushed twice: the CR3 load when app was switched in, then the IPI.
  assert.equal(seen.mask, [1]);
  assert.equal(seen.flushes, [0, 2, 0]);
  assert.equal(seen.shootdowns, [0, 1, 0]);
});

test.run();
