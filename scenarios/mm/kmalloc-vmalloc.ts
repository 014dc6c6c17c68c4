// A 1 MiB buffer from kmalloc and from vmalloc, side by side (128 MiB i386, kernel 2.6).
// kmalloc(1 MiB) takes one physically contiguous block of 256 pages (the size-1048576 cache's
// order-8 slab, in the direct map: no page table is touched); vmalloc(1 MiB) takes 256 separate
// pages (HighMem first, physically scattered), maps them with 256 PTEs in init_mm, allocating
// the page-table page the range needs, and takes one guard page of address space. With kernel
// "6" kmalloc above 8 KiB goes to the page allocator (order 8, still contiguous).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, __pa, kfree, kmalloc, kthread_run, printk, vfree, vmalloc, vmalloc_to_page } from "../../src/kernel/index.ts";
import { kernel_vm } from "../../src/kernel/mm/vmalloc.ts";
import { kernel } from "../../src/kernel/kernel.ts";

const SIZE = 1 << 20;
const PAGES = SIZE / 4096;

interface Side {
  pages: number;
  contiguous: boolean;
  new_ptes: number;
  table_pages: number;
}

/** How many pages back [addr, addr + SIZE), whether their frames follow each other. */
function frames(addr: number, direct: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < PAGES; i++) out.push(direct ? Math.floor(__pa(addr + i * 4096) / 4096) : vmalloc_to_page(addr + i * 4096)!);
  return out;
}

const contiguous = (f: number[]): boolean => f.every((p, i) => i === 0 || p === f[i - 1]! + 1);

export default defineScenario({
  name: "kmalloc-vmalloc",
  description: "a 1 MiB buffer from kmalloc (contiguous, no new page tables) and from vmalloc (256 scattered pages, 256 PTEs)",
  machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 128 } },
  setup() {
    const st: { k: Side | null; v: Side | null } = { k: null, v: null };
    const free_pages = () => kernel().mm!.zones.reduce((a, z) => a + z.free_pages + z.pageset.reduce((b, p) => b + p.count, 0), 0);
    kthread_run(
      function compare() {
        return Effect.gen(function* () {
          const vm = kernel_vm(kernel().mm!);
          let before = free_pages();
          let tables = vm.table_pages;
          const k = yield* kmalloc(SIZE, GFP_KERNEL);
          const kf = frames(k, true);
          st.k = { pages: before - free_pages(), contiguous: contiguous(kf), new_ptes: 0, table_pages: vm.table_pages - tables };
          before = free_pages();
          tables = vm.table_pages;
          const v = yield* vmalloc(SIZE);
          const vf = frames(v, false);
          st.v = { pages: before - free_pages(), contiguous: contiguous(vf), new_ptes: vf.length, table_pages: vm.table_pages - tables };
          printk(`kmalloc(1 MiB): ${st.k.pages} pages, ${st.k.contiguous ? "physically contiguous" : "scattered"}, no page-table entries (direct map)`);
          printk(`vmalloc(1 MiB): ${st.v.pages} pages (${st.v.table_pages} of them page tables), ${st.v.contiguous ? "contiguous" : "physically scattered"}, ${st.v.new_ptes} PTEs in init_mm`);
          yield* kfree(k);
          yield* vfree(v);
        });
      },
      null,
      "compare",
    );
    return st;
  },
  check(st, expect) {
    expect.that(st.k !== null && st.v !== null, "the comparison did not run");
    if (st.k === null || st.v === null) return;
    // kmalloc: the 256 pages of one order-8 slab (off-slab management: a small object elsewhere).
    expect.equal(st.k.contiguous, true, "kmalloc's buffer physically contiguous");
    expect.that(st.k.pages >= PAGES && st.k.pages <= PAGES + 1, `kmalloc took ${st.k.pages} pages`);
    expect.equal(st.v.contiguous, false, "vmalloc's buffer physically contiguous");
    expect.equal(st.v.new_ptes, PAGES, "vmalloc's PTEs");
    expect.equal(st.v.pages, PAGES + st.v.table_pages, "vmalloc's pages: the buffer's and its page tables'");
  },
});
