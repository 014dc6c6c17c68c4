// Page addresses: the direct map per arch and era, __get_free_pages / free_pages, virt_to_page.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../../helpers.ts";
import { GFP_HIGHUSER, GFP_KERNEL, __free_pages, __get_free_page, __pa, alloc_page, format_kaddr, free_page, get_zeroed_page, page_address, virt_to_page } from "../../../src/kernel/index.ts";
import * as P from "../../../src/kernel/mm/page.ts";

test("PAGE_OFFSET per arch and era, printed as the real address", () => {
  const i386 = P.direct_map("i386", "2.6", 16384);
  assert.is(P.format_kaddr(i386, P.page_address(i386, 1)), "c0001000");
  const x26 = P.direct_map("x86_64", "2.6", 16384);
  assert.is(P.format_kaddr(x26, P.page_address(x26, 1)), "ffff880000001000");
  const x6 = P.direct_map("x86_64", "6", 16384);
  assert.is(P.format_kaddr(x6, P.page_address(x6, 1)), "ffff888000001000");
  // The stored form keeps byte offsets exact: the last byte of 64 GiB of direct map.
  const big = P.direct_map("x86_64", "6", 64 * 262144);
  const v = P.page_address(big, 64 * 262144 - 1) + 4095;
  assert.is(P.format_kaddr(big, v), "ffff888fffffffff");
  assert.is(P.virt_to_page(big, v), 64 * 262144 - 1);
});

test("i386: HighMem pages have no address until kmap'ed; lowmem ends at MAXMEM (887.99 MiB)", () => {
  // MAXMEM = VMALLOC_END 0xff7fe000 - PAGE_OFFSET - 128 MiB = 0x377fe000: max_low_pfn 0x377fe.
  const dm = P.direct_map("i386", "2.6", 262144); // 1 GiB
  assert.is(dm.max_low_pfn, 227326);
  assert.is(P.page_address(dm, 227325), 0xc0000000 + 227325 * 4096);
  assert.is(P.page_address(dm, 227326), 0);
  P.set_page_address(dm, 227326, 0xffc00000);
  assert.is(P.page_address(dm, 227326), 0xffc00000);
  // PAE: PKMAP_BASE 0xffa00000 (2 MiB aligned), VMALLOC_END 0xff9fe000: 0x379fe000 of lowmem.
  assert.is(P.direct_map("i386", "2.6", 262144, true).max_low_pfn, 0x379fe);
});

test("__get_free_page returns the page's direct-map address; free_page takes it back", () => {
  const out: unknown[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        // 64 MiB i386: the first GFP_KERNEL page is pfn 15360 (see page_alloc.test.ts).
        const a = yield* __get_free_page(GFP_KERNEL);
        out.push(format_kaddr(a), __pa(a), virt_to_page(a));
        yield* free_page(a);
        const z = yield* get_zeroed_page(GFP_KERNEL);
        out.push(z === a);
        yield* free_page(z);
        yield* free_page(0); // free_page(NULL) does nothing
        const hp = (yield* alloc_page(GFP_HIGHUSER))!;
        out.push(page_address(hp));
        yield* __free_pages(hp, 0);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
  );
  assert.equal(r.reports, []);
  // 1 GiB: Normal holds pfn 4096..227325 (it ends at MAXMEM_PFN 227326), HighMem the rest. Its
  // top 1022 pages are no order-10 block: blocks of order 9 at 226304 down to order 1 at 227324.
  // GFP_KERNEL's first page comes from the smallest, the order-1 block: pfn 227324 (0xf77fc000).
  assert.equal(out, ["f77fc000", 227324 * 4096, 227324, true, 0]);
});

test.run();
