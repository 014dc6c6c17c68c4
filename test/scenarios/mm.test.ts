// The memory-pressure scenarios: each one's own check passes over a few seeds, and the numbers
// they are about come out as the Linux rules say.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const scn = (name: string) => findScenario(name)!;

test("atomic-storm: GFP_ATOMIC digs below min but not past 3/8 of it; the workers block and finish", () => {
  for (const seed of [1, 2, 3]) {
    const r = runScenario(scn("atomic-storm"), { seed });
    assert.is(r.failed, false, `seed ${seed}: ${r.expectations.join("; ")}`);
    // Only the expected kind: "swapper/1: page allocation failure. order:0, mode:0x20" (GFP_ATOMIC).
    assert.ok(r.reports.length > 0 && r.reports.every((x) => x.kind === "alloc_failure" && /page allocation failure\. order:0, mode:0x20$/.test(x.title)));
    const sleeps = r.stats.tasks.filter((t) => t.comm.startsWith("worker/")).map((t) => t.nvcsw);
    assert.ok(sleeps.length === 2 && sleeps[0]! + sleeps[1]! > 0, `workers slept ${sleeps.join(", ")} times`);
    const mm = r.stats.mm!;
    // Every failure printed is a counted one; printk_ratelimit may hide some (10 per 5 s).
    assert.ok(mm.kswapd_wakeups > 0 && mm.alloc_failures >= r.reports.length && r.reports.length <= 10);
    // netrx frees 60 buffers a millisecond of the storm, the storm brings 150: it frees some, but
    // at most 60/150 of what arrived (plus one batch of rounding), and every drop is a failure.
    const m = /storm over: (\d+) packets buffered \((\d+) freed by netrx meanwhile\), (\d+) dropped/.exec(r.log.join("\n"))!;
    const [buffered, freed, dropped] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.ok(freed > 0 && freed <= (60 / 150) * (buffered + dropped) + 60, `netrx freed ${freed} of ${buffered} buffered (${dropped} dropped)`);
    assert.is(mm.alloc_failures, dropped);
    // In the end netrx has freed every buffer and the workers their pages: what is still
    // allocated is exactly the page cache.
    const v = mm.vmstat;
    assert.is(v.pgalloc_normal! + v.pgalloc_dma! - v.pgfree!, v.nr_file_pages);
  }
});

test("fragmentation: order 4 fails with half of memory free; the Mem-Info shows single pages", () => {
  const r = runScenario(scn("fragmentation"), { seed: 1, proc: ["buddyinfo"] });
  assert.is(r.failed, false, r.expectations.join("; "));
  assert.is(r.reports.length, 1);
  const text = r.reports[0]!.text;
  // GFP_KERNEL is 0xd0 in 2.6.34.
  assert.is(r.reports[0]!.title, "fragger: page allocation failure. order:4, mode:0xd0");
  assert.match(text, /\nNormal: \d{4}\*4kB /);
  assert.match(text, /\nDMA: \d{4}\*4kB /);
  // The end state, worked by hand. 32 MiB: DMA pfn 0..4095, Normal 4096..8191, both min 90
  // (pages_min 724 KiB / 4 = 181, half each), low 112; DMA keeps 4096/256 = 16 for Normal
  // requests; pcp batch 1, high 0, so every free goes straight back to the buddy lists.
  // GFP_ATOMIC takes pages in ascending pfn order within each order-10 block, highest block
  // first: Normal down to its low mark (112 left: 5008..5119), then DMA to 112 + 16 (896..1023),
  // then with 3/8 of min (34) Normal to 34 (5086..5119: an order-1 and an order-5 block) and
  // DMA to 34 + 16 (974..1023: orders 1, 4 and 5). Freeing every other page of the sorted list
  // frees every even pfn taken (the list starts at pfn 0 and each run of taken pages starts on
  // an even pfn): Normal 990/2 + 3072/2 = 2031 single pages, DMA 974/2 + 3072/2 = 2023, none
  // with a free buddy. The order-4 request fails 2.6.34's walk although the reserve's order-5
  // blocks are free: Normal 2065 - 15 = 2050 > 112, but less the 2031 single pages 19 <= 112/2.
  assert.is(
    r.proc.buddyinfo,
    "Node 0, zone      DMA   2023      1      0      0      1      1      0      0      0      0      0 \n" +
      "Node 0, zone   Normal   2031      1      0      0      0      1      0      0      0      0      0 \n",
  );
});

