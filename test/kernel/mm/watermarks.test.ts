// Zone sizing formulas against numbers worked by hand (see each comment).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as W from "../../../src/kernel/mm/watermarks.ts";

// i386, 2.6.34, by present pages: DMA 4096, Normal 221184, HighMem 32768 (+ an empty Movable).
const i386: W.ZoneSize[] = [
  { name: "DMA", highmem: false, present: 4096, managed: 4096 },
  { name: "Normal", highmem: false, present: 221184, managed: 221184 },
  { name: "HighMem", highmem: true, present: 32768, managed: 32768 },
  { name: "Movable", highmem: false, present: 0, managed: 0 },
];

test("2.6: min_free_kbytes = int_sqrt(901120 * 16) = 3797", () => {
  // lowmem = (4096 + 221184) pages * 4 KiB = 901120 KiB; sqrt(14417920) = 3797.09
  assert.is(W.default_min_free_kbytes(i386, "2.6"), 3797);
  assert.is(W.int_sqrt(14417920), 3797);
});

test("2.6 watermarks: pages_min 949 spread over 225280 lowmem pages", () => {
  // DMA: tmp = 949*4096/225280 = 17 -> 17, 17+4, 17+8
  // Normal: tmp = 949*221184/225280 = 931 -> 931, 931+232, 931+465
  // HighMem: min = clamp(32768/1024, 32, 128) = 32; tmp = 949*32768/225280 = 138 -> 32+34, 32+69
  assert.equal(W.setup_per_zone_wmarks(i386, 3797, "2.6").slice(0, 3), [
    { min: 17, low: 21, high: 25 },
    { min: 931, low: 1163, high: 1396 },
    { min: 32, low: 66, high: 101 },
  ]);
});

test("2.6 lowmem_reserve: (0, 864, 992, 992) for DMA, (0, 0, 1024, 1024) for Normal", () => {
  // DMA: 221184/256 = 864; (221184+32768)/256 = 992. Normal: 32768/32 = 1024.
  assert.equal(W.setup_per_zone_lowmem_reserve(i386, "2.6"), [
    [0, 864, 992, 992],
    [0, 0, 1024, 1024],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
});

test("2.6 pcp: Normal batch 31 high 186, DMA batch 1 high 0", () => {
  // Normal: 221184/1024 = 216 pages = 864 KiB > 512 KiB -> 128; /4 = 32; rounddown_pow2(48) - 1 = 31
  assert.equal(W.pageset_high_batch(i386[1]!, "2.6", 0, 2), { high: 186, batch: 31 });
  // DMA: 4096/1024 = 4; /4 = 1; rounddown_pow2(1) - 1 = 0 -> high 0, batch max(1, 0) = 1
  assert.equal(W.pageset_high_batch(i386[0]!, "2.6", 0, 2), { high: 0, batch: 1 });
});

// x86_64, kernel 6, the machine file example of issue 3: managed DMA 3840, DMA32 772808, Normal 131072.
const x64: W.ZoneSize[] = [
  { name: "DMA", highmem: false, present: 3999, managed: 3840 },
  { name: "DMA32", highmem: false, present: 782000, managed: 772808 },
  { name: "Normal", highmem: false, present: 131072, managed: 131072 },
];

test("6.x watermarks with min_free_kbytes 67584 and watermark_scale_factor 10", () => {
  // pages_min = 16896; lowmem = 907720 managed pages.
  // DMA: tmp = 16896*3840/907720 = 71; d = max(17, 3) = 17 -> 71, 88, 105
  // DMA32: tmp = 14384; d = max(3596, 772) = 3596 -> 14384, 17980, 21576
  // Normal: tmp = 2439; d = max(609, 131) = 609 -> 2439, 3048, 3657
  assert.equal(W.setup_per_zone_wmarks(x64, 67584, "6"), [
    { min: 71, low: 88, high: 105 },
    { min: 14384, low: 17980, high: 21576 },
    { min: 2439, low: 3048, high: 3657 },
  ]);
});

test("6.x lowmem_reserve by managed pages", () => {
  // DMA: 772808/256 = 3018; 903880/256 = 3530. DMA32: 131072/256 = 512.
  assert.equal(W.setup_per_zone_lowmem_reserve(x64, "6"), [
    [0, 3018, 3530],
    [0, 0, 512],
    [0, 0, 0],
  ]);
});

test("6.1 lowmem_reserve: a zone with no managed pages keeps none (clear); 2.6.34 computes it anyway", () => {
  // x86_64 with only DMA32 (262144) and Normal (65536): DMA is empty, so 6.1's `clear` zeroes its
  // row. DMA32: 65536/256 = 256 for Normal and Movable. Normal: Movable's 0 pages / 32 = 0.
  const noDma: W.ZoneSize[] = [
    { name: "DMA", highmem: false, present: 0, managed: 0 },
    { name: "DMA32", highmem: false, present: 262144, managed: 262144 },
    { name: "Normal", highmem: false, present: 65536, managed: 65536 },
    { name: "Movable", highmem: false, present: 0, managed: 0 },
  ];
  assert.equal(W.setup_per_zone_lowmem_reserve(noDma, "6"), [
    [0, 0, 0, 0],
    [0, 0, 256, 256],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  // 2.6.34 has no such test: DMA gets 262144/256 = 1024, then 327680/256 = 1280.
  assert.equal(W.setup_per_zone_lowmem_reserve(noDma, "2.6")[0], [0, 1024, 1280, 1280]);
  // A zone with pages but ratio 0 (HighMem, Movable) has none in 6.1 either: i386 6.1, the
  // Normal row is 32768/32 = 1024, the HighMem row 0.
  assert.equal(W.setup_per_zone_lowmem_reserve(i386, "6")[2], [0, 0, 0, 0]);
});

test("6.x min_free_kbytes default is clamped at 262144", () => {
  // 2^31 pages = 2^33 KiB: int_sqrt(2^37) = 370727, above both clamps. (256 GiB gives exactly 65536.)
  const big: W.ZoneSize[] = [{ name: "Normal", highmem: false, present: 2 ** 31, managed: 2 ** 31 }];
  const at256: W.ZoneSize[] = [{ name: "Normal", highmem: false, present: 2 ** 26, managed: 2 ** 26 }];
  assert.is(W.default_min_free_kbytes(at256, "6"), 65536);
  assert.is(W.default_min_free_kbytes(big, "6"), 262144);
  assert.is(W.default_min_free_kbytes(big, "2.6"), 65536);
});

test.run();
