// Segmentation: Linux's selectors, flat translation, and the faults of protected mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Gdt, linear_address, linux_gdt, selector } from "../../../src/hw/mmu/segmentation.ts";

test("Linux's selectors: i386 0x60/0x68/0x73/0x7b, x86_64 0x10/0x18/0x33/0x2b", () => {
  const a = linux_gdt("i386");
  assert.equal([a.__KERNEL_CS, a.__KERNEL_DS, a.__USER_CS, a.__USER_DS], [0x60, 0x68, 0x73, 0x7b]);
  const b = linux_gdt("x86_64");
  assert.equal([b.__KERNEL_CS, b.__KERNEL_DS, b.__USER_CS, b.__USER_DS], [0x10, 0x18, 0x33, 0x2b]);
});

test("flat segments: the linear address is the offset", () => {
  const { gdt, __USER_DS } = linux_gdt("i386");
  const ds = gdt.load("ds", __USER_DS, 3);
  assert.ok(ds !== null && !("fault" in ds));
  assert.is(linear_address(ds as never, "ds", 0x0804a000, 4), 0x0804a000);
});

test("the null selector: fine in DS until used, #GP(0) in SS or CS", () => {
  const { gdt } = linux_gdt("i386");
  const ds = gdt.load("ds", 0, 0);
  assert.is(ds, null);
  assert.equal(linear_address(ds as null, "ds", 0x1000, 4), { fault: "#GP", error_code: 0 });
  assert.equal(gdt.load("ss", 0, 0), { fault: "#GP", error_code: 0 });
  assert.equal(gdt.load("cs", 3, 3), { fault: "#GP", error_code: 0 }); // index 0, RPL 3: still null
});

test("privilege: user code cannot load the kernel data segment; a beyond-the-table selector faults", () => {
  const { gdt, __KERNEL_DS, __USER_DS } = linux_gdt("i386");
  assert.equal(gdt.load("ds", __KERNEL_DS, 3), { fault: "#GP", error_code: 0x68 });
  assert.equal(gdt.load("ss", __USER_DS, 0), { fault: "#GP", error_code: 0x78 }); // RPL 3 != CPL 0
  assert.equal(gdt.load("ds", selector(40, 0), 0), { fault: "#GP", error_code: 0x140 });
});

test("a limit: an access past it is #GP, or #SS through SS; a not-present segment is #NP", () => {
  const small = { base: 0x10000, limit: 0xfff, kind: "data" as const, dpl: 0 as const, present: true };
  const gdt = new Gdt([null, small, { ...small, present: false }]);
  const d = gdt.load("ds", selector(1, 0), 0);
  assert.is(linear_address(d as never, "ds", 0xffc, 4), 0x10ffc);
  assert.equal(linear_address(d as never, "ds", 0xffd, 4), { fault: "#GP", error_code: 0 });
  assert.equal(linear_address(d as never, "ss", 0x1000, 1), { fault: "#SS", error_code: 0 });
  assert.equal(gdt.load("es", selector(2, 0), 0), { fault: "#NP", error_code: 0x10 });
  // A GDT slot with no descriptor (all zero) is #GP with the selector, not the null selector's #GP(0).
  assert.equal(linux_gdt("i386").gdt.load("ds", selector(16, 0), 0), { fault: "#GP", error_code: 0x80 });
});

test.run();
