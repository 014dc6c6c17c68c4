// mm/slab.c (2.6.34) sizing, as pure functions: kmem_cache_create()'s rounding and alignment,
// the on/off-slab choice, calculate_slab_order() over cache_estimate(), and colouring; plus
// enable_cpucache()'s per-CPU tunables. Worked numbers: test/kernel/mm/slab_geometry.test.ts.
// With CONFIG_DEBUG_SLAB off (the default build), SLAB_RED_ZONE, SLAB_POISON and SLAB_STORE_USER
// are not in 2.6.34's CREATE_MASK (kmem_cache_create BUGs on them; 6.1 masks them off); with the
// machine's debug_slab on, kmem_cache_geometry applies DEBUG's layout.

export const SLAB_DEBUG_FREE = 0x00000100;
/**
 * SLAB_RED_ZONE (0x400): red zones around each object catch overruns (a debug flag). Needs
 * CONFIG_DEBUG_SLAB (the machine's memory.debug_slab, 2.6 only); without it 2.6.34's
 * kmem_cache_create() BUGs on the flag and kernel 6 masks it off.
 */
export const SLAB_RED_ZONE = 0x00000400;
/**
 * SLAB_POISON (0x800): free objects are filled with a poison pattern that is checked when they are
 * allocated again (a debug flag). Needs CONFIG_DEBUG_SLAB (the machine's memory.debug_slab, 2.6
 * only); without it 2.6.34's kmem_cache_create() BUGs on the flag and kernel 6 masks it off.
 */
export const SLAB_POISON = 0x00000800;
/**
 * SLAB_HWCACHE_ALIGN (0x2000): align objects on the cache line (cache_line_size(), halved while
 * the object fits in half of it). The same value in both eras.
 */
export const SLAB_HWCACHE_ALIGN = 0x00002000;
/** SLAB_CACHE_DMA (0x4000): the cache's slabs come from ZONE_DMA (GFP_DMA added to each slab allocation). The same value in both eras. */
export const SLAB_CACHE_DMA = 0x00004000;
/**
 * SLAB_STORE_USER (0x10000): each object records its last user, for debugging reports (a debug
 * flag). Needs CONFIG_DEBUG_SLAB (the machine's memory.debug_slab, 2.6 only); without it 2.6.34's
 * kmem_cache_create() BUGs on the flag and kernel 6 masks it off.
 */
export const SLAB_STORE_USER = 0x00010000;
/**
 * SLAB_RECLAIM_ACCOUNT (0x20000): the cache's objects are reclaimable (a shrinker frees them):
 * slabs are allocated with __GFP_RECLAIMABLE and counted as NR_SLAB_RECLAIMABLE (SReclaimable),
 * and the slab order stays at the smallest that fits. The same value in both eras.
 */
export const SLAB_RECLAIM_ACCOUNT = 0x00020000;
/** SLAB_PANIC (0x40000): kmem_cache_create() panics instead of returning NULL when it fails. The same value in both eras. */
export const SLAB_PANIC = 0x00040000;
export const SLAB_DESTROY_BY_RCU = 0x00080000;
export const SLAB_MEM_SPREAD = 0x00100000;
export const SLAB_DEBUG_OBJECTS = 0x00400000;
export const SLAB_NOLEAKTRACE = 0x00800000;
export const SLAB_NOTRACK = 0x01000000;
/** 2.6.34 mm/slab.c CREATE_MASK: the flags kmem_cache_create() takes; DEBUG adds the debug ones. */
export const CREATE_MASK = (debug: boolean): number =>
  (debug ? SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER : 0) |
  SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_RECLAIM_ACCOUNT | SLAB_PANIC | SLAB_DESTROY_BY_RCU | SLAB_MEM_SPREAD | SLAB_DEBUG_OBJECTS | SLAB_NOLEAKTRACE | SLAB_NOTRACK;
/** mm/slab.c: the management (struct slab + bufctls) lives in another cache. */
export const CFLGS_OFF_SLAB = 0x80000000;

