// A CPU's data TLB: two set-associative arrays, one for 4 KiB translations and one for large
// pages (2/4 MiB and 1 GiB share it), each with LRU replacement within a set. An entry maps a
// virtual page number to a frame with its R/W, U/S and Global bits and the Dirty flag of the
// entry that maps the page as the walk left it (set by a write walk, or already set in the
// PTE), as Intel's TLBs cache it: a write that hits a clean entry makes the CPU walk again to
// set D in memory (the caller's job: Tlb only says `dirty`). Flushes: everything but
// global entries (a CR3 reload), everything (CR4.PGE toggle), one page (invlpg). Counters for
// the run's statistics. Not modelled: PCIDs/ASIDs, separate instruction TLB, second-level TLB.

import { ScenarioError } from "../../sim/errors.ts";
import { POW2 } from "./pow2.ts";

export interface TlbConfig {
  /** 4 KiB entries and their associativity (default 64, 4-way, as a common L1 DTLB). */
  readonly entries: number;
  readonly ways: number;
  /** Large-page entries and associativity (default 32, 4-way). */
  readonly large_entries: number;
  readonly large_ways: number;
}

export const DEFAULT_TLB: TlbConfig = { entries: 64, ways: 4, large_entries: 32, large_ways: 4 };

export interface Translation {
  /** The 4 KiB frame holding the looked-up address. */
  readonly pfn: number;
  readonly page_shift: number;
  readonly writable: boolean;
  readonly user: boolean;
  readonly global: boolean;
  /** The mapping entry's D bit when the walk cached it (a write walk sets it). */
  readonly dirty: boolean;
}


const F_VALID = 1;
const F_WRITE = 2;
const F_USER = 4;
const F_GLOBAL = 8;
const F_DIRTY = 16;

/** One set-associative array: entries keyed by the virtual page number of `shift`-sized pages. */
class TlbArray {
  readonly vpn: Float64Array;
  readonly base_pfn: Float64Array;
  readonly shift: Uint8Array;
  readonly flags: Uint8Array;
  readonly used: Float64Array;
  readonly sets: number;

  constructor(
    entries: number,
    readonly ways: number,
  ) {
    if (!Number.isInteger(entries / ways) || entries < ways) throw new ScenarioError(`a TLB of ${entries} entries cannot be ${ways}-way (entries must be a multiple of ways)`);
    this.sets = entries / ways;
    this.vpn = new Float64Array(entries);
    this.base_pfn = new Float64Array(entries);
    this.shift = new Uint8Array(entries);
    this.flags = new Uint8Array(entries);
    this.used = new Float64Array(entries);
  }

  find(va: number, shift: number): number {
    const vpn = Math.floor(va / POW2[shift]!);
    const set = vpn % this.sets;
    for (let i = set * this.ways; i < (set + 1) * this.ways; i++) {
      if (this.flags[i]! & F_VALID && this.shift[i] === shift && this.vpn[i] === vpn) return i;
    }
    return -1;
  }

  /** The way to fill for `vpn`: an invalid one, else the least recently used. */
  victim(vpn: number): number {
    const set = vpn % this.sets;
    let best = set * this.ways;
    for (let i = set * this.ways; i < (set + 1) * this.ways; i++) {
      if (!(this.flags[i]! & F_VALID)) return i;
      if (this.used[i]! < this.used[best]!) best = i;
    }
    return best;
  }
}

export class Tlb {
  private readonly small: TlbArray;
  private readonly large: TlbArray;
  private clock = 0;
  hits = 0;
  misses = 0;
  flushes = 0;
  /** Flush requests this CPU served for another CPU (shootdown IPIs). */
  shootdowns = 0;

  constructor(readonly config: TlbConfig = DEFAULT_TLB) {
    this.small = new TlbArray(config.entries, config.ways);
    this.large = new TlbArray(config.large_entries, config.large_ways);
  }

  private entry(a: TlbArray, i: number, va: number): Translation {
    a.used[i] = ++this.clock;
    const f = a.flags[i]!;
    const shift = a.shift[i]!;
    const inside = shift > 12 ? Math.floor(va / 4096) % POW2[shift - 12]! : 0;
    return { pfn: a.base_pfn[i]! + inside, page_shift: shift, writable: (f & F_WRITE) !== 0, user: (f & F_USER) !== 0, global: (f & F_GLOBAL) !== 0, dirty: (f & F_DIRTY) !== 0 };
  }

  /** A cached translation of `va`, counting a hit or a miss. */
  lookup(va: number): Translation | null {
    let i = this.small.find(va, 12);
    if (i >= 0) {
      this.hits++;
      return this.entry(this.small, i, va);
    }
    for (const shift of [21, 22, 30]) {
      i = this.large.find(va, shift);
      if (i >= 0) {
        this.hits++;
        return this.entry(this.large, i, va);
      }
    }
    this.misses++;
    return null;
  }

  /** Caches the translation a page walk found for `va`. */
  insert(va: number, t: Translation): void {
    const a = t.page_shift > 12 ? this.large : this.small;
    const vpn = Math.floor(va / POW2[t.page_shift]!);
    let i = a.find(va, t.page_shift);
    if (i < 0) i = a.victim(vpn);
    a.vpn[i] = vpn;
    a.shift[i] = t.page_shift;
    // The frame of the page's start: the walked frame less its position inside a large page.
    a.base_pfn[i] = t.pfn - (t.page_shift > 12 ? Math.floor(va / 4096) % POW2[t.page_shift - 12]! : 0);
    a.flags[i] = F_VALID | (t.writable ? F_WRITE : 0) | (t.user ? F_USER : 0) | (t.global ? F_GLOBAL : 0) | (t.dirty ? F_DIRTY : 0);
    a.used[i] = ++this.clock;
  }

  /** A CR3 reload (`keep_global`) or a full flush with global pages. */
  flush_all(keep_global: boolean): void {
    this.flushes++;
    for (const a of [this.small, this.large]) {
      for (let i = 0; i < a.flags.length; i++) if (!(keep_global && a.flags[i]! & F_GLOBAL)) a.flags[i] = 0;
    }
  }

  /** invlpg: drops any entry, small or large, covering `va`. */
  flush_page(va: number): void {
    this.flushes++;
    this.invalidate(va);
  }

  /** Drops any entry covering `va` without counting a flush (the CPU's own drop on a protection fault). */
  invalidate(va: number): void {
    const i = this.small.find(va, 12);
    if (i >= 0) this.small.flags[i] = 0;
    for (const shift of [21, 22, 30]) {
      const j = this.large.find(va, shift);
      if (j >= 0) this.large.flags[j] = 0;
    }
  }

  /** Valid entries (for tests and statistics). */
  get valid(): number {
    let n = 0;
    for (const a of [this.small, this.large]) for (let i = 0; i < a.flags.length; i++) if (a.flags[i]! & F_VALID) n++;
    return n;
  }
}
