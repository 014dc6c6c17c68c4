// CONFIG_DEBUG_SLAB (2.6.34) on a 64 MiB i386 machine, 2 CPUs: FORCED_DEBUG's layout, the
// poison and red-zone checks with their exact reports, the double-free BUG, STATS in slabinfo.
// The first slab of a run is the first GFP_KERNEL page, pfn 15360 (0xc3c00000), colour 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, reportText } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { slabinfo } from "../../../src/kernel/proc/slabinfo.ts";
import { parseMachineFile } from "../../../src/harness/machine_file.ts";
import { GFP_KERNEL, SLAB_POISON, format_kaddr, kfree, kmalloc, kmem_cache_alloc, kmem_cache_create, kmem_cache_free, kmem_cache_shrink, ksize, mem_write, memset } from "../../../src/kernel/index.ts";

const M = { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64, debug_slab: true } } as const;
const row = (name: string): string => slabinfo(kernel().mm!).split("\n").find((l) => l.startsWith(`${name} `))!;
const STATS0 = " : globalstat       0      0     0    0 \t\t\t\t   0    0    0    0    0 : cpustat      0      0      0      0";
const INACTIVE = "0x9f911029d74e35b"; // RED_INACTIVE 0x09f911029d74e35b as %llx

test("FORCED_DEBUG geometry of the general caches (red zones, user word, limit 32) and the (statistics) header", () => {
  const out: string[] = [];
  inTask(() => Effect.sync(() => out.push(slabinfo(kernel().mm!).split("\n")[0]!, ...["size-32", "size-64", "size-128", "size-1024", "size-4096"].map(row))), M);
  // size-N, N < 4096: red zones and the user word. align: HWCACHE's choice overridden by
  // STORE_USER (4) and RED_ZONE (8); obj_offset = align = 8; buffer = N + 8 + 8 + 8 (REDZONE_ALIGN
  // for the user word). On-slab below 512: num = (4096 - 28) / (buffer + 4) if the management,
  // ALIGN(28 + 4 num, 8), fits: 32 -> 56 bytes, 67; 64 -> 88, 44; 128 -> 152, 26. size-1024: 1048,
  // off-slab; order 0 holds 3 (952 left, more than an eighth), order 1 holds 7 (856 left) and
  // slab_break_gfp_order is 1; then the 56-byte management fits in what is left: on-slab after all.
  // size-4096: fls(4095) = 12 but fls(4095 + 24) = 13, so no red zones, only poison: as without
  // debug. Limits: 120 -> 32 (DEBUG's cap), batchcount 16; 24 and 12 above 1024 bytes.
  assert.equal(out, [
    "slabinfo - version: 2.1 (statistics)",
    "size-32                0      0     56   67    1 : tunables   32   16    8 : slabdata      0      0      0" + STATS0,
    "size-64                0      0     88   44    1 : tunables   32   16    8 : slabdata      0      0      0" + STATS0,
    "size-128               0      0    152   26    1 : tunables   32   16    8 : slabdata      0      0      0" + STATS0,
    "size-1024              0      0   1048    7    2 : tunables   24   12    8 : slabdata      0      0      0" + STATS0,
    "size-4096              0      0   4096    1    1 : tunables   24   12    8 : slabdata      0      0      0" + STATS0,
  ]);
});

test("a write into a freed object: 'Slab corruption' at its next allocation, with the bytes, a single-bit flag and the neighbours", () => {
  const out: (string | number)[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(100, GFP_KERNEL);
        out.push(format_kaddr(a), yield* ksize(a));
        yield* kfree(a);
        mem_write(a + 20, 4); // an unknown value: "??"
        memset(a + 40, 0x6a, 1); // 0x6b with one bit flipped
        out.push(format_kaddr(yield* kmalloc(100, GFP_KERNEL)));
      }),
    M,
  );
  // size-128: management 136 bytes, objects of 152 from 0xc3c00088; the refill's 16th, object
  // 15, is popped first: buffer 0x88 + 15 * 152 = 0x970, the caller's pointer 8 bytes on.
  // ksize() is obj_size: 128. The same object comes back (the array is last in, first out).
  assert.equal(out, ["c3c00978", 128, "c3c00978"]);
  const six = (n: number) => Array(n).fill("6b").join(" ");
  assert.equal(reportText(r, "slab_error"), [
    [
      "Slab corruption: size-128 start=c3c00978, len=128",
      `Redzone: ${INACTIVE}/${INACTIVE}.`,
      "Last user: (threadfn)",
      `010: ${six(4)} ?? ?? ?? ?? ${six(8)}`,
      `020: ${six(8)} 6a ${six(7)}`,
      "Single bit error detected. Probably bad RAM.",
      "Run memtest86+ or a similar memory test tool.",
      // Neighbours: objects 14 (0x8e0) and 16 (0xa10), never allocated: two lines each.
      "Prev obj: start=c3c008e0, len=128",
      `Redzone: ${INACTIVE}/${INACTIVE}.`,
      "Last user: (null)",
      `000: ${six(16)}`,
      `010: ${six(16)}`,
      "Next obj: start=c3c00a10, len=128",
      `Redzone: ${INACTIVE}/${INACTIVE}.`,
      "Last user: (null)",
      `000: ${six(16)}`,
      `010: ${six(16)}`,
    ].join("\n"),
  ]);
});

