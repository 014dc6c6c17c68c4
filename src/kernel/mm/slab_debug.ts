// mm/slab.c with CONFIG_DEBUG_SLAB (2.6.34): red zones, poisoning and the last user, and the
// checks that read them. Every cache gets them (FORCED_DEBUG: SLAB_RED_ZONE | SLAB_STORE_USER
// below 4096 bytes, SLAB_POISON unless SLAB_DESTROY_BY_RCU). Layout of a buffer:
// [redzone 1 (the 8 bytes before obj_offset)][object, obj_size][redzone 2, 8 bytes][last user].
// - A new slab: objects poisoned (0x6b, the last byte 0xa5), red zones RED_INACTIVE.
// - Allocation (cache_alloc_debugcheck_after): a poisoned object written while free is
//   "Slab corruption: NAME start=%p, len=%d" with the rows that changed; a red zone not
//   RED_INACTIVE is "double free, or memory outside object was overwritten"; then RED_ACTIVE.
// - Free (cache_free_debugcheck): a pointer that is not an object's start is a BUG; red zones
//   both RED_INACTIVE are "double free detected", otherwise not RED_ACTIVE "memory outside object
//   was overwritten"; then RED_INACTIVE and the object poisoned again.
// - Back in its slab (slab_put_obj): an object already free there is "slab: double free detected
//   in cache ..." and a BUG.
// Writes are seen through the access path (mem_write, memset, memcpy on slab pages). mmsim keeps
// where bytes were written, not their values: a written byte prints as "??" where Linux prints it.
// The last user is the calling function's name (Linux prints its address and symbol).
import type { Kernel } from "../kernel.ts";
import { dump_stack } from "../dumpstack.ts";
import type { MmState } from "./mm_state.ts";
import { format_kaddr, virt_to_page, type kaddr_t } from "./page.ts";
import { SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER } from "./slab_geometry.ts";

const RED_INACTIVE = "09f911029d74e35b";
const RED_ACTIVE = "d84156c5635688c0";
const ZONE_INACTIVE = 0;
const ZONE_ACTIVE = 1;

/** One slab's debug state, by object index. */
export interface SlabDebug {
  /** Red zone state (0 RED_INACTIVE, 1 RED_ACTIVE) and the bytes written over each (bit mask). */
  readonly rz1: Uint8Array;
  readonly rz2: Uint8Array;
  readonly rz1_written: Uint8Array;
  readonly rz2_written: Uint8Array;
  /** The object is free and poisoned (1), in use (0). */
  readonly poisoned: Uint8Array;
  /** Offsets inside the object written while it was poisoned, per object. */
  readonly dirty: (Set<number> | null)[];
  /** The last user (caller) of each object. */
  readonly user: string[];
}

/** What the debug checks need of a cache and a slab (slab.ts's types, structurally). */
interface DCache {
  readonly name: string;
  readonly flags: number;
  readonly size: number;
  readonly num: number;
  readonly debug: { readonly obj_offset: number; readonly obj_size: number };
}
interface DSlab {
  readonly s_mem: kaddr_t;
  debug?: SlabDebug;
}

export function debug_init_slab(c: DCache, sp: DSlab): void {
  sp.debug = {
    rz1: new Uint8Array(c.num),
    rz2: new Uint8Array(c.num),
    rz1_written: new Uint8Array(c.num),
    rz2_written: new Uint8Array(c.num),
    poisoned: new Uint8Array(c.num).fill(c.flags & SLAB_POISON ? 1 : 0),
    dirty: Array.from({ length: c.num }, () => null),
    user: Array.from({ length: c.num }, () => "(null)"),
  };
}

/** %llx of a red zone word with the written bytes as "??" (leading zero digits dropped, as %llx does). */
function zone_hex(state: number, written: number): string {
  const magic = state === ZONE_ACTIVE ? RED_ACTIVE : RED_INACTIVE;
  let out = "";
  for (let b = 7; b >= 0; b--) out += written & (1 << b) ? "??" : magic.slice((7 - b) * 2, (7 - b) * 2 + 2);
  return out.replace(/^0+(?=.)/, "");
}

const redzones = (d: SlabDebug, i: number): string => `redzone 1:0x${zone_hex(d.rz1[i]!, d.rz1_written[i]!)}, redzone 2:0x${zone_hex(d.rz2[i]!, d.rz2_written[i]!)}`;

function slab_error(k: Kernel, func: string, c: DCache, msg: string, after: string[]): void {
  k.report("slab_error", [`slab error in ${func}(): cache \`${c.name}': ${msg}`, ...dump_stack(k.this_ctx(), [func, "__slab_error"]), ...after].join("\n"));
}

const caller = (k: Kernel): string => {
  const f = k.this_ctx().frames;
  return f.filter((x) => !["kmem_cache_alloc", "kmem_cache_free", "__kmalloc", "kfree"].includes(x)).pop() ?? "(null)";
};