test("zone-lock: pcp lists cut zone->lock traffic from every page to a few batches", () => {
  const on = runScenario(scn("zone-lock"), { seed: 1 });
  const off = runScenario(scn("zone-lock-nopcp"), { seed: 1 });
  assert.is(on.failed, false);
  assert.is(off.failed, false);
  const zl = (r: typeof on) => r.stats.locks.filter((l) => l.name === "&zone->lock").reduce((a, l) => ({ acq: a.acq + l.acquisitions, cont: a.cont + l.contentions, wait: a.wait + l.wait_total_ns }), { acq: 0, cont: 0, wait: 0 });
  const a = zl(on);
  const b = zl(off);
  // Without pcp: one acquisition per allocation and per free: 2 * 8 CPUs * 40 rounds * 48 pages.
  assert.is(b.acq, 30720);
  // With pcp (batch 31, high 186): each CPU refills twice in its first round, then lives off its list.
  assert.is(a.acq, 16);
  assert.ok(b.cont > 100 * a.cont, `contentions ${a.cont} with pcp, ${b.cont} without`);
  assert.ok(b.wait > 10 * a.wait && off.virtualTimeNs > 2 * on.virtualTimeNs);
});

test("oom-killer (2.6): the hog is killed with 2.6.34's lines and the editors finish", () => {
  const r = runScenario(scn("oom-killer"), { seed: 1 });
  assert.is(r.failed, false, r.expectations.join("; "));
  assert.is(r.reports.length, 1);
  const text = r.reports[0]!.text;
  const m = /\nOut of memory: kill process (\d+) \(hog\) score (\d+) or a child\nKilled process \1 \(hog\) vsz:(\d+)kB, anon-rss:(\d+)kB, file-rss:0kB$/.exec(text);
  assert.ok(m, text.slice(-300));
  // vsz is total_vm in KiB: the pages the hog mapped, 64 at a time. The score is total_vm / 16
  // (a root process: / 4 for CAP_SYS_ADMIN, / 4 for CAP_SYS_RAWIO). anon-rss is what it had
  // faulted in: all but the rest of the chunk it was touching.
  const total_vm = Number(m![3]) / 4;
  assert.is(total_vm % 64, 0);
  assert.is(Number(m![2]), total_vm / 16);
  assert.ok(Number(m![4]) <= 4 * total_vm && Number(m![4]) > 4 * (total_vm - 64), `anon-rss ${m![4]}kB, vsz ${m![3]}kB`);
  // Whoever's fault found memory exhausted first invokes it: GFP_HIGHUSER_MOVABLE | __GFP_ZERO.
  assert.match(r.reports[0]!.title, /^(hog|editor1|editor2) invoked oom-killer: gfp_mask=0x280da, order=0, oom_adj=0$/);
  assert.not.match(text, /Tasks state/); // 2.6.34: oom_dump_tasks defaults to 0
  assert.is(r.stats.mm!.oom_kills, 1);
  // Every process page came back; what is still allocated is the page cache the hog read.
  const v = r.stats.mm!.vmstat;
  assert.is(v.pgalloc_normal! + v.pgalloc_dma! - v.pgfree!, v.nr_file_pages);
});