test("writing past the object: red zone 2 at kfree, 'memory outside object was overwritten', the zeroed bytes shown", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const a = yield* kmalloc(128, GFP_KERNEL);
        memset(a, 0, 132); // 4 bytes too many: the low half of red zone 2 (little-endian)
        yield* kfree(a);
      }),
    M,
  );
  const text = reportText(r, "slab_error");
  assert.is(text.length, 1);
  const lines = text[0]!.split("\n");
  assert.is(lines[0], "slab error in verify_redzone_free(): cache `size-128': memory outside object was overwritten");
  // RED_ACTIVE 0xd84156c5635688c0 with its low four bytes zeroed; %p is the buffer.
  assert.is(lines[lines.length - 1], "c3c00970: redzone 1:0xd84156c5635688c0, redzone 2:0xd84156c500000000.");
});

test("a double kfree: 'double free detected' (red zones already inactive), then the BUG when both copies reach the slab", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const c = (yield* kmem_cache_create("foo", 200, 0, 0))!;
        const x = yield* kmem_cache_alloc(c, GFP_KERNEL);
        yield* kmem_cache_free(c, x);
        yield* kmem_cache_free(c, x);
        yield* kmem_cache_shrink(c); // drains the array: the second copy finds itself on the chain
      }),
    M,
  );
  // foo: 200 -> 200 + 8 + 8 + 8 = 224-byte buffers, 17 a slab, management ALIGN(28 + 68, 8) = 96;
  // object 15: 0x60 + 15 * 224 = 0xd80.
  const err = reportText(r, "slab_error");
  assert.is(err.length, 1);
  assert.ok(err[0]!.startsWith("slab error in verify_redzone_free(): cache `foo': double free detected\n"), err[0]);
  assert.ok(err[0]!.endsWith(`\nc3c00d80: redzone 1:${INACTIVE}, redzone 2:${INACTIVE}.`), err[0]);
  assert.ok(r.log.some((l) => l.endsWith("slab: double free detected in cache 'foo', objp c3c00d80")));
  assert.equal(r.reports.map((x) => x.title).slice(-1), ["kernel BUG at mm/slab.c: slab_put_obj()!"]);
});

test("a freed object written before its slab is destroyed: the poison check at slab_destroy", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const c = (yield* kmem_cache_create("foo", 200, 0, 0))!;
        const x = yield* kmem_cache_alloc(c, GFP_KERNEL);
        yield* kmem_cache_free(c, x);
        mem_write(x + 8, 1);
        yield* kmem_cache_shrink(c);
      }),
    M,
  );
  const text = reportText(r, "slab_error");
  assert.is(text.length, 1);
  assert.equal(text[0]!.split("\n").slice(0, 5), [
    "Slab corruption: foo start=c3c00d88, len=200",
    `Redzone: ${INACTIVE}/${INACTIVE}.`,
    "Last user: (threadfn)",
    "000: 6b 6b 6b 6b 6b 6b 6b 6b ?? 6b 6b 6b 6b 6b 6b 6b",
    "Prev obj: start=c3c00ca8, len=200",
  ]);
});

test("STATS: 40 kmalloc(128) then 40 kfree, counted by hand", () => {
  const out: string[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const objs: number[] = [];
        for (let i = 0; i < 40; i++) objs.push(yield* kmalloc(128, GFP_KERNEL));
        for (const o of objs) yield* kfree(o);
        out.push(row("size-128"));
      }),
    M,
  );
  // Allocations: a miss refills 16 from a new slab (grown 1); 15 hits; a miss refills the slab's
  // other 10; 9 hits; a miss grows a second slab and refills 16; 13 hits (2 left in the array).
  // listallocs 16 + 10 + 16 = 42 = maxobjs; allochit 37, allocmiss 3. Frees: 30 hits fill the
  // array to its limit 32; the 31st misses and flushes 16 to the shared array (room: 8 x 16);
  // 9 more hit. The slabs hold 26 + 16 = 42 active of 52; the shared array 16.
  assert.equal(out, [
    "size-128              42     52    152   26    1 : tunables   32   16    8 : slabdata      2      2     16" +
      " : globalstat      42     42     2    0 \t\t\t\t   0    0    0    0    0 : cpustat     37      3     39      1",
  ]);
});

test("without CONFIG_DEBUG_SLAB: 2.6.34 BUGs on SLAB_POISON (not in CREATE_MASK); 6.1 masks it off", () => {
  const old = inTask(() => kmem_cache_create("foo", 200, 0, SLAB_POISON), { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } });
  assert.equal(old.reports.map((x) => x.title), ["kernel BUG at mm/slab.c: kmem_cache_create(): BUG_ON(flags & ~CREATE_MASK)!"]);
  const rows: string[] = [];
  const now = inTask(
    () =>
      Effect.gen(function* () {
        yield* kmem_cache_create("foo", 200, 0, SLAB_POISON);
        rows.push(row("foo"));
      }),
    { cpus: 2, memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  assert.equal(now.reports, []);
  // 200 bytes, word-aligned; 20 a page with 6.1's one-byte freelist indices (20 * 200 + 20 <= 4096).
  assert.match(rows[0]!, /^foo +0 +0 +200 +20 +1 : tunables/);
});

test("debug_slab is kernel 2.6 only: a machine file saying kernel 6 is refused, naming what is accepted", () => {
  assert.throws(() => parseMachineFile({ kernel: "6", debug_slab: true }), /"debug_slab" models 2\.6\.34's CONFIG_DEBUG_SLAB: it needs "kernel": "2\.6"/);
  assert.throws(() => parseMachineFile({ debug_slab: "yes" }), /"debug_slab" must be true or false/);
  assert.throws(() => inTask(() => Effect.void, { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64, debug_slab: true } }), /memory\.debug_slab models 2\.6\.34's CONFIG_DEBUG_SLAB/);
});

test.run();
