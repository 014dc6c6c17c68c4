// include/linux/gfp.h (2.6.34) and include/linux/gfp_types.h (6.3+). Scenario code uses one set
// of constants for both eras: each flag has its own bit in an era-neutral encoding, and
// gfp_value() gives the number Linux of the chosen era would have (what "mode:0x%x" prints).
// __GFP_WAIT of 2.6 is __GFP_DIRECT_RECLAIM of 4.4+; 2.6 has no __GFP_KSWAPD_RECLAIM bit
// (every allocation there may wake kswapd), so that flag has no 2.6 value; nor have
// __GFP_WRITE (3.2+), __GFP_ACCOUNT (4.5+), __GFP_RETRY_MAYFAIL and __GFP_MEMALLOC. Kernel 6
// prints masks as %pGg does (lib/vsprintf.c format_flags over mmflags.h's name table); 2.6.34
// prints only the number. Left out: the KASAN, lockdep and slab-extension bits (__GFP_ZEROTAGS,
// __GFP_SKIP_KASAN, __GFP_NOLOCKDEP, __GFP_NO_OBJ_EXT), which this config does not have.
import { ScenarioError } from "../../sim/errors.ts";

export type gfp_t = number;
export type Era = "2.6" | "6";

// The era-neutral bits (not Linux values).
export const __GFP_DMA = 1 << 0;
export const __GFP_HIGHMEM = 1 << 1;
export const __GFP_DMA32 = 1 << 2;
export const __GFP_MOVABLE = 1 << 3;
export const __GFP_DIRECT_RECLAIM = 1 << 4;
export const __GFP_WAIT = __GFP_DIRECT_RECLAIM;
export const __GFP_HIGH = 1 << 5;
export const __GFP_IO = 1 << 6;
export const __GFP_FS = 1 << 7;
export const __GFP_COLD = 1 << 8;
export const __GFP_NOWARN = 1 << 9;
export const __GFP_REPEAT = 1 << 10;
export const __GFP_NOFAIL = 1 << 11;
export const __GFP_NORETRY = 1 << 12;
export const __GFP_COMP = 1 << 13;
export const __GFP_ZERO = 1 << 14;
export const __GFP_NOMEMALLOC = 1 << 15;
export const __GFP_HARDWALL = 1 << 16;
export const __GFP_THISNODE = 1 << 17;
export const __GFP_RECLAIMABLE = 1 << 18;
export const __GFP_KSWAPD_RECLAIM = 1 << 19;
export const __GFP_RETRY_MAYFAIL = 1 << 20;
export const __GFP_MEMALLOC = 1 << 21;
/** The __GFP_NOWARN that GFP_NOWAIT carries in 6.x only. */
const NOWAIT_NOWARN_6 = 1 << 22;
/** Marks GFP_TEMPORARY, which 4.15 removed. */
const TEMPORARY = 1 << 23;
/** Charge the allocation to the memory cgroup (4.5+; no 2.6 value). */
export const __GFP_ACCOUNT = 1 << 24;
/** The caller means to dirty the page: spread over the nodes' dirty limits (3.2+; no 2.6 value). */
export const __GFP_WRITE = 1 << 25;

