// mm/slab.c with CONFIG_DEBUG_SLAB (2.6.34, DEBUG and STATS on): red zones, poisoning, the last
// user, and the checks that read them. kmem_cache_create() forces them on (FORCED_DEBUG): red
// zones and the user word below 4096 bytes (or where they do not cross a power of two), poison
// unless SLAB_DESTROY_BY_RCU. Layout of a buffer (slab_geometry.ts, obj_offset = align):
//   [align bytes: red zone 1 is the last 8][object, obj_size][red zone 2, 8][last user, 8]
// (without STORE_USER red zone 2 ends the buffer).
// - A new slab (cache_init_objs): objects poisoned POISON_FREE (0x6b, the last byte POISON_END
//   0xa5), red zones RED_INACTIVE; a ctor runs only in a cache without poison, and overwriting a
//   red zone there is "constructor overwrote the end/start of an object".
// - Allocation (cache_alloc_debugcheck_after): a poisoned object written while free is the
//   "Slab corruption" report (check_poison_obj: the object's info, up to 6 lines of 16 bytes
//   from the first bad one, "Single bit error detected" for a lone flipped bit, the neighbours);
//   it is then poisoned POISON_INUSE (0x5a); a red zone not RED_INACTIVE is the slab error
//   "double free, or memory outside object was overwritten"; the zones become RED_ACTIVE; the
//   caller is the last user. With poison the ctor runs at every allocation.
// - Free (cache_free_debugcheck): a pointer that is not its object's start is a BUG; red zones
//   both RED_INACTIVE are "double free detected", not both RED_ACTIVE "memory outside object was
//   overwritten" (verify_redzone_free; the free goes on); then RED_INACTIVE, the last user, poison.
// - Back in its slab (slab_put_obj): an object already on the slab's free chain is "slab: double
//   free detected in cache ..." and a BUG (slab.ts).
// - A slab destroyed (slab_destroy_debugcheck): each object's poison checked, red zones must be
//   RED_INACTIVE ("start/end of a freed object was overwritten").
// All of these only print, except the BUGs, as in Linux.
// Writes reach these checks through the access path (mem_write, memset, memcpy on slab pages,
// access.ts's write watch). mmsim stores where bytes were written and the value when it is known
// (memset), not data: a byte written by mem_write or memcpy prints as "??" and always counts as
// changed. The last user prints as the calling function's name, "Last user: (func)" (Linux:
// "Last user: [<address>](func+off/size)"). Not modelled: CONFIG_DEBUG_PAGEALLOC's unmapped
// objects, check_slabp's list checks, the ARCH_SLAB_MINALIGN alignment warning.
import type { Kernel } from "../kernel.ts";
import { dump_stack } from "../dumpstack.ts";
import type { MmState } from "./mm_state.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import { SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER } from "./slab_geometry.ts";

/** include/linux/poison.h. */
export const RED_INACTIVE = 0x09f911029d74e35bn;
export const RED_ACTIVE = 0xd84156c5635688c0n;
export const POISON_INUSE = 0x5a;
export const POISON_FREE = 0x6b;
export const POISON_END = 0xa5;
/** A written byte whose value mmsim does not know. */
const UNKNOWN = -1;

/** One slab's debug state, by object index. */
export interface SlabDebug {
  /** Each red zone's word: RED_INACTIVE or RED_ACTIVE as last set, bytes written over it since. */
  readonly rz1: bigint[];
  readonly rz2: bigint[];
  readonly rz1_written: Map<number, number>[];
  readonly rz2_written: Map<number, number>[];
  /** The poison last laid (POISON_FREE: free; POISON_INUSE: allocated). */
  readonly poison: Uint8Array;
  /** Bytes of each object written since it was last poisoned: offset -> value (UNKNOWN: not known). */
  readonly written: Map<number, number>[];
  /** The last user (caller) of each object; null before any. */
  readonly user: (string | null)[];
}

/** What the debug checks need of a cache and a slab (slab.ts's types, structurally). */
export interface DCache {
  readonly name: string;
  readonly flags: number;
  readonly size: number;
  readonly num: number;
  readonly debug: { readonly obj_offset: number; readonly obj_size: number };
}
export interface DSlab {
  readonly s_mem: kaddr_t;
  debug?: SlabDebug;
}

