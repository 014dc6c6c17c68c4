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

/**
 * gfp_t: an allocation's GFP mask ("get free pages" flags: zone, reclaim, reserves, actions).
 * mmsim encodes each flag as its own bit, the same in both eras (not Linux's numbers);
 * gfp_value() gives the value the chosen era's Linux holds, as reports print it.
 */
export type gfp_t = number;
/** A kernel era: "2.6" (2.6.34) or "6" (6.x; the machine's `memory.kernel`). */
export type Era = "2.6" | "6";

// The era-neutral bits (not Linux values).
/** __GFP_DMA: the memory must come from ZONE_DMA (below 16 MiB). 0x01 in both eras. */
export const __GFP_DMA = 1 << 0;
/** __GFP_HIGHMEM: the allocation may use ZONE_HIGHMEM (i386; on x86_64 it changes nothing). 0x02 in both eras. */
export const __GFP_HIGHMEM = 1 << 1;
/** __GFP_DMA32: the memory must come from ZONE_DMA32 (below 4 GiB on x86_64; ZONE_NORMAL on i386, which has none). 0x04 in both eras. */
export const __GFP_DMA32 = 1 << 2;
/**
 * __GFP_MOVABLE: the page can be migrated or reclaimed (with __GFP_HIGHMEM, ZONE_MOVABLE may be
 * used). 0x08 in both eras. mmsim has no ZONE_MOVABLE and no migrate types: it changes nothing but
 * the mask's value.
 */
export const __GFP_MOVABLE = 1 << 3;
/**
 * __GFP_DIRECT_RECLAIM: the caller may sleep and reclaim pages itself (gfpflags_allow_blocking()),
 * so might_sleep() checks the context. 2.6.34: __GFP_WAIT, 0x10; kernel 6: 0x400 (4.4+).
 */
export const __GFP_DIRECT_RECLAIM = 1 << 4;
/**
 * __GFP_WAIT: the caller may sleep (2.6.34, 0x10; 4.4 replaced it by __GFP_RECLAIM). In mmsim it
 * is __GFP_DIRECT_RECLAIM, so on a kernel 6 machine it holds 0x400, without __GFP_KSWAPD_RECLAIM.
 */
export const __GFP_WAIT = __GFP_DIRECT_RECLAIM;
/**
 * __GFP_HIGH: a high-priority request that may dig into the reserves below the min watermark
 * (2.6.34 ALLOC_HIGH, 6.3+ ALLOC_MIN_RESERVE: min halved). 0x20 in both eras.
 */
export const __GFP_HIGH = 1 << 5;
/**
 * __GFP_IO: reclaim may start physical IO. 0x40 in both eras. mmsim's reclaim looks only at
 * __GFP_FS; mempool_alloc() clears this bit for its first try.
 */
export const __GFP_IO = 1 << 6;
/**
 * __GFP_FS: reclaim may call into the filesystem. 0x80 in both eras. In mmsim, reclaim writes
 * dirty file pages back only with it, and the slow path calls the OOM killer only with it.
 */
export const __GFP_FS = 1 << 7;
/**
 * __GFP_COLD: the caller wants a cache-cold page (the pcp list's tail). 2.6.34: 0x100; removed in
 * 4.15, so kernel 6 has no value for it. mmsim takes the tail for it in both eras.
 */
export const __GFP_COLD = 1 << 8;
/** __GFP_NOWARN: no allocation-failure warning. 2.6.34: 0x200; kernel 6: 0x2000. */
export const __GFP_NOWARN = 1 << 9;
/**
 * __GFP_REPEAT: try hard, but the allocation may fail (for costly orders: retry while reclaim has
 * freed fewer than 2^order pages). 2.6.34: 0x400; removed in 4.13 (__GFP_RETRY_MAYFAIL took its
 * place), so kernel 6 has no value for it; mmsim's retry rule (2.6.34's should_alloc_retry)
 * honours it in both eras.
 */