test("oom-killer (6): 6.1's lines, with the task table and the constraint summary", () => {
  const r = runScenario(scn("oom-killer"), { seed: 1, machine: { memory: { arch: "i386", kernel: "6", mb: 32 } } });
  assert.is(r.failed, false, r.expectations.join("; "));
  const text = r.reports[0]!.text;
  assert.is(r.reports[0]!.title, "hog invoked oom-killer: gfp_mask=0x100dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), order=0, oom_score_adj=0");
  assert.match(text, /\nTasks state \(memory values in pages\):\n\[  pid  \]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n/);
  const m = /\noom-kill:constraint=CONSTRAINT_NONE,nodemask=\(null\),task=hog,pid=(\d+),uid=0\nOut of memory: Killed process \1 \(hog\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:(\d+)kB oom_score_adj:0$/.exec(text);
  assert.ok(m, text.slice(-400));
  // The hog's mappings run down from mmap_base (0xb8000000, 4 MiB aligned) without a gap, and a
  // PTE table maps 4 MiB (1024 pages) on i386 without PAE: ceil(total_vm / 1024) tables.
  const total_vm = Number(m![2]) / 4;
  assert.is(Number(m![4]), 4 * Math.ceil(total_vm / 1024));
  // The task table's row says the same in pages and bytes.
  const row = new RegExp(`\\n\\[ *${m![1]}\\] +0 +${m![1]} +${total_vm} +${Number(m![3]) / 4} +${Number(m![4]) * 1024} +0 +0 hog\\n`);
  assert.match(text, row);
});

test("false sharing: counters in one line bounce it on most writes; padded, each stays in its CPU's cache", () => {
  const shared = runScenario(scn("false-sharing"), { seed: 1 });
  const padded = runScenario(scn("false-sharing-padded"), { seed: 1 });
  assert.is(shared.failed, false);
  assert.is(padded.failed, false);
  const sum = (r: typeof shared, f: (c: (typeof r.stats.cpus)[number]) => number) => r.stats.cpus.reduce((a, c) => a + f(c), 0);
  // 4 CPUs x 2000 increments, each a read and a write of the CPU's 8-byte counter.
  for (const c of padded.stats.cpus) {
    // One TLB miss (the direct map's 4 MiB page), then 3999 hits; two cache misses (the page
    // directory entry the walk read, and the counter's line), the rest hits.
    assert.equal([c.tlb.misses, c.tlb.hits, c.cache.misses, c.cache.hits, c.cache.false_sharing], [1, 3999, 2, 3999, 0]);
  }
  assert.ok(sum(shared, (c) => c.cache.false_sharing) > 6000, `${sum(shared, (c) => c.cache.false_sharing)} false-sharing writes of 8000`);
  assert.ok(sum(shared, (c) => c.task_ns) > 1.3 * sum(padded, (c) => c.task_ns));
});

test("stale-tlb: a page unmapped and freed without a TLB flush is read through CPU1's stale entry", () => {
  const bad = runScenario(scn("stale-tlb"), { seed: 1 });
  assert.equal(bad.reports.map((x) => x.title), ["BUG: stale TLB entry: use-after-free at c4800000"]);
  assert.is(bad.failed, false); // the report is what the scenario shows
  const fixed = runScenario(scn("stale-tlb-fixed"), { seed: 1 });
  assert.equal(fixed.reports, []);
  // The flush reached CPU1 by IPI: one shootdown there.
  assert.equal(fixed.stats.cpus.map((c) => c.tlb.shootdowns), [0, 1]);
});

test("kmap-atomic-irq: a handler taking the task's KM_USER0 slot hits the BUG; with KM_IRQ0 it runs clean", () => {
  const bad = runScenario(scn("kmap-atomic-irq"), { seed: 1 });
  assert.equal(bad.reports.map((x) => x.title), ["kernel BUG at arch/x86/mm/highmem_32.c: kmap_atomic(KM_USER0) on CPU0: the slot still maps pfn 377fe for copier!"]);
  assert.match(bad.stop, /^stopped: kernel BUG/);
  const fixed = runScenario(scn("kmap-atomic-irq-fixed"), { seed: 1 });
  assert.is(fixed.failed, false, fixed.expectations.join("; "));
  assert.equal(fixed.reports, []);
});

test("kmap-pressure: the second kmap user sleeps for slots and both finish", () => {
  const r = runScenario(scn("kmap-pressure"), { seed: 1 });
  assert.is(r.failed, false, r.expectations.join("; "));
});

test("tlb-reach: 4 MiB from the direct map costs one TLB miss, from vmalloc 1024; a word a page shows the walks", () => {
  const r = runScenario(scn("tlb-reach"), { seed: 1 });
  assert.is(r.failed, false, r.expectations.join("; "));
  // The strided passes, from the default costs (page_walk 20, cache_hit 1, memory 80): the direct
  // map's keeps its large TLB entry and misses the cache on each of its 1024 words: 81920 ns;
  // vmalloc's adds 1024 walks (20 + a PDE hit, 1) and the PTE page's lines (63 read from memory
  // once and hit 15 times, the last one cached: 16 hits): 21504 + 5985 + 16 = 27505 ns more.
  const line = r.log.find((l) => l.includes("one word a page:"))!;
  assert.ok(line.endsWith("one word a page: direct map 0 TLB misses, 81.9 us; vmalloc 1024 TLB misses, 109.4 us"), line);
  // Other costs move the difference as the scenario's own check derives it: a 100 ns walk.
  const slow = runScenario(scn("tlb-reach"), { seed: 1, machine: { costs: { page_walk: 100 } } });
  assert.is(slow.failed, false, slow.expectations.join("; "));
  assert.ok(slow.log.some((l) => l.endsWith("vmalloc 1024 TLB misses, 191.3 us")), slow.log.join("\n")); // 81920 + 27505 + 1024 x 80
});

test("vfree-shootdown: each vfree waits for more IPIs on 16 CPUs than on 4", () => {
  const per = (cpus: number) => {
    const r = runScenario(scn("vfree-shootdown"), { seed: 1, cpus });
    assert.is(r.failed, false);
    // Every CPU but the freer's took 20 flush IPIs.
    assert.equal(r.stats.cpus.map((c) => c.tlb.shootdowns), [0, ...Array(cpus - 1).fill(20)]);
    return Number(/vfree on \d+ CPUs: ([\d.]+) us each/.exec(r.log.join("\n"))![1]);
  };
  const four = per(4);
  const sixteen = per(16);
  // 12 more IPIs at 300 ns each, at least.
  assert.ok(sixteen - four >= 3.6, `${four} us on 4 CPUs, ${sixteen} us on 16`);
});

test("vmalloc-fault: a process created before the vmalloc takes exactly one lazy vmalloc fault", () => {
  const r = runScenario(scn("vmalloc-fault"), { seed: 1 });
  assert.is(r.failed, false, r.expectations.join("; "));
  assert.ok(r.log.some((l) => l.endsWith("app: read the driver's buffer after 1 vmalloc fault(s)")));
});

test("vmalloc-fault on kernel 6, or with PAE: app's page table sees the new entry at once, so the read takes no fault", () => {
  // 6.1 copies the new pgd entry into app's table at map time; PAE (both eras) shares the one
  // kernel PMD among all pgds, so the new PTE table is already in app's view.
  const machines = [
    { arch: "i386", kernel: "6", mb: 64 },
    { arch: "x86_64", kernel: "6", mb: 64 },
    { arch: "i386", kernel: "2.6", mb: 64, pae: true },
    { arch: "i386", kernel: "6", mb: 64, pae: true },
  ] as const;
  for (const memory of machines) {
    const r = runScenario(scn("vmalloc-fault"), { seed: 1, machine: { memory } });
    assert.is(r.failed, false, `${JSON.stringify(memory)}: ${r.expectations.join("; ")}`);
    assert.ok(r.log.some((l) => l.endsWith("app: read the driver's buffer after 0 vmalloc fault(s)")), JSON.stringify(memory));
  }
});

test.run();
