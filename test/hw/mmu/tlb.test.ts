// The TLB: hits and misses, LRU within a set, large pages, flushes that keep or drop globals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Tlb } from "../../../src/hw/mmu/tlb.ts";

const t4k = (pfn: number, global = false, dirty = false) => ({ pfn, page_shift: 12, writable: true, user: false, global, dirty });

test("a miss, then a hit after the walk's translation is inserted", () => {
  const tlb = new Tlb();
  assert.is(tlb.lookup(0x5000), null);
  tlb.insert(0x5000, t4k(77));
  assert.equal(tlb.lookup(0x5abc), t4k(77));
  assert.equal([tlb.hits, tlb.misses], [1, 1]);
});

test("an entry keeps the Dirty flag the walk cached; inserting the page again replaces it", () => {
  const tlb = new Tlb();
  tlb.insert(0x5000, t4k(77)); // a read walk of a clean PTE
  assert.is(tlb.lookup(0x5000)!.dirty, false);
  tlb.insert(0x5000, t4k(77, false, true)); // the write's re-walk set D
  assert.equal([tlb.lookup(0x5000)!.dirty, tlb.valid], [true, 1]);
});

test("4-way sets: a fifth page of one set evicts the least recently used", () => {
  // 64 entries, 4 ways: 16 sets; pages 0, 16, 32, 48, 64 all fall in set 0.
  const tlb = new Tlb();
  for (const vpn of [0, 16, 32, 48]) tlb.insert(vpn * 4096, t4k(vpn + 1000));
  tlb.lookup(0); // page 0 is now the most recently used; page 16 the least
  tlb.insert(64 * 4096, t4k(1064));
  assert.is(tlb.lookup(16 * 4096), null);
  assert.ok(tlb.lookup(0) !== null && tlb.lookup(32 * 4096) !== null && tlb.lookup(64 * 4096) !== null);
});

test("a 2 MiB entry serves every 4 KiB frame inside it", () => {
  const tlb = new Tlb();
  tlb.insert(0x200000 + 0x3000, { pfn: 0x800 + 3, page_shift: 21, writable: true, user: false, global: true, dirty: true });
  assert.is(tlb.lookup(0x200000 + 0x1ff000)!.pfn, 0x800 + 0x1ff);
  assert.is(tlb.lookup(0x400000), null);
});

test("CR3 reload keeps global entries; a full flush and invlpg drop them", () => {
  const tlb = new Tlb();
  tlb.insert(0x1000, t4k(1));
  tlb.insert(0xc0000000, t4k(2, true));
  tlb.flush_all(true);
  assert.equal([tlb.lookup(0x1000), tlb.lookup(0xc0000000)?.pfn], [null, 2]);
  tlb.flush_page(0xc0000000);
  assert.is(tlb.lookup(0xc0000000), null);
  tlb.insert(0xc0000000, t4k(2, true));
  tlb.flush_all(false);
  assert.equal([tlb.valid, tlb.flushes], [0, 3]);
});

test.run();