/** The ABI numbers the geometry needs (sizeof(struct slab), BYTES_PER_WORD; kmem_bufctl_t is 4 bytes). */
export interface SlabAbi {
  readonly bytes_per_word: number;
  readonly sizeof_slab: number;
}
export const SLAB_ABI: Record<"i386" | "x86_64", SlabAbi> = {
  i386: { bytes_per_word: 4, sizeof_slab: 28 },
  x86_64: { bytes_per_word: 8, sizeof_slab: 48 },
};
export const SIZEOF_BUFCTL = 4;
export const PAGE_SIZE = 4096;
/** KMALLOC_MAX_ORDER with MAX_ORDER 11 and 4 KiB pages (KMALLOC_SHIFT_HIGH 22). */
export const KMALLOC_MAX_ORDER = 10;
export const KMALLOC_MAX_SIZE = PAGE_SIZE << KMALLOC_MAX_ORDER;
/** ARCH_KMALLOC_MINALIGN: __alignof__(unsigned long long). */
export const ARCH_KMALLOC_MINALIGN = 8;
const SLAB_LIMIT = 0xfffffffc;

const ALIGN = (x: number, a: number): number => Math.ceil(x / a) * a;

export interface Geometry {
  /** buffer_size: the object's size in the slab, aligned. */
  readonly size: number;
  readonly align: number;
  /** Objects per slab, and the slab's page order. */
  readonly num: number;
  readonly gfporder: number;
  readonly left_over: number;
  readonly colour: number;
  readonly colour_off: number;
  /** The management area's bytes (aligned on-slab, exact off-slab). */
  readonly slab_size: number;
  readonly off_slab: boolean;
}

const slab_mgmt_size = (abi: SlabAbi, nr_objs: number, align: number): number => ALIGN(abi.sizeof_slab + nr_objs * SIZEOF_BUFCTL, align);

/** cache_estimate(): objects in a slab of 2^gfporder pages, and what is left over. */
export function cache_estimate(abi: SlabAbi, gfporder: number, size: number, align: number, off_slab: boolean): { num: number; left_over: number } {
  const slab_bytes = PAGE_SIZE << gfporder;
  let nr_objs: number;
  let mgmt = 0;
  if (off_slab) {
    nr_objs = Math.min(Math.floor(slab_bytes / size), SLAB_LIMIT);
  } else {
    nr_objs = Math.floor((slab_bytes - abi.sizeof_slab) / (size + SIZEOF_BUFCTL));
    if (slab_mgmt_size(abi, nr_objs, align) + nr_objs * size > slab_bytes) nr_objs--;
    nr_objs = Math.min(nr_objs, SLAB_LIMIT);
    mgmt = slab_mgmt_size(abi, nr_objs, align);
  }
  return { num: nr_objs, left_over: slab_bytes - nr_objs * size - mgmt };
}

/**
 * calculate_slab_order(): the smallest order with objects, grown while the waste is more than an
 * eighth of the slab and the order is below slab_break_gfp_order.
 */
export function calculate_slab_order(abi: SlabAbi, size: number, align: number, flags: number, slab_break_gfp_order: number): { num: number; gfporder: number; left_over: number } {
  let best = { num: 0, gfporder: 0, left_over: 0 };
  for (let gfporder = 0; gfporder <= KMALLOC_MAX_ORDER; gfporder++) {
    const { num, left_over } = cache_estimate(abi, gfporder, size, align, (flags & CFLGS_OFF_SLAB) !== 0);
    if (num === 0) continue;
    if (flags & CFLGS_OFF_SLAB && num > Math.floor((size - abi.sizeof_slab) / SIZEOF_BUFCTL)) break;
    best = { num, gfporder, left_over };
    if (flags & SLAB_RECLAIM_ACCOUNT) break;
    if (gfporder >= slab_break_gfp_order) break;
    if (left_over * 8 <= PAGE_SIZE << gfporder) break;
  }
  return best;
}

/** DEBUG's additions to the object: red zone words around it, a last-user word after. */
export interface DebugLayout {
  /** obj_offset: bytes before the object (the first red zone word). */
  readonly obj_offset: number;
  /** obj_size: the caller's object size. */
  readonly obj_size: number;
}

