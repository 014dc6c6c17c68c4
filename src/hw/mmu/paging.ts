// The x86 page-table walker: i386 two-level (10/10/12, 4 MiB pages with PSE), PAE three-level
// (2/9/9/12, 2 MiB pages) and x86_64 four-level (9/9/9/9/12, 2 MiB and 1 GiB pages). Tables
// live in physical page frames (PageTableMemory); an entry is kept as two 32-bit halves, so
// 64-bit formats need no BigInt. A linear address is a number below 2^32 (i386) or 2^48 (x86_64,
// the canonical upper half folded to 2^47 and above). The walk checks P, R/W and U/S at every
// level, sets Accessed (and Dirty on the final entry for a write) as the hardware does, and
// returns the frame (with the final entry's Dirty bit, which the TLB caches) or the #PF error
// code. Not modelled: NX, SMEP/SMAP, PAT/caching bits, WP=0.

import { SimError } from "../../sim/errors.ts";
import { POW2 } from "./pow2.ts";

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
/** PS in a directory entry: this entry maps a large page. */
export const _PAGE_PSE = 0x080;
export const _PAGE_GLOBAL = 0x100;

/** #PF error code bits. */
export const PF_PROT = 0x1;
export const PF_WRITE = 0x2;
export const PF_USER = 0x4;

export type PagingMode = "2level" | "pae" | "4level";

export interface PagingFormat {
  readonly mode: PagingMode;
  /** Index bits per level, top level first. */
  readonly bits: readonly number[];
  /** 32-bit words per entry (1, or 2 for 64-bit entries). */
  readonly words: number;
  /** Levels (0 = top) whose entries may map a large page with PS, and the page's size shift. */
  readonly large: ReadonlyMap<number, number>;
}

export const FORMATS: Record<PagingMode, PagingFormat> = {
  "2level": { mode: "2level", bits: [10, 10], words: 1, large: new Map([[0, 22]]) },
  pae: { mode: "pae", bits: [2, 9, 9], words: 2, large: new Map([[1, 21]]) },
  "4level": { mode: "4level", bits: [9, 9, 9, 9], words: 2, large: new Map([[1, 30], [2, 21]]) },
};

const PAGE_SHIFT = 12;
const TABLE_WORDS = 1024; // one 4 KiB frame of 32-bit words

/** The frames that hold page tables, by pfn: 1024 words each, created zeroed on first use. */
export class PageTableMemory {
  private readonly frames = new Map<number, Uint32Array>();

  frame(pfn: number): Uint32Array {
    let f = this.frames.get(pfn);
    if (f === undefined) {
      f = new Uint32Array(TABLE_WORDS);
      this.frames.set(pfn, f);
    }
    return f;
  }

  /** Forgets a frame (its page went back to the allocator). */
  release(pfn: number): void {
    this.frames.delete(pfn);
  }

  get size(): number {
    return this.frames.size;
  }
}

/** An entry's halves: `lo` holds the flags and address bits 12..31, `hi` address bits 32 and up. */
export interface Entry {
  lo: number;
  hi: number;
}

export function read_entry(mem: PageTableMemory, fmt: PagingFormat, table_pfn: number, index: number): Entry {
  const f = mem.frame(table_pfn);
  const w = index * fmt.words;
  return { lo: f[w]!, hi: fmt.words === 2 ? f[w + 1]! : 0 };
}

export function write_entry(mem: PageTableMemory, fmt: PagingFormat, table_pfn: number, index: number, e: Entry): void {
  const f = mem.frame(table_pfn);
  const w = index * fmt.words;
  f[w] = e.lo >>> 0;
  if (fmt.words === 2) f[w + 1] = e.hi >>> 0;
}

/** An entry pointing at frame `pfn` with `flags`. */
export function make_entry(pfn: number, flags: number): Entry {
  const lo = ((pfn % 0x100000) * 4096 + (flags & 0xfff)) >>> 0;
  return { lo, hi: Math.floor(pfn / 0x100000) };
}

/** The frame an entry points at. */
export const entry_pfn = (e: Entry): number => Math.floor((e.lo >>> 0) / 4096) + e.hi * 0x100000;

/** The index into level `level`'s table of linear address `va`. */
export function level_index(fmt: PagingFormat, level: number, va: number): number {
  let shift = PAGE_SHIFT;
  for (let l = fmt.bits.length - 1; l > level; l--) shift += fmt.bits[l]!;
  return Math.floor(va / POW2[shift]!) % POW2[fmt.bits[level]!]!;
}

export type Walk =
  | {
      readonly ok: true;
      /** The 4 KiB frame holding the address. */
      readonly pfn: number;
      readonly offset: number;
      /** log2 of the mapping's page size (12, 21, 22 or 30). */
      readonly page_shift: number;
      readonly writable: boolean;
      readonly user: boolean;
      readonly global: boolean;
      /** The mapping entry's Dirty bit after the walk (a write walk with `update` sets it). */
      readonly dirty: boolean;
      /** The table frames read, top first (for the cost of the walk). */
      readonly tables: readonly number[];
    }
  | { readonly ok: false; readonly error_code: number; readonly level: number; readonly tables: readonly number[] };

/**
 * Walks from the top-level table at `root_pfn` for an access to `va` (a write if `write`, from
 * user mode if `user`), setting Accessed and Dirty bits on success unless `update` is false (a
 * look that changes nothing, for checkers).
 */
export function walk(mem: PageTableMemory, fmt: PagingFormat, root_pfn: number, va: number, write: boolean, user: boolean, update = true): Walk {
  let table = root_pfn;
  let writable = true;
  let usr = true;
  const tables: number[] = [];
  const code = (prot: boolean) => (prot ? PF_PROT : 0) | (write ? PF_WRITE : 0) | (user ? PF_USER : 0);
  for (let level = 0; level < fmt.bits.length; level++) {
    tables.push(table);
    const index = level_index(fmt, level, va);
    const e = read_entry(mem, fmt, table, index);
    if (!(e.lo & _PAGE_PRESENT)) return { ok: false, error_code: code(false), level, tables };
    // The PAE PDPT has no R/W or U/S bits.
    const checks = !(fmt.mode === "pae" && level === 0);
    if (checks) {
      writable &&= (e.lo & _PAGE_RW) !== 0;
      usr &&= (e.lo & _PAGE_USER) !== 0;
    }
    const large = fmt.large.get(level);
    const last = level === fmt.bits.length - 1 || (large !== undefined && (e.lo & _PAGE_PSE) !== 0);
    if ((user && !usr) || (write && !writable)) return { ok: false, error_code: code(true), level, tables };
    if (checks && update) e.lo |= _PAGE_ACCESSED;
    if (last) {
      if (write && update) e.lo |= _PAGE_DIRTY;
      if (update) write_entry(mem, fmt, table, index, e);
      const shift = large !== undefined && level < fmt.bits.length - 1 ? large : PAGE_SHIFT;
      let pfn = entry_pfn(e);
      if (shift > PAGE_SHIFT) {
        // A large page: bit 12 is PAT, the frame is aligned to the page; the address picks a 4 KiB frame inside.
        const frames = 2 ** (shift - PAGE_SHIFT);
        pfn = pfn - (pfn % frames) + (Math.floor(va / 4096) % frames);
      }
      return { ok: true, pfn, offset: va % 4096, page_shift: shift, writable, user: usr, global: (e.lo & _PAGE_GLOBAL) !== 0, dirty: (e.lo & _PAGE_DIRTY) !== 0, tables };
    }
    if (update) write_entry(mem, fmt, table, index, e);
    table = entry_pfn(e);
  }
  throw new SimError("page walk ran past the last level");
}
