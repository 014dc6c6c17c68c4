// What kernel "6" (6.1) does differently in mm/vmalloc.c: vfree in interrupt context is deferred
// to a kworker (__vfree_deferred, free_work), and new top-level kernel entries reach every
// process page table when init_mm gains them (no lazy vmalloc fault). 64 MiB i386 unless said:
// VMALLOC_START = 0xc4000000 + 8 MiB = 0xc4800000.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import * as HW from "../../../src/hw/mmu/paging.ts";
import { complete, current, init_completion, IRQ_HANDLED, kthread_run, mem_read, msleep, nic, process_run, request_irq, udelay, vfree, vmalloc, vmalloc_faults, vmalloc_to_page, wait_for_completion } from "../../../src/kernel/index.ts";
import { kernel_vm, linear_of, vfree_deferred_pending, vmallocinfo } from "../../../src/kernel/mm/vmalloc.ts";
import { worker_of } from "../../../src/kernel/workqueue.ts";
import type { MemorySpec } from "../../../src/kernel/mm/mmzone.ts";

const NIC = { name: "eth0", irq: 11, rate: 20000, cpus: [0] } as const;

/** One CPU, the NIC on it; `irq` runs once in the handler after st.go is set. */
function with_irq<S extends { go: boolean; fired: boolean }>(st: S, irq: () => Effect.Effect<void>): void {
  request_irq(
    11,
    () =>
      Effect.gen(function* () {
        nic("eth0").reap();
        if (st.go && !st.fired) {
          st.fired = true;
          yield* irq();
        }
        return IRQ_HANDLED;
      }),
    0,
    "eth0",
    null,
  );
}

