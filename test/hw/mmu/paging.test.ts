// The page-table walker on tables built by hand; indices and addresses worked out from the
// formats (i386 10/10/12, PAE 2/9/9/12, x86_64 9/9/9/9/12).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as P from "../../../src/hw/mmu/paging.ts";

const { _PAGE_PRESENT: PR, _PAGE_RW: RW, _PAGE_USER: US, _PAGE_PSE: PS, _PAGE_GLOBAL: G, _PAGE_ACCESSED: A, _PAGE_DIRTY: D } = P;

test("i386 two-level: 0xc0801234 is PDE 770, PTE 1, offset 0x234", () => {
  const f = P.FORMATS["2level"];
  assert.equal([P.level_index(f, 0, 0xc0801234), P.level_index(f, 1, 0xc0801234)], [770, 1]);
  const mem = new P.PageTableMemory();
  P.write_entry(mem, f, 100, 770, P.make_entry(101, PR | RW));
  P.write_entry(mem, f, 101, 1, P.make_entry(5000, PR | RW | G));
  // A read walk leaves the PTE clean and says so (what the TLB caches); the write walk sets D.
  assert.ok(P.walk(mem, f, 100, 0xc0801234, false, false, false).ok && !(P.walk(mem, f, 100, 0xc0801234, false, false) as { dirty: boolean }).dirty);
  const w = P.walk(mem, f, 100, 0xc0801234, true, false);
  assert.equal(w, { ok: true, pfn: 5000, offset: 0x234, page_shift: 12, writable: true, user: false, global: true, dirty: true, tables: [100, 101] });
  // The walk set Accessed on both entries and Dirty on the last.
  assert.is(P.read_entry(mem, f, 100, 770).lo & (A | D), A);
  assert.is(P.read_entry(mem, f, 101, 1).lo & (A | D), A | D);
});

test("i386 PSE: a 4 MiB page at PDE 768 maps 0xc0123456 to physical 0x123456", () => {
  const f = P.FORMATS["2level"];
  const mem = new P.PageTableMemory();
  P.write_entry(mem, f, 100, 768, P.make_entry(0, PR | RW | PS | G));
  const w = P.walk(mem, f, 100, 0xc0123456, false, false);
  assert.ok(w.ok);
  if (w.ok) {
    assert.is(w.pfn * 4096 + w.offset, 0x123456);
    assert.is(w.page_shift, 22);
  }
});

test("faults: not present, a user access to a kernel page, a write to a read-only page", () => {
  const f = P.FORMATS["2level"];
  const mem = new P.PageTableMemory();
  P.write_entry(mem, f, 100, 0, P.make_entry(101, PR | RW | US));
  P.write_entry(mem, f, 101, 5, P.make_entry(7, PR | US)); // read-only user page at 0x5000
  P.write_entry(mem, f, 101, 6, P.make_entry(8, PR | RW)); // kernel page at 0x6000
  const code = (va: number, write: boolean, user: boolean) => {
    const w = P.walk(mem, f, 100, va, write, user);
    return w.ok ? -1 : w.error_code;
  };
  assert.is(code(0x7000, false, true), P.PF_USER); // not present: P=0
  assert.is(code(0x6000, false, true), P.PF_PROT | P.PF_USER);
  assert.is(code(0x5000, true, true), P.PF_PROT | P.PF_WRITE | P.PF_USER);
  assert.is(code(0x5000, false, true), -1);
  assert.is(code(0x400000, true, false), P.PF_WRITE); // PDE 1 not present, a kernel write
});

test("PAE: 0xc0801234 is PDPT 3, PMD 4, PTE 1; a 2 MiB page at PMD 0 of PDPT 3", () => {
  const f = P.FORMATS.pae;
  assert.equal([0, 1, 2].map((l) => P.level_index(f, l, 0xc0801234)), [3, 4, 1]);
  const mem = new P.PageTableMemory();
  P.write_entry(mem, f, 10, 3, P.make_entry(11, PR));
  P.write_entry(mem, f, 11, 0, P.make_entry(0x1000, PR | RW | PS)); // 2 MiB at physical 16 MiB
  const w = P.walk(mem, f, 10, 0xc0012345, false, false);
  assert.ok(w.ok && w.pfn * 4096 + w.offset === 16 * 2 ** 20 + 0x12345 && w.page_shift === 21);
});

test("x86_64: PAGE_OFFSET 0xffff880000000000 is PML4 slot 272; frames above 4 GiB need the high half", () => {
  const f = P.FORMATS["4level"];
  // The canonical upper half folded into 48 bits: 0xffff880000001000 -> 0x880000001000.
  const va = 0x880000001000;
  assert.equal([0, 1, 2, 3].map((l) => P.level_index(f, l, va)), [272, 0, 0, 1]);
  const mem = new P.PageTableMemory();
  P.write_entry(mem, f, 1, 272, P.make_entry(2, PR | RW));
  P.write_entry(mem, f, 2, 0, P.make_entry(3, PR | RW));
  P.write_entry(mem, f, 3, 0, P.make_entry(4, PR | RW));
  P.write_entry(mem, f, 4, 1, P.make_entry(0x1234567, PR | RW)); // a frame at 0x1234567000 (~73 GiB)
  assert.equal(P.read_entry(mem, f, 4, 1), { lo: 0x34567003, hi: 0x12 });
  const w = P.walk(mem, f, 1, va + 0xabc, false, false);
  assert.ok(w.ok && w.pfn === 0x1234567 && w.offset === 0xabc && w.tables.length === 4);
  // A 1 GiB page at PUD level.
  P.write_entry(mem, f, 2, 1, P.make_entry(0x40000, PR | RW | PS));
  const g = P.walk(mem, f, 1, 0x880040000000 + 0x5678, false, false);
  assert.ok(g.ok && g.page_shift === 30 && g.pfn === 0x40000 + 5 && g.offset === 0x678);
});

test.run();
