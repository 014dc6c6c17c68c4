// /proc files of freshly booted 16 MiB machines (one DMA zone, one CPU), worked by hand:
// lowmem 16384 KiB -> min_free_kbytes = int_sqrt(16384 * 16) = 512 -> pages_min 128, all in DMA.
// 2.6: low = 128 + 128/4 = 160, high = 128 + 128/2 = 192. 6: d = max(32, 4096 * 10 / 10000) = 32,
// so the same 160 / 192. pcp batch: 4096/1024 = 4, /4 = 1, rounddown_pow2(1) - 1 = 0 -> 1; high
// 2.6: 6 * 0 = 0; 6: max(low / 1 CPU, 4 * 1) = 160. vm stats threshold: 4096 >> 15 = 0, so
// 2 * fls(1) * (1 + fls(0)) = 2.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { procOfFreshMachine } from "../../../src/harness/run.ts";
import { inTask } from "../../helpers.ts";
import { kernel } from "../../../src/kernel/kernel.ts";
import { page_cache_fill } from "../../../src/kernel/index.ts";

const i386 = { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 16 } } as const;
const x86_64_6 = { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 16 } } as const;

const zeros = (names: string, indent: string) => names.split(" ").map((n) => `${indent}${n.padEnd(12)} 0`);

test("2.6 zoneinfo: populated zones only, stats indented 4, 2.6.34's tail", () => {
  const expected = [
    "Node 0, zone      DMA",
    "  pages free     4096",
    "        min      128",
    "        low      160",
    "        high     192",
    "        scanned  0",
    "        spanned  4096",
    "        present  4096",
    "    nr_free_pages 4096",
    ...zeros(
      "nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable nr_mlock nr_anon_pages nr_mapped nr_file_pages nr_dirty nr_writeback nr_slab_reclaimable nr_slab_unreclaimable nr_page_table_pages nr_kernel_stack nr_unstable nr_bounce nr_vmscan_write nr_writeback_temp nr_isolated_anon nr_isolated_file nr_shmem",
      "    ",
    ),
    "        protection: (0, 0, 0, 0)",
    "  pagesets",
    "    cpu: 0",
    "              count: 0",
    "              high:  0",
    "              batch: 1",
    "  vm stats threshold: 2",
    "  all_unreclaimable: 0",
    "  prev_priority:     12",
    "  start_pfn:         0",
    "  inactive_ratio:    1",
    "",
  ].join("\n");
  assert.fixture(procOfFreshMachine(i386, "zoneinfo"), expected);
});

test("6 zoneinfo: every zone, node stats under the first populated one, empty zones cut short", () => {
  const empty = (name: string) => [
    `Node 0, zone ${name.padStart(8)}`,
    "  pages free     0",
    "        boost    0",
    "        min      0",
    "        low      0",
    "        high     0",
    "        spanned  0",
    "        present  0",
    "        managed  0",
    "        cma      0",
    "        protection: (0, 0, 0, 0)",
  ];
  const node = "nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable nr_slab_reclaimable nr_slab_unreclaimable nr_isolated_anon nr_isolated_file workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim nr_anon_pages nr_mapped nr_file_pages nr_dirty nr_writeback nr_writeback_temp nr_shmem nr_shmem_hugepages nr_shmem_pmdmapped nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write nr_vmscan_immediate_reclaim nr_dirtied nr_written nr_throttled_written nr_kernel_misc_reclaimable nr_foll_pin_acquired nr_foll_pin_released nr_kernel_stack nr_page_table_pages nr_sec_page_table_pages nr_swapcached";
  const expected = [
    "Node 0, zone      DMA",
    "  per-node stats",
    ...zeros(node, "      "),
    "  pages free     4096",
    "        boost    0",
    "        min      128",
    "        low      160",
    "        high     192",
    "        spanned  4096",
    "        present  4096",
    "        managed  4096",
    "        cma      0",
    "        protection: (0, 0, 0, 0)",
    "      nr_free_pages 4096",
    ...zeros("nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file nr_zone_unevictable nr_zone_write_pending nr_mlock nr_bounce nr_zspages nr_free_cma", "      "),
    "  pagesets",
    "    cpu: 0",
    "              count: 0",
    "              high:  160",
    "              batch: 1",
    "  vm stats threshold: 2",
    "  node_unreclaimable:  0",
    "  start_pfn:           0",
    ...empty("DMA32"),
    ...empty("Normal"),
    ...empty("Movable"),
    "",
  ].join("\n");
  assert.fixture(procOfFreshMachine(x86_64_6, "zoneinfo"), expected);
});

test("6 zoneinfo without a DMA zone: the empty DMA zone prints protection: (0, 0, 0, 0)", () => {
  // 6.1 setup_per_zone_lowmem_reserve clears a zone's reserves when it has no managed pages; the
  // populated DMA32 zone (1 GiB) keeps Normal's 65536 pages / 256 = 256 for Normal and Movable.
  const machine = { cpus: 1, memory: { arch: "x86_64", kernel: "6", zones: [{ name: "DMA32", managed: 262144 }, { name: "Normal", managed: 65536 }] } } as const;
  const protection = procOfFreshMachine(machine, "zoneinfo")
    .split("\n")
    .filter((l) => /^Node 0, zone|protection:/.test(l));
  assert.equal(protection, [
    "Node 0, zone      DMA",
    "        protection: (0, 0, 0, 0)",
    "Node 0, zone    DMA32",
    "        protection: (0, 0, 256, 256)",
    "Node 0, zone   Normal",
    "        protection: (0, 0, 0, 0)",
    "Node 0, zone  Movable",
    "        protection: (0, 0, 0, 0)",
  ]);
});