test("6.1 vfree in a hardirq handler: deferred to kworker/0:1, which frees the areas newest first in process context", () => {
  const seen: Record<string, unknown> = {};
  const scn = inline(
    () => {
      const st = { go: false, fired: false, a: 0, b: 0 };
      with_irq(st, () =>
        Effect.gen(function* () {
          yield* vfree(st.a);
          yield* vfree(st.b);
          // Both on CPU0's llist, newest first; only the first llist_add queued the work.
          seen.in_irq = [vfree_deferred_pending(0).map((x) => x.toString(16)), worker_of(0)?.comm];
        }),
      );
      const my_init = (_: null) =>
        Effect.gen(function* () {
          const k = kernel();
          st.a = yield* vmalloc(2 * 4096);
          st.b = yield* vmalloc(4096);
          const pages = [vmalloc_to_page(st.b)!, vmalloc_to_page(st.a)!, vmalloc_to_page(st.a + 4096)!];
          seen.pages = pages;
          st.go = true;
          while (!st.fired) yield* udelay(10);
          // The handler has returned, the kworker has not run yet (this task keeps CPU0 busy):
          // both areas are still there, their pages allocated.
          seen.after_irq = [vmallocinfo(k.mm!), pages.map((p) => k.mm!.alloc_order[p])];
          yield* msleep(1); // the kworker gets CPU0
          seen.after_work = [vmallocinfo(k.mm!), pages.map((p) => k.mm!.alloc_order[p]), vfree_deferred_pending(0).length];
        });
      kthread_run(my_init, null, "t", { cpus: [0] });
    },
    { cpus: 1, nics: [NIC], memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  const r = run(scn, { verify: true });
  assert.equal(r.reports, []);
  assert.equal(seen.in_irq, [["c4803000", "c4800000"], "kworker/0:1"]);
  assert.equal(seen.after_irq, ["0xc4800000-0xc4803000   12288 my_init pages=2 vmalloc\n0xc4803000-0xc4805000    8192 my_init pages=1 vmalloc\n", [0, 0, 0]]);
  assert.equal(seen.after_work, ["", [-1, -1, -1], 0]);
  // free_work took b (the newest) first, then a's two pages in order, all in the kworker.
  const frees = r.trace.filter((t) => t.name === "mm_page_free" && t.who.startsWith("kworker/0:1-")).map((t) => Number(/pfn=(\d+)/.exec(t.detail)![1]));
  assert.equal(frees, seen.pages);
});

test("6.1 vfree(NULL) in interrupt context returns at once: no BUG, no deferral, no kworker", () => {
  const seen: unknown[] = [];
  const scn = inline(
    () => {
      const st = { go: true, fired: false };
      with_irq(st, () =>
        Effect.gen(function* () {
          yield* vfree(0);
          seen.push(vfree_deferred_pending(0).length, worker_of(0));
        }),
      );
    },
    { cpus: 1, nics: [NIC], memory: { arch: "i386", kernel: "6", mb: 64 } },
    { duration_ms: 5 },
  );
  const r = run(scn);
  assert.equal(r.reports, []);
  assert.equal(seen, [0, null]);
});

test("6.1: a deferred vfree of an address no area starts at WARNs later, from the kworker's free_work", () => {
  const scn = inline(
    () => {
      const st = { go: false, fired: false, a: 0 };
      with_irq(st, () => vfree(st.a + 4096)); // inside the area (mapped), but not its start
      const my_init = (_: null) =>
        Effect.gen(function* () {
          st.a = yield* vmalloc(2 * 4096);
          st.go = true;
          while (!st.fired) yield* udelay(10);
          yield* msleep(1);
        });
      kthread_run(my_init, null, "t", { cpus: [0] });
    },
    { cpus: 1, nics: [NIC], memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  const r = run(scn);
  // pids: ksoftirqd/0 1, kswapd0 2, t 3, then the kworker started by the first schedule_work().
  assert.equal(r.reports.map((x) => x.text), [
    [
      "WARNING: CPU: 0 PID: 4 at mm/vmalloc.c __vunmap",
      "Trying to vfree() nonexistent vm area (c4801000)",
      "CPU: 0 PID: 4 Comm: kworker/0:1 Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " warn_slowpath_fmt",
      " __vunmap",
      " free_work",
      " process_one_work",
      " worker_thread",
      " kthread",
      " </TASK>",
    ].join("\n"),
  ]);
});

const SYNC_CASES: readonly [string, MemorySpec, boolean, number, number][] = [
  // [name, memory, process pgd has the entry before the read, vmalloc faults, pgd syncs]
  ["i386 2.6", { arch: "i386", kernel: "2.6", mb: 64 }, false, 1, 0],
  ["i386 6", { arch: "i386", kernel: "6", mb: 64 }, true, 0, 1],
  ["x86_64 2.6", { arch: "x86_64", kernel: "2.6", mb: 64 }, false, 1, 0],
  ["x86_64 6", { arch: "x86_64", kernel: "6", mb: 64 }, true, 0, 1],
  // PAE: the kernel PMD is shared by every pgd, so there is nothing to copy in either era.
  ["i386 PAE 2.6", { arch: "i386", kernel: "2.6", mb: 64, pae: true }, true, 0, 0],
  ["i386 PAE 6", { arch: "i386", kernel: "6", mb: 64, pae: true }, true, 0, 0],
];

test("a process made before a vmalloc: 2.6 takes one lazy vmalloc fault, 6.1 has the entry already (synced at map time)", () => {
  for (const [name, memory, present, faults, syncs] of SYNC_CASES) {
    const seen: unknown[] = [];
    const scn = inline(
      () => {
        const st = { addr: 0 };
        const started = init_completion();
        const ready = init_completion();
        process_run(
          () =>
            Effect.gen(function* () {
              complete(started); // the pgd exists, the kernel half copied
              yield* wait_for_completion(ready);
              const k = kernel();
              const v = kernel_vm(k.mm!);
              const idx = HW.level_index(v.fmt, 0, linear_of(k.mm!, st.addr));
              const mine = HW.read_entry(v.mem, v.fmt, current().mm!.pgd!, idx);
              const ref = HW.read_entry(v.mem, v.fmt, v.root, idx);
              seen.push(mine.lo === ref.lo && mine.hi === ref.hi);
              mem_read(st.addr, 8); // in a system call
              seen.push(vmalloc_faults(), v.pgd_syncs);
            }),
          null,
          "app",
          { cpus: [1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              yield* wait_for_completion(started);
              st.addr = yield* vmalloc(4096);
              complete(ready);
            }),
          null,
          "driver",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory },
    );
    const r = run(scn);
    assert.equal(r.reports, [], name);
    assert.equal(seen, [present, faults, syncs], name);
  }
});

test("6.1 x86_64 has no vmalloc_fault: a pgd missing the entry (here cleared by hand) oopses", () => {
  const r = run(
    inline(
      () => {
        const st = { addr: 0 };
        const started = init_completion();
        const ready = init_completion();
        process_run(
          () =>
            Effect.gen(function* () {
              complete(started);
              yield* wait_for_completion(ready);
              const k = kernel();
              const v = kernel_vm(k.mm!);
              const idx = HW.level_index(v.fmt, 0, linear_of(k.mm!, st.addr));
              HW.write_entry(v.mem, v.fmt, current().mm!.pgd!, idx, { lo: 0, hi: 0 });
              mem_read(st.addr, 8);
            }),
          null,
          "app",
          { cpus: [1] },
        );
        kthread_run(
          () =>
            Effect.gen(function* () {
              yield* wait_for_completion(started);
              st.addr = yield* vmalloc(4096);
              complete(ready);
            }),
          null,
          "driver",
          { cpus: [0] },
        );
      },
      { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 } },
    ),
  );
  // VMALLOC_START 0xffffc90000000000: the first area. 6.1 words the oops "unable to handle page fault for address".
  assert.equal(r.reports.map((x) => x.title), ["BUG: unable to handle page fault for address: ffffc90000000000"]);
});

test.run();