const REDZONE = 8; // sizeof(unsigned long long)
/** Red zone 2's offset in the buffer (dbg_redzone2: REDZONE_ALIGN, 8, below the user word). */
const rz2_offset = (c: DCache): number => (c.flags & SLAB_STORE_USER ? c.size - REDZONE - 8 : c.size - REDZONE);

/** cache_init_objs()'s debug part: every object poisoned free, red zones inactive, no user. */
export function debug_init_slab(c: DCache, sp: DSlab): void {
  sp.debug = {
    rz1: Array.from({ length: c.num }, () => RED_INACTIVE),
    rz2: Array.from({ length: c.num }, () => RED_INACTIVE),
    rz1_written: Array.from({ length: c.num }, () => new Map()),
    rz2_written: Array.from({ length: c.num }, () => new Map()),
    poison: new Uint8Array(c.num).fill(POISON_FREE),
    written: Array.from({ length: c.num }, () => new Map()),
    user: Array.from({ length: c.num }, () => null),
  };
}

/** A red zone word as %llx prints it, the bytes written over it (little-endian) as they are known. */
function zone_hex(word: bigint, written: Map<number, number>): string {
  let out = "";
  for (let b = 7; b >= 0; b--) {
    const v = written.has(b) ? written.get(b)! : Number((word >> BigInt(8 * b)) & 0xffn);
    out += v === UNKNOWN ? "??" : v.toString(16).padStart(2, "0");
  }
  return out.replace(/^0+(?=.)/, "");
}
const zone_is = (word: bigint, written: Map<number, number>, magic: bigint): boolean => word === magic && [...written].every(([b, v]) => v !== UNKNOWN && v === Number((magic >> BigInt(8 * b)) & 0xffn));

function slab_error(k: Kernel, func: string, c: DCache, msg: string, after: string[] = []): void {
  k.report("slab_error", [`slab error in ${func}(): cache \`${c.name}': ${msg}`, ...dump_stack(k.this_ctx(), [func, "__slab_error"]), ...after].join("\n"));
}

const ALLOCATOR_FRAMES = new Set(["kmem_cache_alloc", "kmem_cache_free", "__kmalloc", "kfree", "__cache_alloc", "__cache_free"]);
/** __builtin_return_address(0) of the allocator's entry: the function that called it. */
const caller = (k: Kernel): string => [...k.this_ctx().frames].reverse().find((x) => !ALLOCATOR_FRAMES.has(x)) ?? "(null)";

/** Byte `o` of object `i` as it now is. */
function obj_byte(c: DCache, d: SlabDebug, i: number, o: number): number {
  const w = d.written[i]!.get(o);
  if (w !== undefined) return w;
  return o === c.debug.obj_size - 1 ? POISON_END : d.poison[i]!;
}

/** dump_line(): "%03x:" and the bytes; a lone byte off POISON_FREE by one bit is flagged. */
function dump_line(c: DCache, d: SlabDebug, i: number, offset: number, limit: number): string[] {
  const bytes: string[] = [];
  let bad = 0;
  let error = 0;
  for (let o = offset; o < offset + limit; o++) {
    const v = obj_byte(c, d, i, o);
    if (v !== POISON_FREE) {
      error = v;
      bad++;
    }
    bytes.push(v === UNKNOWN ? "??" : v.toString(16).padStart(2, "0"));
  }
  const out = [`${offset.toString(16).padStart(3, "0")}: ${bytes.join(" ")}`];
  if (bad === 1 && error !== UNKNOWN) {
    const e = error ^ POISON_FREE;
    if ((e & (e - 1)) === 0) out.push("Single bit error detected. Probably bad RAM.", "Run memtest86+ or a similar memory test tool.");
  }
  return out;
}

/** print_objinfo(): the red zones, the last user, `lines` lines of the object. */
function print_objinfo(c: DCache, d: SlabDebug, i: number, lines: number): string[] {
  const out: string[] = [];
  if (c.flags & SLAB_RED_ZONE) out.push(`Redzone: 0x${zone_hex(d.rz1[i]!, d.rz1_written[i]!)}/0x${zone_hex(d.rz2[i]!, d.rz2_written[i]!)}.`);
  if (c.flags & SLAB_STORE_USER) out.push(`Last user: ${d.user[i] === null ? "(null)" : `(${d.user[i]})`}`);
  const size = c.debug.obj_size;
  for (let o = 0; o < size && lines > 0; o += 16, lines--) out.push(...dump_line(c, d, i, o, Math.min(16, size - o)));
  return out;
}

