// KASAN (generic, 6.1) on a 64 MiB x86_64 kernel-6 machine, 2 CPUs: the report's exact text for a
// use-after-free, the bug types (slab-out-of-bounds, vmalloc-out-of-bounds, page use-after-free,
// double-free, invalid-free), memset's check, the quarantine delaying reuse, the switch, and the
// refusal off kernel 6.
import { test } from "uvu";
import * as Effect from "effect/Effect";
import * as assert from "uvu/assert";
import { inTask, reportText } from "../../helpers.ts";
import { parseMachineFile } from "../../../src/harness/machine_file.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { nr_free_pages } from "../../../src/kernel/mm/page_alloc.ts";
import { GFP_KERNEL, __free_pages, alloc_pages, format_kaddr, kfree, kmalloc, mem_read, memset, page_address, vfree, vmalloc } from "../../../src/kernel/index.ts";

const M = { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 }, kasan: true } as const;
/** The real address of stored address `a` plus `d`, as the report prints it. */
const hex = (a: number, d = 0): string => (0xffff800000000000n + BigInt(a + d)).toString(16);
/** A shadow row as print_memory_metadata() prints it: the row's address, 16 shadow bytes. */
const row = (mark: string, a: number, d: number, bytes: string): string => `${mark}${hex(a, d)}: ${bytes}`;
const fb = (n: number): string => Array(n).fill("fb").join(" ");
const fc = (n: number): string => Array(n).fill("fc").join(" ");

