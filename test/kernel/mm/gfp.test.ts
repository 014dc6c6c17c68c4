// GFP composites carry the values of reference section 1 in each era.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as G from "../../../src/kernel/mm/gfp.ts";

const hex = (gfp: number, era: G.Era) => "0x" + G.gfp_value(gfp, era).toString(16);

test("2.6.34 composite values", () => {
  assert.is(hex(G.GFP_ATOMIC, "2.6"), "0x20");
  assert.is(hex(G.GFP_NOWAIT, "2.6"), "0x0");
  assert.is(hex(G.GFP_NOIO, "2.6"), "0x10");
  assert.is(hex(G.GFP_NOFS, "2.6"), "0x50");
  assert.is(hex(G.GFP_KERNEL, "2.6"), "0xd0");
  assert.is(hex(G.GFP_TEMPORARY, "2.6"), "0x800d0");
  assert.is(hex(G.GFP_USER, "2.6"), "0x200d0");
  assert.is(hex(G.GFP_HIGHUSER, "2.6"), "0x200d2");
  assert.is(hex(G.GFP_HIGHUSER_MOVABLE, "2.6"), "0x200da");
  assert.is(hex(G.GFP_DMA, "2.6"), "0x1");
  assert.is(hex(G.GFP_KERNEL | G.__GFP_ZERO | G.__GFP_NOWARN, "2.6"), "0x82d0");
});

test("6.x composite values", () => {
  assert.is(hex(G.GFP_ATOMIC, "6"), "0x820");
  assert.is(hex(G.GFP_NOWAIT, "6"), "0x2800");
  assert.is(hex(G.GFP_NOIO, "6"), "0xc00");
  assert.is(hex(G.GFP_NOFS, "6"), "0xc40");
  assert.is(hex(G.GFP_KERNEL, "6"), "0xcc0");
  assert.is(hex(G.GFP_USER, "6"), "0x100cc0");
  assert.is(hex(G.GFP_HIGHUSER, "6"), "0x100cc2");
  assert.is(hex(G.GFP_HIGHUSER_MOVABLE, "6"), "0x100cca");
  assert.throws(() => G.gfp_value(G.GFP_TEMPORARY, "6"), /GFP_TEMPORARY does not exist in kernel 6/);
});

test("6.3+ single bits: RECLAIMABLE 0x10, WRITE 0x1000, THISNODE 0x200000; 2.6.34 has no __GFP_WRITE", () => {
  // gfp_types.h: ___GFP_RECLAIMABLE 0x10, ___GFP_WRITE 0x1000, ___GFP_THISNODE 0x200000.
  assert.is(hex(G.__GFP_RECLAIMABLE, "6"), "0x10");
  assert.is(hex(G.__GFP_WRITE, "6"), "0x1000");
  assert.is(hex(G.__GFP_THISNODE, "6"), "0x200000");
  assert.is(hex(G.GFP_KERNEL | G.__GFP_RECLAIMABLE, "6"), "0xcd0");
  // 2.6.34: RECLAIMABLE 0x80000, THISNODE 0x40000, and __GFP_WRITE (3.2) adds nothing.
  assert.is(hex(G.__GFP_RECLAIMABLE | G.__GFP_THISNODE, "2.6"), "0xc0000");
  assert.is(hex(G.GFP_KERNEL | G.__GFP_WRITE, "2.6"), "0xd0");
});

test("may sleep: KERNEL, NOIO, NOFS, USER, HIGHUSER; not ATOMIC, NOWAIT, bare DMA", () => {
  for (const g of [G.GFP_KERNEL, G.GFP_NOIO, G.GFP_NOFS, G.GFP_USER, G.GFP_HIGHUSER_MOVABLE]) assert.ok(G.gfpflags_allow_blocking(g));
  for (const g of [G.GFP_ATOMIC, G.GFP_NOWAIT, G.GFP_DMA, G.GFP_DMA | G.GFP_ATOMIC]) assert.not.ok(G.gfpflags_allow_blocking(g));
});

test("%pGg names composites first, then single flags", () => {
  assert.is(G.format_gfp(G.GFP_KERNEL | G.__GFP_ZERO, "6"), "GFP_KERNEL|__GFP_ZERO");
  assert.is(G.format_gfp(G.GFP_ATOMIC | G.__GFP_NOWARN, "6"), "GFP_ATOMIC|__GFP_NOWARN");
  assert.is(G.format_gfp(G.GFP_DMA | G.GFP_KERNEL, "6"), "GFP_KERNEL|GFP_DMA");
  assert.is(G.format_gfp(G.__GFP_HIGH, "2.6"), "GFP_ATOMIC");
});