/** check_poison_obj(): reports an object written since it was poisoned free. */
function check_poison_obj(k: Kernel, mm: MmState, c: DCache, sp: DSlab, i: number): void {
  const d = sp.debug!;
  const size = c.debug.obj_size;
  const start = (j: number): string => format_kaddr(mm.dm, sp.s_mem + j * c.size + c.debug.obj_offset);
  const out: string[] = [];
  let lines = 0;
  for (let o = 0; o < size; o++) {
    const exp = o === size - 1 ? POISON_END : POISON_FREE;
    if (obj_byte(c, d, i, o) === exp) continue;
    if (lines === 0) out.push(`Slab corruption: ${c.name} start=${start(i)}, len=${size}`, ...print_objinfo(c, d, i, 0));
    o = Math.floor(o / 16) * 16;
    out.push(...dump_line(c, d, i, o, Math.min(16, size - o)));
    o += 16; // and the loop's o++: Linux resumes at the line's 17th byte
    if (++lines > 5) break;
  }
  if (lines === 0) return;
  if (i > 0) out.push(`Prev obj: start=${start(i - 1)}, len=${size}`, ...print_objinfo(c, d, i - 1, 2));
  if (i + 1 < c.num) out.push(`Next obj: start=${start(i + 1)}, len=${size}`, ...print_objinfo(c, d, i + 1, 2));
  k.report("slab_error", out.join("\n"));
}

/** poison_obj(): the object filled with `val`, its last byte POISON_END. */
function poison_obj(d: SlabDebug, i: number, val: number): void {
  d.poison[i] = val;
  d.written[i]!.clear();
}

const redzones = (d: SlabDebug, i: number): string => `redzone 1:0x${zone_hex(d.rz1[i]!, d.rz1_written[i]!)}, redzone 2:0x${zone_hex(d.rz2[i]!, d.rz2_written[i]!)}`;

function set_zones(d: SlabDebug, i: number, word: bigint): void {
  d.rz1[i] = d.rz2[i] = word;
  d.rz1_written[i]!.clear();
  d.rz2_written[i]!.clear();
}

/**
 * cache_init_objs() for a cache without poison and with a ctor: the red zones checked after the
 * ctor ran (the caller ran it on each object).
 */
export function check_ctor_redzones(k: Kernel, c: DCache, sp: DSlab): void {
  const d = sp.debug!;
  if (!(c.flags & SLAB_RED_ZONE)) return;
  for (let i = 0; i < c.num; i++) {
    if (!zone_is(d.rz2[i]!, d.rz2_written[i]!, RED_INACTIVE)) slab_error(k, "cache_init_objs", c, "constructor overwrote the end of an object");
    if (!zone_is(d.rz1[i]!, d.rz1_written[i]!, RED_INACTIVE)) slab_error(k, "cache_init_objs", c, "constructor overwrote the start of an object");
  }
}

/** cache_alloc_debugcheck_after(): buffer `objp` (object `i`) leaves the allocator; returns the caller's pointer. */
export function cache_alloc_debugcheck_after(k: Kernel, mm: MmState, c: DCache, sp: DSlab, i: number, objp: kaddr_t): kaddr_t {
  const d = sp.debug!;
  if (c.flags & SLAB_POISON) {
    check_poison_obj(k, mm, c, sp, i);
    poison_obj(d, i, POISON_INUSE);
  }
  if (c.flags & SLAB_STORE_USER) d.user[i] = caller(k);
  if (c.flags & SLAB_RED_ZONE) {
    if (!zone_is(d.rz1[i]!, d.rz1_written[i]!, RED_INACTIVE) || !zone_is(d.rz2[i]!, d.rz2_written[i]!, RED_INACTIVE)) {
      slab_error(k, "cache_alloc_debugcheck_after", c, "double free, or memory outside object was overwritten", [`${format_kaddr(mm.dm, objp)}: ${redzones(d, i)}`]);
    }
    set_zones(d, i, RED_ACTIVE);
  }
  return objp + c.debug.obj_offset;
}

