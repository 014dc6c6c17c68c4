// include/linux/gfp.h (2.6.34) and include/linux/gfp_types.h (6.x). Scenario code uses one set
// of constants for both eras: each flag has its own bit in an era-neutral encoding, and
// gfp_value() gives the number Linux of the chosen era would have (what "mode:0x%x" prints).
// __GFP_WAIT of 2.6 is __GFP_DIRECT_RECLAIM of 4.4+; 2.6 has no __GFP_KSWAPD_RECLAIM bit
// (every allocation there may wake kswapd), so that flag has no 2.6 value.
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
  [__GFP_THISNODE, 0x40000, 0, "__GFP_THISNODE"],
  [__GFP_RECLAIMABLE, 0x80000, 0, "__GFP_RECLAIMABLE"],
  [__GFP_KSWAPD_RECLAIM, 0, 0x800, "__GFP_KSWAPD_RECLAIM"],
  [__GFP_RETRY_MAYFAIL, 0, 0x4000, "__GFP_RETRY_MAYFAIL"],
  [__GFP_MEMALLOC, 0, 0x20000, "__GFP_MEMALLOC"],
  [__GFP_ACCOUNT, 0, 0x400000, "__GFP_ACCOUNT"],
  [NOWAIT_NOWARN_6, 0, 0x2000, "__GFP_NOWARN"],
];

/** The mask as the chosen era's Linux would hold it. */
export function gfp_value(gfp: gfp_t, era: Era): number {
  if (era === "6" && (gfp & TEMPORARY) !== 0) throw new ScenarioError("GFP_TEMPORARY does not exist in kernel 6 (removed in 4.15)");
  let v = 0;
  for (const [bit, v26, v6] of BITS) if ((gfp & bit) !== 0) v |= era === "2.6" ? v26 : v6;
  return v >>> 0;
}

/** gfpflags_allow_blocking(): the caller may sleep (__GFP_WAIT in 2.6, __GFP_DIRECT_RECLAIM since 4.4). */
export const gfpflags_allow_blocking = (gfp: gfp_t): boolean => (gfp & __GFP_DIRECT_RECLAIM) !== 0;

/** Composite names tried first when printing a mask, largest first (as %pGg does). */
const COMPOSITES: ReadonlyArray<readonly [string, gfp_t]> = [
  ["GFP_TEMPORARY", GFP_TEMPORARY],
  ["GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE],
  ["GFP_HIGHUSER", GFP_HIGHUSER],
  ["GFP_USER", GFP_USER],
  ["GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT],
  ["GFP_KERNEL", GFP_KERNEL],
  ["GFP_NOFS", GFP_NOFS],
  ["GFP_ATOMIC", GFP_ATOMIC],
  ["GFP_NOIO", GFP_NOIO],
  ["GFP_NOWAIT", GFP_NOWAIT],
  ["GFP_DMA32", GFP_DMA32],
  ["GFP_DMA", GFP_DMA],
];

const formatted: Record<Era, Map<gfp_t, string>> = { "2.6": new Map(), "6": new Map() };

/** %pGg: on the era's value, composite names first, then the remaining single flags, "|"-joined. */
export function format_gfp(gfp: gfp_t, era: Era): string {
  let s = formatted[era].get(gfp);
  if (s === undefined) formatted[era].set(gfp, (s = format_gfp_uncached(gfp, era)));
  return s;
}

function format_gfp_uncached(gfp: gfp_t, era: Era): string {
  let v = gfp_value(gfp, era);
  const names: string[] = [];
  for (const [name, mask] of COMPOSITES) {
    if ((name === "GFP_TEMPORARY" && era === "6") || (name === "GFP_KERNEL_ACCOUNT" && era === "2.6")) continue;
    const m = gfp_value(mask, era);
    if (m !== 0 && (v & m) === m) {
      names.push(name);
      v &= ~m;
    }
  }
  for (const [, v26, v6, name] of BITS) {
    const m = era === "2.6" ? v26 : v6;
    if (m !== 0 && (v & m) !== 0) {
      names.push(name);
      v &= ~m;
    }
  }
  return names.length > 0 ? names.join("|") : "0";
}
