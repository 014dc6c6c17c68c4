// set_memory_ro / set_memory_rw (arch/x86/mm/pageattr.c, 6.1 pat/set_memory.c) on vmalloc pages,
// 2 CPUs, i386. 64 MiB: every page is lowmem, so the vmalloc page's frame also has a direct-map
// alias (cpa_process_alias changes it too); the direct map is 4 KiB pages for its first 4 MiB
// (pfns 0..1023) and 4 MiB pages above, so an alias there is split first. 1 GiB: vmalloc takes
// HighMem (__GFP_HIGHMEM, zonelist HighMem first), which has no alias.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { meminfo } from "../../../src/kernel/proc/meminfo.ts";
import { __get_free_page, GFP_KERNEL, mem_read, mem_write, set_memory_ro, set_memory_rw, vmalloc, vmalloc_to_page } from "../../../src/kernel/index.ts";
import { kernel_walk } from "../../../src/kernel/mm/vmalloc.ts";

const PAGE = 4096;
const mach = (kernel_: "2.6" | "6", mb = 64) => ({ cpus: 2, memory: { arch: "i386", kernel: kernel_, mb } }) as const;
/** TLB flushes so far on this CPU, then on the other. */
const flushes = () => {
  const me = kernel().this_cpu().id;
  return [me, 1 - me].map((c) => kernel().machine.tlbs[c]!.flushes);
};
const writable = (addr: number) => (kernel_walk(kernel().mm!, addr, false, false) as { writable: boolean }).writable;
const direct_map = () => /DirectMap4k: +(\d+) kB\nDirectMap4M: +(\d+) kB/.exec(meminfo(kernel(), kernel().mm!))!.slice(1).map(Number);

/** vmalloc one page, then set_memory_ro and set_memory_rw on it: what changed at each step. */
function ro_rw(kernel_: "2.6" | "6", mb: number): unknown[] {
  const seen: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* vmalloc(PAGE);
        const pfn = vmalloc_to_page(a)!;
        const alias = kernel().mm!.dm.page_offset + pfn * PAGE;
        const lowmem = pfn < kernel().mm!.dm.max_low_pfn;
        seen.push(lowmem, lowmem && pfn >= 1024);
        let f0 = flushes();
        seen.push(yield* set_memory_ro(a, 1), writable(a), lowmem ? writable(alias) : null, flushes().map((f, i) => f - f0[i]!), kernel().mm!.dm.split_large, lowmem ? direct_map() : null);
        f0 = flushes();
        seen.push(yield* set_memory_rw(a, 1), writable(a), lowmem ? writable(alias) : null, flushes().map((f, i) => f - f0[i]!));
        mem_write(a, 4); // writable again
        if (lowmem) mem_write(alias, 4);
        seen.push(kernel().machine.tlbs[1 - kernel().this_cpu().id]!.shootdowns);
      }),
    mach(kernel_, mb),
  );
  assert.equal(r.reports, []);
  return seen;
}

test("64 MiB: the vmalloc page and its direct-map alias go read-only (the alias's 4 MiB page split) and back", () => {
  // The page is lowmem above the first 4 MiB. set_memory_ro: the PTE loses RW; the alias's 4 MiB
  // page is split (one large page: DirectMap4k 4096 + 4096 kB, DirectMap4M 61440 - 4096 kB) with
  // a local __flush_tlb_all (this CPU +1); 2.6.34 then flush_tlb_all()s (+1 each CPU, a
  // shootdown on the other); the alias PTE loses RW; then the final flush: 2.6.34
  // on_each_cpu(__cpa_flush_range), 6.1 flush_tlb_all (an alias forces it): +1 on each CPU.
  // set_memory_rw: both PTEs get RW back (the split stays): the final flush only, +1 each. The
  // other CPU served 3 shootdowns on 2.6.34, 2 on 6.1.
  assert.equal(ro_rw("2.6", 64), [true, true, 0, false, false, [3, 2], 1, [8192, 57344], 0, true, true, [1, 1], 3]);
  assert.equal(ro_rw("6", 64), [true, true, 0, false, false, [2, 1], 1, [8192, 57344], 0, true, true, [1, 1], 2]);
});

test("1 GiB: a HighMem vmalloc page has no alias: 2.6.34 flushes everything, 6.1 the one page, on each CPU", () => {
  // 2.6.34 __cpa_flush_range: __flush_tlb_all on both CPUs (+1 each); 6.1 cpa_flush: 1 page <= 33
  // and no alias, __cpa_flush_tlb: one invlpg on each CPU (+1 each). Nothing allocated.
  for (const era of ["2.6", "6"] as const) {
    assert.equal(ro_rw(era, 1024), [false, false, 0, false, null, [1, 1], 0, null, 0, true, null, [1, 1], 2], era);
  }
});

test("a write to a set_memory_ro page is a protection fault: Oops 0003 (2.6.34), #PF permissions violation (6.1)", () => {
  const oops = (era: "2.6" | "6") =>
    inTask(
      () =>
        Effect.gen(function* () {
          const a = yield* vmalloc(PAGE);
          yield* set_memory_ro(a, 1);
          mem_read(a, 4); // reading is allowed
          mem_write(a, 4);
        }),
      mach(era, 1024),
    ).reports;
  const old = oops("2.6");
  // The first vmalloc area starts at VMALLOC_START: high_memory 0xf77fe000 (MAXMEM) + 8 MiB.
  assert.equal(old.map((x) => x.title), ["BUG: unable to handle kernel paging request at f7ffe000"]);
  // The PTE: present, Accessed, Dirty, Global, no RW (0x161); die()'s error code 3 = PF_PROT | PF_WRITE.
  assert.match(old[0]!.text, /\*pde = [0-9a-f]{8} \*pte = [0-9a-f]{5}161 \nOops: 0003 \[#1\] PREEMPT SMP \n/);
  const now = oops("6")[0]!.text.split("\n");
  assert.equal(now.slice(0, 3), ["BUG: unable to handle page fault for address: f7ffe000", "#PF: supervisor write access in kernel mode", "#PF: error_code(0x0003) - permissions violation"]);
  assert.is(now[4], "Oops: 0003 [#1] PREEMPT SMP");
});

test("an unmapped page WARNs 'CPA: called for zero pte' and fails with -EFAULT; other addresses are bad input", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* vmalloc(PAGE);
        seen.push(yield* set_memory_ro(a + PAGE, 1)); // the guard page
      }),
    mach("2.6", 1024),
  );
  assert.equal(seen, [-14]);
  assert.equal(r.reports.map((x) => x.text.split("\n").slice(0, 2)), [["WARNING: at arch/x86/mm/pageattr.c __cpa_process_fault()", "CPA: called for zero pte. vaddr = f7fff000 cpa->vaddr = f7fff000"]]);
  assert.throws(
    () => inTask(() => Effect.flatMap(__get_free_page(GFP_KERNEL), (d) => set_memory_ro(d, 1)), mach("2.6")),
    /set_memory_ro\(0x[0-9a-f]{8}, 1\): mmsim changes page attributes of vmalloc and vmap addresses only \(0xc4800000-0xff7fe000\)/,
  );
});

test.run();
