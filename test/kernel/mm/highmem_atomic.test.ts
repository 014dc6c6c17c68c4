// kmap_atomic slots: the index formula, a nested user of a busy slot, an unbalanced unmap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KM_TYPE_NR, KmapAtomicSlots } from "../../../src/kernel/mm/highmem_atomic.ts";

test("13 types per CPU; KM_USER0 on CPU1 is slot 3 + 13", () => {
  assert.is(KM_TYPE_NR, 13);
  assert.is(KmapAtomicSlots.idx("KM_USER0", 1), 16);
  assert.is(KmapAtomicSlots.idx("KM_SOFTIRQ1", 0), 12);
});

test("an interrupt taking the task's KM_USER0 on the same CPU finds it in use; another CPU does not", () => {
  const s = new KmapAtomicSlots(2);
  assert.is(s.map("KM_USER0", 0, { pfn: 300, by: "task/5" }), null);
  assert.equal(s.map("KM_USER0", 0, { pfn: 400, by: "irq/11" }), { pfn: 300, by: "task/5" });
  assert.is(s.map("KM_USER0", 1, { pfn: 500, by: "task/6" }), null);
  assert.is(s.unmap("KM_USER0", 0), true);
  assert.is(s.unmap("KM_USER0", 0), false); // unbalanced
});

test.run();