export const __GFP_REPEAT = 1 << 10;
/**
 * __GFP_NOFAIL: the allocation must not fail: the allocator retries for ever (fault injection
 * never fails it). 2.6.34: 0x800; kernel 6: 0x8000.
 */
export const __GFP_NOFAIL = 1 << 11;
/**
 * __GFP_NORETRY: fail rather than retry: one direct reclaim at most, and no OOM killer.
 * 2.6.34: 0x1000; kernel 6: 0x10000.
 */
export const __GFP_NORETRY = 1 << 12;
/**
 * __GFP_COMP: make a compound page (its head and tail pages marked). 2.6.34: 0x4000;
 * kernel 6: 0x40000. mmsim keeps no compound-page metadata: it changes nothing but the mask's
 * value.
 */
export const __GFP_COMP = 1 << 13;
/** __GFP_ZERO: return zeroed memory (mmsim charges the clearing's time). 2.6.34: 0x8000; kernel 6: 0x100. */
export const __GFP_ZERO = 1 << 14;
/**
 * __GFP_NOMEMALLOC: never use the emergency reserves, even for a PF_MEMALLOC task or with
 * __GFP_MEMALLOC. 2.6.34: 0x10000; kernel 6: 0x80000.
 */
export const __GFP_NOMEMALLOC = 1 << 15;
/**
 * __GFP_HARDWALL: enforce the cpuset's memory placement. 2.6.34: 0x20000; kernel 6: 0x100000.
 * mmsim has no cpusets: it changes nothing but the mask's value.
 */
export const __GFP_HARDWALL = 1 << 16;
/**
 * __GFP_THISNODE: allocate on the requested node only, with no fallback. 2.6.34: 0x40000;
 * kernel 6: 0x200000. Not honoured by mmsim: the zonelist still falls back to other nodes.
 */
export const __GFP_THISNODE = 1 << 17;
/**
 * __GFP_RECLAIMABLE: the memory can be reclaimed (slab caches with SLAB_RECLAIM_ACCOUNT; a
 * migrate-type hint). 2.6.34: 0x80000; kernel 6: 0x10. mmsim has no migrate types; kernel 6's
 * kmalloc takes its kmalloc-rcl-N caches for it.
 */
export const __GFP_RECLAIMABLE = 1 << 18;
/**
 * __GFP_KSWAPD_RECLAIM: the allocation may wake kswapd at the low watermark. Kernel 6: 0x800
 * (4.4+); 2.6.34 has no such bit: every allocation there may wake kswapd.
 */
export const __GFP_KSWAPD_RECLAIM = 1 << 19;
/**
 * __GFP_RETRY_MAYFAIL: retry reclaim while it makes progress, but fail in the end rather than call
 * the OOM killer. Kernel 6: 0x4000 (4.13+); 2.6.34 has none. mmsim's allocator does not look at
 * it: it changes nothing but the mask's value.
 */
export const __GFP_RETRY_MAYFAIL = 1 << 20;
/**
 * __GFP_MEMALLOC: the allocation may use all memory, the reserves included (ignore the
 * watermarks) unless __GFP_NOMEMALLOC is set. Kernel 6: 0x20000 (3.6+); 2.6.34 has none, and a
 * kernel 2.6 machine ignores it.
 */
export const __GFP_MEMALLOC = 1 << 21;
/** The __GFP_NOWARN that GFP_NOWAIT carries in 6.x only. */
const NOWAIT_NOWARN_6 = 1 << 22;
/** Marks GFP_TEMPORARY, which 4.15 removed. */
const TEMPORARY = 1 << 23;
/** Charge the allocation to the memory cgroup (4.5+; no 2.6 value). */
export const __GFP_ACCOUNT = 1 << 24;
/** The caller means to dirty the page: spread over the nodes' dirty limits (3.2+; no 2.6 value). */
export const __GFP_WRITE = 1 << 25;