export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | NOWAIT_NOWARN_6;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
export const GFP_TEMPORARY = GFP_KERNEL | __GFP_RECLAIMABLE | TEMPORARY;
export const GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;
/** 6.x transparent huge page masks (2.6.38+), for printing: the mask less both reclaim bits, and with direct reclaim. */
const GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/** [era-neutral bit, 2.6.34 value, 6.x value] (0: the era has no such bit). */
const BITS: ReadonlyArray<readonly [number, number, number, string]> = [
  [__GFP_DMA, 0x01, 0x01, "__GFP_DMA"],
  [__GFP_HIGHMEM, 0x02, 0x02, "__GFP_HIGHMEM"],
  [__GFP_DMA32, 0x04, 0x04, "__GFP_DMA32"],
  [__GFP_MOVABLE, 0x08, 0x08, "__GFP_MOVABLE"],
  [__GFP_DIRECT_RECLAIM, 0x10, 0x400, "__GFP_DIRECT_RECLAIM"],
  [__GFP_HIGH, 0x20, 0x20, "__GFP_HIGH"],
  [__GFP_IO, 0x40, 0x40, "__GFP_IO"],
  [__GFP_FS, 0x80, 0x80, "__GFP_FS"],
  [__GFP_COLD, 0x100, 0, "__GFP_COLD"],
  [__GFP_NOWARN, 0x200, 0x2000, "__GFP_NOWARN"],
  [__GFP_REPEAT, 0x400, 0, "__GFP_REPEAT"],
  [__GFP_NOFAIL, 0x800, 0x8000, "__GFP_NOFAIL"],
  [__GFP_NORETRY, 0x1000, 0x10000, "__GFP_NORETRY"],
  [__GFP_COMP, 0x4000, 0x40000, "__GFP_COMP"],
  [__GFP_ZERO, 0x8000, 0x100, "__GFP_ZERO"],
  [__GFP_NOMEMALLOC, 0x10000, 0x80000, "__GFP_NOMEMALLOC"],
  [__GFP_HARDWALL, 0x20000, 0x100000, "__GFP_HARDWALL"],
  [__GFP_THISNODE, 0x40000, 0x200000, "__GFP_THISNODE"],
  [__GFP_RECLAIMABLE, 0x80000, 0x10, "__GFP_RECLAIMABLE"],
  [__GFP_KSWAPD_RECLAIM, 0, 0x800, "__GFP_KSWAPD_RECLAIM"],
  [__GFP_RETRY_MAYFAIL, 0, 0x4000, "__GFP_RETRY_MAYFAIL"],
  [__GFP_MEMALLOC, 0, 0x20000, "__GFP_MEMALLOC"],
  [__GFP_ACCOUNT, 0, 0x400000, "__GFP_ACCOUNT"],
  [__GFP_WRITE, 0, 0x1000, "__GFP_WRITE"],
  [NOWAIT_NOWARN_6, 0, 0x2000, "__GFP_NOWARN"],
];

/** The mask as the chosen era's Linux would hold it. */
export function gfp_value(gfp: gfp_t, era: Era): number {
  if (era === "6" && (gfp & TEMPORARY) !== 0) throw new ScenarioError("GFP_TEMPORARY does not exist in kernel 6 (removed in 4.15)");
  let v = 0;
  for (const [bit, v26, v6] of BITS) if ((gfp & bit) !== 0) v |= era === "2.6" ? v26 : v6;
  return v >>> 0;
}

/** gfp_mask & __GFP_NOWARN in the chosen era: 6.x's GFP_NOWAIT carries the bit, 2.6.34's does not. */
export const gfp_nowarn = (gfp: gfp_t, era: Era): boolean => (gfp & __GFP_NOWARN) !== 0 || (era === "6" && (gfp & NOWAIT_NOWARN_6) !== 0);

/** gfpflags_allow_blocking(): the caller may sleep (__GFP_WAIT in 2.6, __GFP_DIRECT_RECLAIM since 4.4). */
export const gfpflags_allow_blocking = (gfp: gfp_t): boolean => (gfp & __GFP_DIRECT_RECLAIM) !== 0;