// Each walked by hand down mmflags.h's list: a name prints when all its bits are still set.
test("%pGg (6) follows __def_gfpflag_names' order, one greedy pass", () => {
  // 0x928: ATOMIC (0x820) is the first name whose bits are all set; then ZERO (0x100) comes
  // before MOVABLE (0x08) in the list, whatever the bit order.
  assert.is(hex(G.GFP_ATOMIC | G.__GFP_ZERO | G.__GFP_MOVABLE, "6"), "0x928");
  assert.is(G.format_gfp(G.GFP_ATOMIC | G.__GFP_ZERO | G.__GFP_MOVABLE, "6"), "GFP_ATOMIC|__GFP_ZERO|__GFP_MOVABLE");
  // 0xcd0 and 0x200cc0: KERNEL, then the bits 6.3 moved (they printed as nothing before).
  assert.is(G.format_gfp(G.GFP_KERNEL | G.__GFP_RECLAIMABLE, "6"), "GFP_KERNEL|__GFP_RECLAIMABLE");
  assert.is(G.format_gfp(G.GFP_KERNEL | G.__GFP_THISNODE, "6"), "GFP_KERNEL|__GFP_THISNODE");
  assert.is(G.format_gfp(G.GFP_KERNEL | G.__GFP_WRITE, "6"), "GFP_KERNEL|__GFP_WRITE");
  // 0x1c2cca holds all of GFP_TRANSHUGE (0x1c24ca); 0x800 is left, which only KSWAPD_RECLAIM names.
  const thp = G.GFP_HIGHUSER_MOVABLE | G.__GFP_COMP | G.__GFP_NOMEMALLOC | G.__GFP_NOWARN;
  assert.is(hex(thp, "6"), "0x1c2cca");
  assert.is(G.format_gfp(thp, "6"), "GFP_TRANSHUGE|__GFP_KSWAPD_RECLAIM");
  // Without reclaim it is exactly GFP_TRANSHUGE_LIGHT (0x1c20ca).
  assert.is(G.format_gfp(thp & ~G.__GFP_RECLAIM, "6"), "GFP_TRANSHUGE_LIGHT");
  // 0x500cc0: GFP_USER comes before GFP_KERNEL_ACCOUNT, so ACCOUNT is left alone.
  assert.is(G.format_gfp(G.GFP_USER | G.__GFP_ACCOUNT, "6"), "GFP_USER|__GFP_ACCOUNT");
  assert.is(G.format_gfp(G.GFP_KERNEL_ACCOUNT, "6"), "GFP_KERNEL_ACCOUNT");
  // 0x2820 (GFP_NOWAIT | __GFP_HIGH): GFP_ATOMIC (0x820) comes before GFP_NOWAIT (0x2800).
  assert.is(G.format_gfp(G.GFP_NOWAIT | G.__GFP_HIGH, "6"), "GFP_ATOMIC|__GFP_NOWARN");
  assert.is(G.format_gfp(G.GFP_NOWAIT, "6"), "GFP_NOWAIT");
  // __GFP_RECLAIM (0xc00) is GFP_NOIO; one reclaim bit alone has its own name.
  assert.is(G.format_gfp(G.__GFP_RECLAIM, "6"), "GFP_NOIO");
  assert.is(G.format_gfp(G.__GFP_DIRECT_RECLAIM, "6"), "__GFP_DIRECT_RECLAIM");
  // 0x10002 (__GFP_HIGHMEM | __GFP_NORETRY): HIGHMEM comes before DMA32 and HIGH.
  assert.is(G.format_gfp(G.__GFP_HIGHMEM | G.__GFP_NORETRY, "6"), "__GFP_HIGHMEM|__GFP_NORETRY");
  // An empty mask: %pGg prints nothing, a tracepoint's show_gfp_flags() "none".
  assert.is(G.format_gfp(0, "6"), "");
  assert.is(G.show_gfp_flags(0, "6"), "none");
  assert.is(G.show_gfp_flags(G.GFP_KERNEL, "6"), "GFP_KERNEL");
});

test("__GFP_NOWARN in each era: 6.x's GFP_NOWAIT carries it (0x2800), 2.6.34's (0) does not", () => {
  assert.ok(G.gfp_nowarn(G.GFP_NOWAIT, "6"));
  assert.not.ok(G.gfp_nowarn(G.GFP_NOWAIT, "2.6"));
  assert.ok(G.gfp_nowarn(G.GFP_ATOMIC | G.__GFP_NOWARN, "2.6"));
  assert.not.ok(G.gfp_nowarn(G.GFP_ATOMIC, "6"));
});

test("2.6 formatting is unchanged: composites, then single bits", () => {
  assert.is(G.format_gfp(G.GFP_TEMPORARY, "2.6"), "GFP_TEMPORARY");
  assert.is(G.format_gfp(G.GFP_ATOMIC | G.__GFP_ZERO | G.__GFP_MOVABLE, "2.6"), "GFP_ATOMIC|__GFP_MOVABLE|__GFP_ZERO");
  assert.is(G.format_gfp(G.GFP_KERNEL | G.__GFP_WRITE, "2.6"), "GFP_KERNEL");
  assert.is(G.format_gfp(0, "2.6"), "0");
});

test.run();