test("a kmalloc use-after-free read: the whole 6.1 report, tracks, object, page and shadow", () => {
  const at: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(100, GFP_KERNEL);
        at.push(a);
        yield* kfree(a);
        mem_read(a + 16, 8);
      }),
    M,
  );
  const a = at[0]!;
  const text = reportText(r, "kasan");
  assert.is(text.length, 1);
  // The object: kmalloc-128 with KASAN is 128 + 16 (alloc meta), raised to 128 + optimal_redzone
  // 64 = 192, aligned to the cache's natural 128: buffers 256 bytes apart, so `a` is 128-aligned
  // and the shadow row of 16 granules (128 bytes) holding a + 16 starts at `a`. The guilty row is
  // the third of five (rows a - 256 .. a + 256). Freed: the first granule is KASAN_SLAB_FREETRACK
  // (fa), the other 15 KASAN_SLAB_FREE (fb); the 128 bytes after the object are its redzone (fc).
  // The caret: 3 + 16 + granule 2 * 3 + 1 = 26th column.
  const lines = text[0]!.split("\n");
  const page = lines.findIndex((l) => l === "The buggy address belongs to the physical page:");
  assert.equal(lines.slice(0, page), [
    "=".repeat(66),
    "BUG: KASAN: use-after-free in threadfn",
    `Read of size 8 at addr ${hex(a, 16)} by task t/4`,
    "",
    lines[4]!, // CPU: N PID: 4 Comm: t Not tainted 6.1.0-mmsim #1 (whichever CPU ran it)
    "Call Trace:",
    " <TASK>",
    " dump_stack_lvl",
    " print_report",
    " kasan_report",
    " threadfn",
    " kthread",
    " </TASK>",
    "",
    "Allocated by task 4:",
    " kasan_save_stack",
    " kasan_set_track",
    " __kasan_kmalloc",
    " __kmalloc",
    " threadfn",
    " kthread",
    "",
    "Freed by task 4:",
    " kasan_save_stack",
    " kasan_set_track",
    " kasan_save_free_info",
    " ____kasan_slab_free",
    " __kasan_slab_free",
    " __kmem_cache_free",
    " kfree",
    " threadfn",
    " kthread",
    "",
    `The buggy address belongs to the object at ${hex(a)}`,
    " which belongs to the cache kmalloc-128 of size 128",
    "The buggy address is located 16 bytes inside of",
    ` 128-byte region [${hex(a)}, ${hex(a, 128)})`,
    "",
  ]);
  assert.match(lines[4]!, /^CPU: [01] PID: 4 Comm: t Not tainted 6\.1\.0-mmsim #1$/);
  // The page: its vmemmap struct page (64 bytes each), PG_slab.
  const pfn = Math.floor((a - (0xffff888000000000 - 0xffff800000000000)) / 4096);
  assert.equal(lines.slice(page + 1, page + 5), [
    `page:${(0xffffea0000000000n + BigInt(pfn) * 64n).toString(16)} refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
    "flags: 0x80(slab)",
    "page dumped because: kasan: bad access detected",
    "",
  ]);
  assert.equal(lines.slice(page + 5), [
    "Memory state around the buggy address:",
    lines[page + 6]!,
    lines[page + 7]!,
    row(">", a, 0, `fa ${fb(15)}`),
    `${" ".repeat(25)}^`,
    row(" ", a, 128, fc(16)),
    lines[page + 11]!,
    "=".repeat(66),
  ]);
  assert.ok(lines[page + 6]!.startsWith(` ${hex(a, -256)}: `) && lines[page + 7]!.startsWith(` ${hex(a, -128)}: `) && lines[page + 11]!.startsWith(` ${hex(a, 256)}: `));
  assert.is(r.reports.find((x) => x.kind === "kasan")!.title, "BUG: KASAN: use-after-free in threadfn");
});

test("one byte past a kmalloc(100): slab-out-of-bounds, the 13th granule 04 (4 of its 8 bytes accessible)", () => {
  const at: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(100, GFP_KERNEL);
        at.push(a);
        mem_read(a + 99, 1); // the last byte asked for: fine
        mem_read(a + 100, 1);
      }),
    M,
  );
  const a = at[0]!;
  const [t] = reportText(r, "kasan");
  assert.ok(t !== undefined);
  assert.match(t!, `BUG: KASAN: slab-out-of-bounds in threadfn\nRead of size 1 at addr ${hex(a, 100)} by task t/4\n`);
  assert.match(t!, `The buggy address is located 100 bytes inside of\n 128-byte region [${hex(a)}, ${hex(a, 128)})\n`);
  // 12 granules of 8 (96 bytes), one with 4 (100), the object's last 24 bytes redzone; the caret
  // under granule 12: column 3 + 16 + 36 + 1 = 56.
  assert.match(t!, `\n${row(">", a, 0, `00 00 00 00 00 00 00 00 00 00 00 00 04 fc fc fc`)}\n${" ".repeat(55)}^\n`);
  assert.not.match(t!, "Freed by task");
});

test("memset past the end: a Write of the whole length, memset and kasan_check_range in the trace, the write not done", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        memset(yield* kmalloc(100, GFP_KERNEL), 0, 101);
      }),
    M,
  );
  const [t] = reportText(r, "kasan");
  assert.match(t!, /BUG: KASAN: slab-out-of-bounds in threadfn\nWrite of size 101 at addr [0-9a-f]{16} by task t\/4\n/);
  assert.match(t!, "\n dump_stack_lvl\n print_report\n kasan_report\n kasan_check_range\n memset\n threadfn\n kthread\n");
});

test("double free: reported (6.1's header), the second free not done; invalid free of a pointer inside the object", () => {
  const at: number[] = [];
  const dbl = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(64, GFP_KERNEL);
        at.push(a);
        yield* kfree(a);
        yield* kfree(a);
        // Had the second free gone through, the array would hold `a` twice and hand it out twice.
        at.push(yield* kmalloc(64, GFP_KERNEL), yield* kmalloc(64, GFP_KERNEL));
      }),
    M,
  );
  const [t] = reportText(dbl, "kasan");
  assert.match(t!, `${"=".repeat(66)}\nBUG: KASAN: double-free in __kmem_cache_free\nFree of addr ${hex(at[0]!)} by task t/4\n`);
  assert.match(t!, "\n dump_stack_lvl\n print_report\n kasan_report_invalid_free\n ____kasan_slab_free\n __kasan_slab_free\n __kmem_cache_free\n kfree\n threadfn\n");
  assert.match(t!, "\nFreed by task 4:\n");
  assert.is(new Set(at).size, 3);
  assert.equal(dbl.reports.map((x) => x.kind), ["kasan"]);

  const mid: number[] = [];
  const inv = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(64, GFP_KERNEL);
        mid.push(a);
        yield* kfree(a + 8);
        mem_read(a, 64); // still allocated: no report
      }),
    M,
  );
  const [u] = reportText(inv, "kasan");
  assert.match(u!, `BUG: KASAN: invalid-free in __kmem_cache_free\nFree of addr ${hex(mid[0]!, 8)} by task t/4\n`);
  assert.match(u!, `The buggy address is located 8 bytes inside of\n 64-byte region [${hex(mid[0]!)}, ${hex(mid[0]!, 64)})\n`);
  assert.is(reportText(inv, "kasan").length, 1);
});

test("a large kmalloc freed through a pointer into its second page: invalid-free (the head page's address differs), and the whole block goes back", () => {
  const seen: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const k = kernel();
        const free0 = nr_free_pages(k.mm!);
        // 16 KiB is past 6.1 SLAB's largest kmalloc cache (8 KiB): an order-2 block of pages.
        const a = yield* kmalloc(16384, GFP_KERNEL);
        yield* kfree(a + 4096);
        seen.push(free0 - nr_free_pages(k.mm!));
      }),
    M,
  );
  const [t] = reportText(r, "kasan");
  assert.match(t!, /^={66}\nBUG: KASAN: invalid-free in free_large_kmalloc\nFree of addr [0-9a-f]+ by task t\/4\n/);
  // free_large_kmalloc() goes on with the folio's order: nothing left allocated, no Bad page state.
  assert.equal(seen, [0]);
  assert.equal(r.reports.map((x) => x.kind), ["kasan"]);
});

test("vmalloc(100): byte 100 is vmalloc-out-of-bounds, with the mapping and its caller", () => {
  const at: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const v = yield* vmalloc(100);
        at.push(v);
        mem_read(v + 96, 4);
        mem_read(v + 100, 4);
        yield* vfree(v);
      }),
    M,
  );
  const v = at[0]!;
  const [t] = reportText(r, "kasan");
  assert.match(t!, `BUG: KASAN: vmalloc-out-of-bounds in threadfn\nRead of size 4 at addr ${hex(v, 100)} by task t/4\n`);
  // The area is one page and its guard page; the page behind it is a plain page, no slab object.
  assert.match(t!, `\nThe buggy address belongs to the virtual mapping at\n [${hex(v)}, ${hex(v, 8192)}) created by:\n threadfn\n\nThe buggy address belongs to the physical page:\n`);
  assert.not.match(t!, "belongs to the object");
  assert.match(t!, `\n${row(">", v, 0, `00 00 00 00 00 00 00 00 00 00 00 00 04 f8 f8 f8`)}\n`);
});

test("a freed page read: use-after-free, KASAN_PAGE_FREE (ff) shadow, the physical page", () => {
  const at: number[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const p = yield* alloc_pages(GFP_KERNEL, 0);
        const a = page_address(p!);
        at.push(a);
        mem_read(a + 4088, 8);
        yield* __free_pages(p!, 0);
        mem_read(a + 8, 8);
      }),
    M,
  );
  const a = at[0]!;
  const [t] = reportText(r, "kasan");
  assert.match(t!, `BUG: KASAN: use-after-free in threadfn\nRead of size 8 at addr ${hex(a, 8)} by task t/4\n`);
  assert.match(t!, "\nThe buggy address belongs to the physical page:\npage:");
  assert.not.match(t!, "Allocated by task");
  assert.match(t!, `\n${row(">", a, 0, Array(16).fill("ff").join(" "))}\n`);
});

test("the quarantine delays reuse: the freed object is not the next kmalloc's; without KASAN it is", () => {
  const body = (out: number[]) => () =>
    Effect.gen(function* () {
      const a = yield* kmalloc(100, GFP_KERNEL);
      yield* kfree(a);
      out.push(a, yield* kmalloc(100, GFP_KERNEL));
    });
  const on: number[] = [];
  const off: number[] = [];
  inTask(body(on), M);
  inTask(body(off), { ...M, kasan: false });
  assert.is.not(on[1], on[0]);
  assert.is(off[1], off[0]);
});

test("the quarantine's limits: past 1 MiB this CPU's queue moves to the global one, which the next sleeping allocation trims", () => {
  // kmalloc(4000) is kmalloc-4k, whose KASAN buffers are 4096 + optimal_redzone 128, aligned to
  // 4096: 8 KiB. The 129th free takes this CPU's queue past QUARANTINE_PERCPU_SIZE (1 MiB = 128
  // buffers) into the global quarantine; its cap is 64 MiB / 32 less two CPUs' 1 MiB queues = 0,
  // so the 130th kmalloc (i = 129) frees that batch, after it took its own object (the trim is in
  // slab_post_alloc_hook), and the 131st (i = 130) gets a freed object back.
  const seen = new Set<number>();
  let first_reuse = -1;
  const r = inTask(
    () =>
      Effect.gen(function* () {
        for (let i = 0; i < 140; i++) {
          const a = yield* kmalloc(4000, GFP_KERNEL);
          if (seen.has(a) && first_reuse < 0) first_reuse = i;
          seen.add(a);
          yield* kfree(a);
        }
      }),
    M,
  );
  assert.is(first_reuse, 130);
  assert.equal(r.reports, []);
});

test("off by default: the same use-after-free reports nothing, and kasan: false is the machine without it", () => {
  const body = () =>
    Effect.gen(function* () {
      const a = yield* kmalloc(100, GFP_KERNEL);
      yield* kfree(a);
      mem_read(a + 16, 8);
    });
  const { kasan: _, ...plain } = M;
  const off = inTask(body, { ...M, kasan: false });
  assert.equal(reportText(off, "kasan"), []);
  assert.is(off.traceHash, inTask(body, plain).traceHash);
});

test("KASAN needs kernel 6 on x86_64: the 2.6 default and i386 are refused, naming the field; machine files are checked", () => {
  assert.throws(() => inTask(() => Effect.void, { cpus: 1, memory: { arch: "x86_64", kernel: "2.6", mb: 64 }, kasan: true }), /machine\.kasan: KASAN exists only in kernels 4\.0 and later; it needs "kernel": "6"/);
  assert.throws(() => inTask(() => Effect.void, { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64 }, kasan: true }), /machine\.kasan: generic KASAN is x86_64-only in 6\.1; it needs "arch": "x86_64"/);
  assert.throws(() => parseMachineFile({ kasan: "yes" }), /"kasan" must be true or false/);
  assert.throws(() => parseMachineFile({ kernel: "2.6", kasan: true }), /"kasan": KASAN exists only in kernels 4\.0 and later: it needs "kernel": "6"/);
  assert.throws(() => parseMachineFile({ arch: "i386", kernel: "6", kasan: true }), /it needs "arch": "x86_64"/);
  assert.is(parseMachineFile({ arch: "x86_64", kernel: "6", kasan: true }).kasan, true);
});

test.run();
