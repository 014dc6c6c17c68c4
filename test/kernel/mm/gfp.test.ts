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

test.run();