/**
 * __GFP_RECLAIM: __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM, direct reclaim and kswapd both
 * allowed. Kernel 6: 0xc00 (4.4+); on a kernel 2.6 machine it is __GFP_WAIT, 0x10.
 */
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
/**
 * GFP_ATOMIC: an allocation that must not sleep and may dig into the reserves below the min
 * watermark; for interrupt handlers, softirqs, tasklets and code holding a spinlock. Context: any;
 * never sleeps. 2.6.34: 0x20 (__GFP_HIGH); kernel 6: 0x820 (__GFP_HIGH | __GFP_KSWAPD_RECLAIM,
 * as 6.3+ has it; 6.1 also sets __GFP_ATOMIC, 0xa20, a bit mmsim lacks).
 */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/**
 * GFP_NOWAIT: an allocation that must not sleep, without GFP_ATOMIC's __GFP_HIGH claim on the
 * reserves. Context: any; never sleeps. 2.6.34: 0 (GFP_ATOMIC without __GFP_HIGH); kernel 6: 0x2800
 * (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN, as later 6.x has it, so its failures print no warning;
 * 6.1's is 0x800, without __GFP_NOWARN).
 */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | NOWAIT_NOWARN_6;
/**
 * GFP_NOIO: may sleep and reclaim, but start no IO (and no filesystem calls); for the block layer.
 * Context: process; may sleep. 2.6.34: 0x10; kernel 6: 0xc00.
 */
export const GFP_NOIO = __GFP_RECLAIM;
/**
 * GFP_NOFS: may sleep, reclaim and start IO, but not call into the filesystem; for filesystem
 * code holding its locks. Context: process; may sleep. 2.6.34: 0x50; kernel 6: 0xc40.
 */
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
/**
 * GFP_KERNEL: the usual kernel allocation: may sleep, reclaim, start IO and call into the
 * filesystem. Context: process; may sleep. 2.6.34: 0xd0; kernel 6: 0xcc0.
 */
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/**
 * GFP_KERNEL_ACCOUNT: GFP_KERNEL charged to the memory cgroup. Context: process; may sleep.
 * Kernel 6: 0x400cc0 (4.5+); 2.6.34 has none (a kernel 2.6 machine holds GFP_KERNEL's 0xd0).
 * mmsim has no memory cgroups: it allocates as GFP_KERNEL.
 */
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
/**
 * GFP_TEMPORARY: GFP_KERNEL | __GFP_RECLAIMABLE, for short-lived allocations. Context: process;
 * may sleep. 2.6.34: 0x800d0; Linux removed it in 4.14, and mmsim throws a ScenarioError where a
 * kernel 6 machine would print a mask holding it.
 */
export const GFP_TEMPORARY = GFP_KERNEL | __GFP_RECLAIMABLE | TEMPORARY;
/**
 * GFP_USER: GFP_KERNEL | __GFP_HARDWALL, for user-space memory the kernel also reaches directly.
 * Context: process; may sleep. 2.6.34: 0x200d0; kernel 6: 0x100cc0.
 */
export const GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
/**
 * GFP_HIGHUSER: GFP_USER | __GFP_HIGHMEM, user-space memory that may be in HighMem. Context:
 * process; may sleep. 2.6.34: 0x200d2; kernel 6: 0x100cc2.
 */
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
/**
 * GFP_HIGHUSER_MOVABLE: GFP_HIGHUSER | __GFP_MOVABLE, user-space pages that may be in HighMem and
 * can be migrated or reclaimed (anonymous and page-cache pages). Context: process; may sleep.
 * 2.6.34: 0x200da; kernel 6: 0x100cca.
 */
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
/**
 * GFP_DMA: __GFP_DMA, a zone modifier: OR it into GFP_KERNEL or GFP_ATOMIC for memory from
 * ZONE_DMA (alone it is a mask that cannot sleep). 0x01 in both eras.
 */
export const GFP_DMA = __GFP_DMA;
/** GFP_DMA32: __GFP_DMA32, a zone modifier (ZONE_DMA32, below 4 GiB) to OR into another mask. 0x04 in both eras. */
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
