// The vmalloc address allocator: the i386 layout, guard pages, first fit, and the info numbers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { direct_map, format_kaddr } from "../../../src/kernel/mm/page.ts";
import { VM_ALLOC, VmList, vmalloc_range } from "../../../src/kernel/mm/vmalloc_area.ts";

test("i386, 64 MiB: VMALLOC_START = high_memory 0xc4000000 + 8 MiB; the area ends below PKMAP_BASE", () => {
  const dm = direct_map("i386", "2.6", 16384);
  const r = vmalloc_range(dm, "2.6");
  assert.equal([format_kaddr(dm, r.start), format_kaddr(dm, r.end)], ["c4800000", "ff7fe000"]);
});

test("x86_64: vmalloc from 0xffffc90000000000 to 0xffffe8ffffffffff (45 bits) in both eras", () => {
  const d26 = direct_map("x86_64", "2.6", 16384);
  assert.is(format_kaddr(d26, vmalloc_range(d26, "2.6").start), "ffffc90000000000");
  const d6 = direct_map("x86_64", "6", 16384);
  const r6 = vmalloc_range(d6, "6");
  assert.equal([format_kaddr(d6, r6.start), format_kaddr(d6, r6.end)], ["ffffc90000000000", "ffffe8ffffffffff"]);
});

test("areas get a guard page each and are placed first fit in address order", () => {
  const v = new VmList(0xc4800000, 0xff7fe000);
  const a = v.get_vm_area(3 * 4096, VM_ALLOC, "a")!; // 3 pages + guard = 16 KiB
  const b = v.get_vm_area(5000, VM_ALLOC, "b")!; // rounded to 2 pages + guard
  assert.equal([a.addr, a.size, b.addr, b.size], [0xc4800000, 0x4000, 0xc4804000, 0x3000]);
  v.remove_vm_area(a.addr);
  const c = v.get_vm_area(4096, VM_ALLOC, "c")!; // fits in a's hole
  const d = v.get_vm_area(3 * 4096, VM_ALLOC, "d")!; // 16 KiB: the 8 KiB left of the hole is too small
  assert.equal([c.addr, d.addr], [0xc4800000, 0xc4807000]);
  assert.equal(v.areas.map((x) => x.caller), ["c", "b", "d"]);
  // A guard page is not part of its area.
  assert.is(v.find(0xc4801000), undefined);
  assert.is(v.find(0xc4800fff)!.caller, "c");
  assert.equal(v.info(), { used: 0x2000 + 0x3000 + 0x4000, largest_chunk: 0xff7fe000 - 0xc480b000 });
});

test("no room: NULL", () => {
  const v = new VmList(0, 4 * 4096);
  assert.ok(v.get_vm_area(3 * 4096, VM_ALLOC, "x") !== null);
  assert.is(v.get_vm_area(1, VM_ALLOC, "y"), null);
  assert.is(v.get_vm_area(0, VM_ALLOC, "z"), null);
});

test.run();