/** 2.6: composite names tried first when formatting a mask (mmsim's trace output; 2.6.34's reports print only the number). */
const COMPOSITES_26: ReadonlyArray<readonly [string, gfp_t]> = [
  ["GFP_TEMPORARY", GFP_TEMPORARY],
  ["GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE],
  ["GFP_HIGHUSER", GFP_HIGHUSER],
  ["GFP_USER", GFP_USER],
  ["GFP_KERNEL", GFP_KERNEL],
  ["GFP_NOFS", GFP_NOFS],
  ["GFP_ATOMIC", GFP_ATOMIC],
  ["GFP_NOIO", GFP_NOIO],
  ["GFP_NOWAIT", GFP_NOWAIT],
  ["GFP_DMA32", GFP_DMA32],
  ["GFP_DMA", GFP_DMA],
];

/**
 * include/trace/events/mmflags.h __def_gfpflag_names (6.3 to 6.14), in its order: composites
 * first, then single bits, then the reclaim bits. Each entry as [name, 6.x value].
 */
const GFPFLAG_NAMES_6: ReadonlyArray<readonly [string, number]> = (
  [
    ["GFP_TRANSHUGE", GFP_TRANSHUGE],
    ["GFP_TRANSHUGE_LIGHT", GFP_TRANSHUGE_LIGHT],
    ["GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE],
    ["GFP_HIGHUSER", GFP_HIGHUSER],
    ["GFP_USER", GFP_USER],
    ["GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT],
    ["GFP_KERNEL", GFP_KERNEL],
    ["GFP_NOFS", GFP_NOFS],
    ["GFP_ATOMIC", GFP_ATOMIC],
    ["GFP_NOIO", GFP_NOIO],
    ["GFP_NOWAIT", GFP_NOWAIT],
    ["GFP_DMA", GFP_DMA],
    ["__GFP_HIGHMEM", __GFP_HIGHMEM],
    ["GFP_DMA32", GFP_DMA32],
    ["__GFP_HIGH", __GFP_HIGH],
    ["__GFP_IO", __GFP_IO],
    ["__GFP_FS", __GFP_FS],
    ["__GFP_NOWARN", __GFP_NOWARN],
    ["__GFP_RETRY_MAYFAIL", __GFP_RETRY_MAYFAIL],
    ["__GFP_NOFAIL", __GFP_NOFAIL],
    ["__GFP_NORETRY", __GFP_NORETRY],
    ["__GFP_COMP", __GFP_COMP],
    ["__GFP_ZERO", __GFP_ZERO],
    ["__GFP_NOMEMALLOC", __GFP_NOMEMALLOC],
    ["__GFP_MEMALLOC", __GFP_MEMALLOC],
    ["__GFP_HARDWALL", __GFP_HARDWALL],
    ["__GFP_THISNODE", __GFP_THISNODE],
    ["__GFP_RECLAIMABLE", __GFP_RECLAIMABLE],
    ["__GFP_MOVABLE", __GFP_MOVABLE],
    ["__GFP_ACCOUNT", __GFP_ACCOUNT],
    ["__GFP_WRITE", __GFP_WRITE],
    ["__GFP_RECLAIM", __GFP_RECLAIM],
    ["__GFP_DIRECT_RECLAIM", __GFP_DIRECT_RECLAIM],
    ["__GFP_KSWAPD_RECLAIM", __GFP_KSWAPD_RECLAIM],
  ] as const
).map(([name, mask]) => [name, gfp_value(mask, "6")] as const);

const formatted: Record<Era, Map<gfp_t, string>> = { "2.6": new Map(), "6": new Map() };

/**
 * %pGg of the mask in the chosen era. Kernel 6: format_flags() — each name of mmflags.h's list
 * in turn whose bits are all still set is printed and its bits cleared, "|"-joined; bits no
 * name covers follow as a number ("0x..."); an empty mask prints nothing. 2.6 (no %pGg):
 * composite names, then single flags, "0" for an empty mask.
 */
export function format_gfp(gfp: gfp_t, era: Era): string {
  let s = formatted[era].get(gfp);
  if (s === undefined) formatted[era].set(gfp, (s = era === "6" ? format_gfp_6(gfp_value(gfp, "6")) : format_gfp_26(gfp)));
  return s;
}

/** show_gfp_flags() of a tracepoint: as %pGg, but "none" for an empty 6.x mask (mmflags.h). */
export const show_gfp_flags = (gfp: gfp_t, era: Era): string => (era === "6" && gfp_value(gfp, era) === 0 ? "none" : format_gfp(gfp, era));

/** lib/vsprintf.c format_flags() over GFPFLAG_NAMES_6. */
function format_gfp_6(v: number): string {
  const names: string[] = [];
  for (const [name, mask] of GFPFLAG_NAMES_6) {
    if (v === 0) break;
    if ((v & mask) >>> 0 !== mask) continue;
    names.push(name);
    v = (v & ~mask) >>> 0;
  }
  if (v !== 0) names.push("0x" + v.toString(16));
  return names.join("|");
}

function format_gfp_26(gfp: gfp_t): string {
  let v = gfp_value(gfp, "2.6");
  const names: string[] = [];
  for (const [name, mask] of COMPOSITES_26) {
    const m = gfp_value(mask, "2.6");
    if (m !== 0 && (v & m) === m) {
      names.push(name);
      v &= ~m;
    }
  }
  for (const [, v26, , name] of BITS) {
    if (v26 !== 0 && (v & v26) !== 0) {
      names.push(name);
      v &= ~v26;
    }
  }
  return names.length > 0 ? names.join("|") : "0";
}