/**
 * kmem_cache_create()'s sizing. `size`: the caller's; `cache_line`: cache_line_size();
 * `early`: slab_early_init (no off-slab management yet). With `debug` (CONFIG_DEBUG_SLAB), red
 * zones and the user word are added as DEBUG does. Returns null when no order holds an object.
 */
export function kmem_cache_geometry(
  abi: SlabAbi,
  size: number,
  align: number,
  flags: number,
  cache_line: number,
  slab_break_gfp_order: number,
  early = false,
  debug = false,
): (Geometry & { flags: number; debug: DebugLayout }) | null {
  const W = abi.bytes_per_word;
  const REDZONE_ALIGN = Math.max(W, 8);
  if (!debug) flags &= ~(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
  size = ALIGN(size, W);
  let ralign: number;
  if (flags & SLAB_HWCACHE_ALIGN) {
    ralign = cache_line;
    while (size <= ralign / 2) ralign /= 2;
  } else ralign = W;
  if (flags & SLAB_STORE_USER) ralign = W;
  if (flags & SLAB_RED_ZONE) {
    ralign = REDZONE_ALIGN;
    size = ALIGN(size, REDZONE_ALIGN);
  }
  if (ralign < align) ralign = align;
  if (ralign > 8) flags &= ~(SLAB_RED_ZONE | SLAB_STORE_USER);
  align = ralign;
  // DEBUG: a red zone word (unsigned long long) before (obj_offset: `align` bytes) and after the
  // object, and the last user's address at the end.
  const obj_size = size;
  let obj_offset = 0;
  if (flags & SLAB_RED_ZONE) {
    obj_offset = align;
    size += align + 8;
  }
  if (flags & SLAB_STORE_USER) size += flags & SLAB_RED_ZONE ? REDZONE_ALIGN : W;
  if (size >= PAGE_SIZE >> 3 && !early) flags |= CFLGS_OFF_SLAB;
  size = ALIGN(size, align);
  const o = calculate_slab_order(abi, size, align, flags, slab_break_gfp_order);
  if (o.num === 0) return null;
  let left_over = o.left_over;
  let slab_size = ALIGN(o.num * SIZEOF_BUFCTL + abi.sizeof_slab, align);
  if (flags & CFLGS_OFF_SLAB && left_over >= slab_size) {
    flags &= ~CFLGS_OFF_SLAB;
    left_over -= slab_size;
  }
  if (flags & CFLGS_OFF_SLAB) slab_size = o.num * SIZEOF_BUFCTL + abi.sizeof_slab;
  const colour_off = Math.max(cache_line, align);
  return {
    size,
    align,
    num: o.num,
    gfporder: o.gfporder,
    left_over,
    colour: Math.floor(left_over / colour_off),
    colour_off,
    slab_size,
    off_slab: (flags & CFLGS_OFF_SLAB) !== 0,
    flags,
    debug: { obj_offset, obj_size },
  };
}

/** enable_cpucache(): limit by object size, batchcount, and the shared array's factor. */
export function cpucache_tunables(size: number, ncpus: number, debug = false): { limit: number; batchcount: number; shared: number } {
  let limit = size > 131072 ? 1 : size > PAGE_SIZE ? 8 : size > 1024 ? 24 : size > 256 ? 54 : 120;
  if (debug && limit > 32) limit = 32;
  const shared = size <= PAGE_SIZE && ncpus > 1 ? 8 : 0;
  return { limit, batchcount: Math.floor((limit + 1) / 2), shared };
}

/** 6.1 CFLGS_OBJFREELIST_SLAB: the freelist lives in a free object. */
export const CFLGS_OBJFREELIST_SLAB = 0x40000000;
/** 6.1 freelist_idx_t is one byte with 4 KiB pages: at most 255 objects, objects of 16 bytes at least. */
const SLAB_OBJ_MAX_NUM = 255;
const SLAB_OBJ_MIN_SIZE = 16;

/** 6.1 cache_estimate(): the freelist is one byte an object, inside an object or off-slab, or at the slab's end. */
function cache_estimate_6(gfporder: number, size: number, flags: number): { num: number; left_over: number } {
  const slab_bytes = PAGE_SIZE << gfporder;
  if (flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)) return { num: Math.floor(slab_bytes / size), left_over: slab_bytes % size };
  return { num: Math.floor(slab_bytes / (size + 1)), left_over: slab_bytes % (size + 1) };
}

