// The buddy allocator on a 16-page zone, checked against splits and merges worked by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemMap } from "../../../src/kernel/mm/mm_types.ts";
import { MAX_ORDER, __free_one_page, __rmqueue_smallest, make_free_area, type BuddyZone } from "../../../src/kernel/mm/buddy.ts";

function zone(pages: number, start = 0): BuddyZone {
  const mm = new MemMap(start + pages);
  return { mm, zone_start_pfn: start, spanned_pages: pages, free_area: make_free_area(mm), free_pages: 0 };
}
const nr_free = (z: BuddyZone) => z.free_area.map((a) => a.nr_free);

test("freeing 16 single pages merges them into one order-4 block", () => {
  const z = zone(16);
  for (let pfn = 0; pfn < 16; pfn++) __free_one_page(z, pfn, 0);
  assert.equal(nr_free(z), [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.is(z.free_pages, 16);
  assert.is(z.free_area[4]!.free_list.head, 0);
});

test("an order-0 allocation splits 16 into 8+4+2+1 and returns the lowest page", () => {
  const z = zone(16);
  __free_one_page(z, 0, 4);
  assert.is(__rmqueue_smallest(z, 0), 0);
  assert.equal(nr_free(z), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  // Upper halves: pfn 8 (order 3), 4 (order 2), 2 (order 1), 1 (order 0).
  assert.equal([3, 2, 1, 0].map((o) => z.free_area[o]!.free_list.head), [8, 4, 2, 1]);
  assert.is(z.free_pages, 15);
  // Freeing it merges everything back.
  __free_one_page(z, 0, 0);
  assert.equal(nr_free(z), [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
});

test("fragmentation: every other page allocated leaves no order-1 block", () => {
  const z = zone(16);
  __free_one_page(z, 0, 4);
  const got = Array.from({ length: 16 }, () => __rmqueue_smallest(z, 0));
  assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  for (let pfn = 0; pfn < 16; pfn += 2) __free_one_page(z, pfn, 0);
  assert.equal(nr_free(z), [8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.is(__rmqueue_smallest(z, 1), -1);
});

test("blocks never merge past MAX_ORDER-1 nor across the zone's end", () => {
  const z = zone(4096);
  for (let pfn = 0; pfn < 4096; pfn += 1024) __free_one_page(z, pfn, 10);
  assert.is(z.free_area[MAX_ORDER - 1]!.nr_free, 4);
  const small = zone(8, 8); // pfns 8..15: the buddy of 8 at order 3 is 0, outside the zone
  __free_one_page(small, 8, 3);
  assert.equal(nr_free(small), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
});

test.run();
