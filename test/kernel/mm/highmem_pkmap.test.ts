// pkmap_count bookkeeping: round-robin slots, the wrap-around flush, and running out.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Pkmap } from "../../../src/kernel/mm/highmem_pkmap.ts";

test("slots are handed out from 1 round robin; a user holds count 2, an unused mapping 1", () => {
  const k = new Pkmap(8);
  const nr = k.map_new_virtual(500, () => {});
  k.get(nr); // kmap_high: count 2 = one user
  assert.equal([nr, k.count[nr], k.addr(nr)], [1, 2, 0xff800000 + 4096]);
  assert.is(k.put(nr), true); // kunmap: back to 1, mapping kept until the next flush
  assert.equal([k.count[1], k.page[1]], [1, 500]);
});

test("the scan wrapping to slot 0 frees every count-1 slot with one TLB flush", () => {
  let flushed = 0;
  const gone: number[] = [];
  const k = new Pkmap(8, () => flushed++);
  for (let p = 0; p < 7; p++) {
    const nr = k.map_new_virtual(100 + p, () => {});
    k.get(nr);
    if (p % 2 === 0) k.put(nr); // pages 100, 102, 104, 106 are unused again
  }
  // Slots 1..7 are taken; the next scan wraps: the flush frees 1, 3, 5, 7 and slot 0 is free.
  const nr = k.map_new_virtual(200, (p) => gone.push(p));
  assert.equal([nr, flushed, gone], [0, 1, [100, 102, 104, 106]]);
  assert.equal(Array.from(k.count), [1, 0, 2, 0, 2, 0, 2, 0]);
});

test("every slot in use: the caller must sleep", () => {
  const k = new Pkmap(4);
  for (let p = 0; p < 4; p++) k.get(k.map_new_virtual(p, () => {}));
  assert.is(k.map_new_virtual(9, () => {}), -1);
  assert.throws(() => {
    k.put(0);
    k.put(0);
  }, /was not mapped/);
});

test.run();