/** A kmalloc cache that could hold an off-slab freelist: its object size and whether it is itself off-slab. */
export type FreelistLookup = (bytes: number) => { size: number; off_slab: boolean } | null;

/** 6.1 calculate_slab_order(); with CFLGS_OFF_SLAB the freelist's kmalloc cache must exist, be on-slab and at most half an object. */
function calculate_slab_order_6(size: number, object_size: number, flags: number, max_order: number, freelist: FreelistLookup): { num: number; gfporder: number; left_over: number } {
  let best = { num: 0, gfporder: 0, left_over: 0 };
  for (let gfporder = 0; gfporder <= KMALLOC_MAX_ORDER; gfporder++) {
    const { num, left_over } = cache_estimate_6(gfporder, size, flags);
    if (num === 0) continue;
    if (num > SLAB_OBJ_MAX_NUM) break;
    if (flags & CFLGS_OFF_SLAB) {
      const fc = freelist(num);
      if (fc === null || fc.off_slab || fc.size > object_size / 2) continue; // cachep->size is still the caller's here
    }
    best = { num, gfporder, left_over };
    if (flags & SLAB_RECLAIM_ACCOUNT) break;
    if (gfporder >= max_order) break;
    if (left_over * 8 <= PAGE_SIZE << gfporder) break;
  }
  return best;
}

/**
 * 6.1's __kmem_cache_create sizing (mm/slab.c) after calculate_alignment (slab_common.c): the
 * freelist in a free object (no ctor, and it fits in one), else off-slab when that leaves
 * nothing it could have used, else on-slab at the slab's end. `slab_size` is the freelist's
 * bytes (num); off-slab it comes from the kmalloc cache `freelist` names.
 */
export function kmem_cache_geometry_6(
  abi: SlabAbi,
  size: number,
  align: number,
  flags: number,
  cache_line: number,
  max_order: number,
  has_ctor: boolean,
  freelist: FreelistLookup,
  kasan?: (size: number) => number,
): (Geometry & { flags: number; debug: DebugLayout }) | null {
  const W = abi.bytes_per_word;
  const object_size = size;
  flags &= ~(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
  // calculate_alignment(): SLAB_HWCACHE_ALIGN's halved cache line, at least the caller's, a word multiple.
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = cache_line;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = ALIGN(Math.max(align, W), W);
  // __kmem_cache_create(): kasan_cache_create() grows the buffer before it is aligned.
  size = ALIGN(kasan !== undefined ? kasan(ALIGN(size, W)) : ALIGN(size, W), align);
  if (size < SLAB_OBJ_MIN_SIZE) size = ALIGN(SLAB_OBJ_MIN_SIZE, align);
  const colour_off = Math.max(cache_line, align);
  const done = (o: { num: number; gfporder: number; left_over: number }, f: number) => ({
    size,
    align,
    num: o.num,
    gfporder: o.gfporder,
    left_over: o.left_over,
    colour: Math.floor(o.left_over / colour_off),
    colour_off,
    slab_size: f & CFLGS_OBJFREELIST_SLAB ? 0 : o.num,
    off_slab: (f & CFLGS_OFF_SLAB) !== 0,
    flags: f,
    debug: { obj_offset: 0, obj_size: object_size },
  });
  if (!has_ctor && !(flags & SLAB_DESTROY_BY_RCU)) {
    const o = calculate_slab_order_6(size, object_size, flags | CFLGS_OBJFREELIST_SLAB, max_order, freelist);
    if (o.num > 0 && o.num <= object_size) return done(o, flags | CFLGS_OBJFREELIST_SLAB);
  }
  const off = calculate_slab_order_6(size, object_size, flags | CFLGS_OFF_SLAB, max_order, freelist);
  if (off.num > 0 && off.left_over < off.num) return done(off, flags | CFLGS_OFF_SLAB);
  const on = calculate_slab_order_6(size, object_size, flags, max_order, freelist);
  return on.num > 0 ? done(on, flags) : null;
}