/** check_poison_obj(): the report for an object written while it was free. */
function poison_report(k: Kernel, mm: MmState, c: DCache, sp: DSlab, i: number): void {
  const d = sp.debug!;
  const obj = sp.s_mem + i * c.size + c.debug.obj_offset;
  const rows = [...new Set([...d.dirty[i]!].map((o) => Math.floor(o / 16)))].sort((a, b) => a - b).slice(0, 5);
  const lines = [`Slab corruption: ${c.name} start=${format_kaddr(mm.dm, obj)}, len=${c.debug.obj_size}`];
  if (c.flags & SLAB_RED_ZONE) lines.push(`Redzone: 0x${zone_hex(d.rz1[i]!, d.rz1_written[i]!)}/0x${zone_hex(d.rz2[i]!, d.rz2_written[i]!)}.`);
  if (c.flags & SLAB_STORE_USER) lines.push(`Last user: (${d.user[i]})`);
  for (const r of rows) {
    const bytes: string[] = [];
    for (let o = r * 16; o < Math.min(r * 16 + 16, c.debug.obj_size); o++) bytes.push(d.dirty[i]!.has(o) ? "??" : o === c.debug.obj_size - 1 ? "a5" : "6b");
    lines.push(`${(r * 16).toString(16).padStart(3, "0")}: ${bytes.join(" ")}`);
  }
  if (i > 0) lines.push(`Prev obj: start=${format_kaddr(mm.dm, obj - c.size)}, len=${c.debug.obj_size}`);
  if (i + 1 < c.num) lines.push(`Next obj: start=${format_kaddr(mm.dm, obj + c.size)}, len=${c.debug.obj_size}`);
  k.report("slab_error", lines.join("\n"));
}

/** cache_alloc_debugcheck_after(): the object `i` leaves the allocator; returns the caller's pointer. */
export function cache_alloc_debugcheck_after(k: Kernel, mm: MmState, c: DCache, sp: DSlab, i: number, objp: kaddr_t): kaddr_t {
  const d = sp.debug!;
  if (c.flags & SLAB_POISON) {
    if (d.dirty[i] !== null) poison_report(k, mm, c, sp, i);
    d.dirty[i] = null;
    d.poisoned[i] = 0;
  }
  if (c.flags & SLAB_STORE_USER) d.user[i] = caller(k);
  if (c.flags & SLAB_RED_ZONE) {
    if (d.rz1[i] !== ZONE_INACTIVE || d.rz2[i] !== ZONE_INACTIVE || d.rz1_written[i] || d.rz2_written[i]) {
      slab_error(k, "cache_alloc_debugcheck_after", c, "double free, or memory outside object was overwritten", [`${format_kaddr(mm.dm, objp)}: ${redzones(d, i)}`]);
    }
    d.rz1[i] = d.rz2[i] = ZONE_ACTIVE;
    d.rz1_written[i] = d.rz2_written[i] = 0;
  }
  return objp + c.debug.obj_offset;
}

/**
 * cache_free_debugcheck(): the caller's pointer back to the buffer's start, the red zones
 * checked and reset, the object poisoned. Returns [buffer start, index], or a BUG's text.
 */
export function cache_free_debugcheck(k: Kernel, mm: MmState, c: DCache, sp: DSlab, obj: kaddr_t): [kaddr_t, number] | string {
  const d = sp.debug!;
  const objp = obj - c.debug.obj_offset;
  const i = Math.floor((objp - sp.s_mem) / c.size);
  if (i < 0 || i >= c.num || objp !== sp.s_mem + i * c.size) return `mm/slab.c: cache_free_debugcheck(): BUG_ON(objp != index_to_obj(cachep, slabp, objnr)) for ${format_kaddr(mm.dm, obj)}`;
  if (c.flags & SLAB_RED_ZONE) {
    const active = d.rz1[i] === ZONE_ACTIVE && d.rz2[i] === ZONE_ACTIVE && !d.rz1_written[i] && !d.rz2_written[i];
    if (!active) {
      const dbl = d.rz1[i] === ZONE_INACTIVE && d.rz2[i] === ZONE_INACTIVE && !d.rz1_written[i] && !d.rz2_written[i];
      slab_error(k, "verify_redzone_free", c, dbl ? "double free detected" : "memory outside object was overwritten", [`${format_kaddr(mm.dm, objp)}: ${redzones(d, i)}.`]);
    }
    d.rz1[i] = d.rz2[i] = ZONE_INACTIVE;
    d.rz1_written[i] = d.rz2_written[i] = 0;
  }
  if (c.flags & SLAB_STORE_USER) d.user[i] = caller(k);
  if (c.flags & SLAB_POISON) {
    d.poisoned[i] = 1;
    d.dirty[i] = null;
  }
  return [objp, i];
}

/** A write of `len` bytes at `addr` inside a debug cache's slab: red zones and poison see it. */
export function slab_debug_write(mm: MmState, c: DCache, sp: DSlab, addr: kaddr_t, len: number): void {
  const d = sp.debug;
  if (d === undefined) return;
  const { obj_offset, obj_size } = c.debug;
  const rz2_at = c.flags & SLAB_STORE_USER ? c.size - 8 - 8 : c.size - 8;
  for (let a = Math.max(addr, sp.s_mem); a < addr + len; ) {
    const i = Math.floor((a - sp.s_mem) / c.size);
    if (i >= c.num) break;
    const base = sp.s_mem + i * c.size;
    const end = Math.min(addr + len, base + c.size);
    for (let o = a - base; o < end - base; o++) {
      if (c.flags & SLAB_RED_ZONE && o >= obj_offset - 8 && o < obj_offset) d.rz1_written[i]! |= 1 << (o - (obj_offset - 8));
      else if (c.flags & SLAB_RED_ZONE && o >= rz2_at && o < rz2_at + 8) d.rz2_written[i]! |= 1 << (o - rz2_at);
      else if (o >= obj_offset && o < obj_offset + obj_size && d.poisoned[i]) (d.dirty[i] ??= new Set()).add(o - obj_offset);
    }
    a = end;
  }
  void virt_to_page;
}