/**
 * cache_free_debugcheck(): the caller's pointer back to its buffer, the red zones checked and
 * reset, the last user, the poison. Returns [buffer, index], or the BUG's location for a pointer
 * that is not an object's start.
 */
export function cache_free_debugcheck(k: Kernel, mm: MmState, c: DCache, sp: DSlab, obj: kaddr_t): [kaddr_t, number] | string {
  const d = sp.debug!;
  const objp = obj - c.debug.obj_offset;
  const i = Math.floor((objp - sp.s_mem) / c.size);
  if (i < 0 || i >= c.num) return "mm/slab.c: cache_free_debugcheck(): BUG_ON(objnr >= cachep->num)";
  if (objp !== sp.s_mem + i * c.size) return "mm/slab.c: cache_free_debugcheck(): BUG_ON(objp != index_to_obj(cachep, slabp, objnr))";
  if (c.flags & SLAB_RED_ZONE) {
    if (!zone_is(d.rz1[i]!, d.rz1_written[i]!, RED_ACTIVE) || !zone_is(d.rz2[i]!, d.rz2_written[i]!, RED_ACTIVE)) {
      const dbl = zone_is(d.rz1[i]!, d.rz1_written[i]!, RED_INACTIVE) && zone_is(d.rz2[i]!, d.rz2_written[i]!, RED_INACTIVE);
      slab_error(k, "verify_redzone_free", c, dbl ? "double free detected" : "memory outside object was overwritten", [`${format_kaddr(mm.dm, objp)}: ${redzones(d, i)}.`]);
    }
    set_zones(d, i, RED_INACTIVE);
  }
  if (c.flags & SLAB_STORE_USER) d.user[i] = caller(k);
  if (c.flags & SLAB_POISON) poison_obj(d, i, POISON_FREE);
  return [objp, i];
}

/** slab_destroy_debugcheck(): every object's poison and red zones before the slab's pages go. */
export function slab_destroy_debugcheck(k: Kernel, mm: MmState, c: DCache, sp: DSlab): void {
  const d = sp.debug;
  if (d === undefined) return;
  for (let i = 0; i < c.num; i++) {
    if (c.flags & SLAB_POISON) check_poison_obj(k, mm, c, sp, i);
    if (c.flags & SLAB_RED_ZONE) {
      if (!zone_is(d.rz1[i]!, d.rz1_written[i]!, RED_INACTIVE)) slab_error(k, "slab_destroy_debugcheck", c, "start of a freed object was overwritten");
      if (!zone_is(d.rz2[i]!, d.rz2_written[i]!, RED_INACTIVE)) slab_error(k, "slab_destroy_debugcheck", c, "end of a freed object was overwritten");
    }
  }
}

/**
 * A write of `len` bytes at `addr` (value `val` when memset knows it) inside a debug slab: red
 * zones and objects record the bytes. The management area and colour are not watched.
 */
export function slab_debug_write(c: DCache, sp: DSlab, addr: kaddr_t, len: number, val: number | undefined): void {
  const d = sp.debug;
  if (d === undefined) return;
  const v = val === undefined ? UNKNOWN : val & 0xff;
  const { obj_offset, obj_size } = c.debug;
  const rz2_at = rz2_offset(c);
  const end = Math.min(addr + len, sp.s_mem + c.num * c.size);
  for (let a = Math.max(addr, sp.s_mem); a < end; a++) {
    const i = Math.floor((a - sp.s_mem) / c.size);
    const o = a - sp.s_mem - i * c.size;
    if (o >= obj_offset && o < obj_offset + obj_size) {
      if (c.flags & SLAB_POISON) d.written[i]!.set(o - obj_offset, v);
    } else if (c.flags & SLAB_RED_ZONE && o >= obj_offset - REDZONE && o < obj_offset) d.rz1_written[i]!.set(o - (obj_offset - REDZONE), v);
    else if (c.flags & SLAB_RED_ZONE && o >= rz2_at && o < rz2_at + REDZONE) d.rz2_written[i]!.set(o - rz2_at, v);
  }
}