test("2.6 meminfo on i386: 16-column labels, HighTotal..LowFree, vmalloc from high_memory + 8 MiB", () => {
  // VmallocTotal = (0xff7fe000 - (0xc1000000 + 0x800000)) / 1024 = 1015800 kB. The direct map:
  // 4 MiB pages for 3 of the 4 large pages, the first one in 4 KiB pages.
  const kb = (l: string, v: number) => `${l}${String(v).padStart(8)} kB`;
  const expected = [
    kb("MemTotal:       ", 16384),
    kb("MemFree:        ", 16384),
    ...["Buffers:        ", "Cached:         ", "SwapCached:     ", "Active:         ", "Inactive:       ", "Active(anon):   ", "Inactive(anon): ", "Active(file):   ", "Inactive(file): ", "Unevictable:    ", "Mlocked:        ", "HighTotal:      ", "HighFree:       "].map((l) => kb(l, 0)),
    kb("LowTotal:       ", 16384),
    kb("LowFree:        ", 16384),
    ...["SwapTotal:      ", "SwapFree:       ", "Dirty:          ", "Writeback:      ", "AnonPages:      ", "Mapped:         ", "Shmem:          ", "Slab:           ", "SReclaimable:   ", "SUnreclaim:     ", "KernelStack:    ", "PageTables:     ", "NFS_Unstable:   ", "Bounce:         ", "WritebackTmp:   "].map((l) => kb(l, 0)),
    kb("CommitLimit:    ", 8192),
    kb("Committed_AS:   ", 0),
    kb("VmallocTotal:   ", 1015800),
    kb("VmallocUsed:    ", 0),
    kb("VmallocChunk:   ", 1015800),
    "HugePages_Total:       0",
    "HugePages_Free:        0",
    "HugePages_Rsvd:        0",
    "HugePages_Surp:        0",
    kb("Hugepagesize:   ", 4096),
    kb("DirectMap4k:    ", 4096),
    kb("DirectMap4M:    ", 12288),
    "",
  ].join("\n");
  assert.fixture(procOfFreshMachine(i386, "meminfo"), expected);
});

test("6 meminfo: MemAvailable = free - totalreserve + half the page cache", () => {
  // totalreserve = min(max lowmem_reserve (0) + high (192), 4096) = 192: 4096 - 192 = 3904 pages.
  const m = procOfFreshMachine(x86_64_6, "meminfo");
  assert.ok(m.includes("\nMemAvailable:      15616 kB\n"), m);
  assert.ok(m.startsWith("MemTotal:          16384 kB\nMemFree:           16384 kB\nMemAvailable:"));
  assert.ok(m.includes("\nVmallocTotal:   34359738367 kB\n"));
  // x86_64 maps all 16 MiB with 2 MiB pages (only 32-bit keeps the first large page in 4 KiB pages).
  assert.ok(m.endsWith("Hugetlb:               0 kB\nDirectMap4k:           0 kB\nDirectMap2M:       16384 kB\n"), m);
});

test("6 meminfo with page cache: MemAvailable counts the file pages beyond half, up to the low watermarks", () => {
  // 1000 clean file pages on the 16 MiB x86_64 machine; wmark_low = 160 (DMA only), so
  // pagecache - min(pagecache / 2, 160) = 840 of them count, on top of free - totalreserve (192).
  let free = 0;
  const r = inTask(
    () =>
      Effect.gen(function* () {
        yield* page_cache_fill(1000);
        free = kernel().mm!.zones.reduce((s, z) => s + z.free_pages, 0);
      }),
    x86_64_6,
    { proc: ["meminfo"] },
  );
  const want = (free - 192 + 840) * 4;
  assert.ok(r.proc.meminfo!.includes(`\nMemAvailable:   ${String(want).padStart(8)} kB\n`), r.proc.meminfo!.slice(0, 200));
  assert.ok(r.proc.meminfo!.includes(`\nActive(file):          0 kB\nInactive(file):     4000 kB\n`));
});

test("vmstat: 72 items for 2.6.34 (i386 zone suffixes), 156 lines for 6.1 ending in nr_unstable 0", () => {
  const v26 = procOfFreshMachine(i386, "vmstat").trimEnd().split("\n");
  assert.is(v26.length, 72);
  assert.equal(v26.filter((l) => l.startsWith("pgalloc_")), ["pgalloc_dma 0", "pgalloc_normal 0", "pgalloc_high 0", "pgalloc_movable 0"]);
  assert.is(v26[0], "nr_free_pages 4096");
  assert.is(v26[71], "unevictable_pgs_mlockfreed 0");
  const v6 = procOfFreshMachine(x86_64_6, "vmstat").trimEnd().split("\n");
  assert.is(v6.length, 156);
  assert.is(v6[155], "nr_unstable 0");
  assert.equal(v6.filter((l) => l.startsWith("allocstall_")), ["allocstall_dma 0", "allocstall_dma32 0", "allocstall_normal 0", "allocstall_movable 0"]);
  // global_dirtyable_memory = 4096 - 192 + 0 + 1 = 3905; 819 * 3905 / 4096 = 780, 409 * 3905 / 4096 = 389.
  assert.ok(v6.includes("nr_dirty_threshold 780") && v6.includes("nr_dirty_background_threshold 389"));
});

test.run();
