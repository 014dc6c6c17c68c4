// Per-CPU data caches kept coherent by MESI over a snooping bus. Each CPU has a set-associative
// cache (default 32 KiB, 8-way, 64-byte lines, LRU); a directory of which CPUs hold each line
// stands in for snooping every cache. A read miss is served by another CPU's copy when there is
// one (a Modified owner writes back and both end Shared), else by memory (Exclusive when no one
// else has it). A write needs the line Modified: other copies are invalidated. Write-through
// caches never hold Modified lines: every write also goes to memory. Costs per access come from
// CacheCosts; counters per CPU include lines bounced between CPUs and false sharing (a CPU
// writing a line another CPU last wrote at a different offset). An optional shared last-level
// cache (llc_size bytes, llc_ways; LRU, holding every line any CPU brought in) serves misses no
// other CPU's cache can, at llc_hit instead of memory. Not modelled: prefetching, store buffers,
// instruction caches, LLC inclusion victims in the CPUs' caches.
import { ScenarioError } from "../../sim/errors.ts";

export interface CacheConfig {
  readonly size: number;
  readonly ways: number;
  readonly line: number;
  readonly policy: "write-back" | "write-through";
  /** A shared last-level cache: bytes (0: none) and ways. */
  readonly llc_size?: number;
  readonly llc_ways?: number;
}

export const DEFAULT_CACHE: CacheConfig = { size: 32 * 1024, ways: 8, line: 64, policy: "write-back" };

/** Virtual ns per event, round figures of the order of a few-GHz x86. */
export interface CacheCosts {
  readonly hit: number;
  readonly memory: number;
  /** A line supplied by (or taken from) another CPU's cache. */
  readonly transfer: number;
  /** Invalidating other CPUs' copies before a write. */
  readonly invalidate: number;
  /** A line found in the shared last-level cache. */
  readonly llc_hit: number;
}

export const DEFAULT_CACHE_COSTS: CacheCosts = { hit: 1, memory: 80, transfer: 40, invalidate: 20, llc_hit: 12 };

/** The machine file's / scenario's `costs` keys for the fields above. */
export const CACHE_COST_KEYS: Readonly<Record<string, keyof CacheCosts>> = { cache_hit: "hit", memory: "memory", cache_transfer: "transfer", invalidate: "invalidate", llc_hit: "llc_hit" };

export const I = 0;
export const S = 1;
export const E = 2;
export const M = 3;

export interface CacheCounters {
  hits: number;
  misses: number;
  /** Copies this CPU lost to another CPU's write. */
  invalidations: number;
  /** Misses served from another CPU's cache. */
  bounces: number;
  false_sharing: number;
  writebacks: number;
  /** Misses served by the shared last-level cache, and those that went to memory. */
  llc_hits: number;
  llc_misses: number;
}

class CpuCache {
  readonly tag: Float64Array;
  readonly state: Uint8Array;
  readonly used: Float64Array;
  readonly counters: CacheCounters = { hits: 0, misses: 0, invalidations: 0, bounces: 0, false_sharing: 0, writebacks: 0, llc_hits: 0, llc_misses: 0 };

  constructor(
    readonly sets: number,
    readonly ways: number,
  ) {
    this.tag = new Float64Array(sets * ways);
    this.state = new Uint8Array(sets * ways);
    this.used = new Float64Array(sets * ways);
  }

  find(line: number): number {
    const set = line % this.sets;
    for (let i = set * this.ways; i < (set + 1) * this.ways; i++) if (this.state[i] !== I && this.tag[i] === line) return i;
    return -1;
  }
}

/** CPUs a line's holder masks cover (two 32-bit words). */
const MAX_CPUS = 64;

export class Caches {
  private readonly cpus: CpuCache[];
  /**
   * Per line ever touched, a slot in the typed arrays below (numbers in, nothing allocated per
   * access): the CPUs holding it (the snoop filter, a 64-bit mask in two words) and the CPU and
   * offset of its last write (for false-sharing detection; cpu -1: never written).
   */
  private keys = new Float64Array(2048).fill(-1);
  private vals = new Int32Array(2048);
  private hold_lo = new Uint32Array(1024);
  private hold_hi = new Uint32Array(1024);
  private lw_cpu = new Int32Array(1024).fill(-1);
  private lw_off = new Int32Array(1024);
  private nslots = 0;
  private clock = 0;
  /** The shared last-level cache, if configured: one CpuCache used by all. */
  private readonly llc: CpuCache | null;

  constructor(
    ncpus: number,
    readonly config: CacheConfig = DEFAULT_CACHE,
    readonly costs: CacheCosts = DEFAULT_CACHE_COSTS,
  ) {
    const lines = config.size / config.line;
    if (!Number.isInteger(lines) || !Number.isInteger(lines / config.ways) || lines < config.ways) {
      throw new ScenarioError(`cache: ${config.size} bytes in ${config.line}-byte lines cannot be ${config.ways}-way`);
    }
    if (ncpus > MAX_CPUS) throw new ScenarioError(`cache: at most ${MAX_CPUS} CPUs, got ${ncpus}`);
    this.cpus = Array.from({ length: ncpus }, () => new CpuCache(lines / config.ways, config.ways));
    const llc_lines = (config.llc_size ?? 0) / config.line;
    const llc_ways = config.llc_ways ?? 16;
    if (llc_lines > 0 && (!Number.isInteger(llc_lines / llc_ways) || llc_lines < llc_ways)) {
      throw new ScenarioError(`cache: a ${config.llc_size}-byte last-level cache cannot be ${llc_ways}-way with ${config.line}-byte lines`);
    }
    this.llc = llc_lines > 0 ? new CpuCache(llc_lines / llc_ways, llc_ways) : null;
  }

  /** A miss no other CPU can serve: the LLC (filling it on a miss) or memory. */
  private from_below(c: CpuCache, line: number): number {
    const llc = this.llc;
    if (llc === null) return this.costs.memory;
    const i = llc.find(line);
    if (i >= 0) {
      llc.used[i] = ++this.clock;
      c.counters.llc_hits++;
      return this.costs.llc_hit;
    }
    c.counters.llc_misses++;
    const set = line % llc.sets;
    let way = set * llc.ways;
    for (let j = set * llc.ways; j < (set + 1) * llc.ways; j++) {
      if (llc.state[j] === I) {
        way = j;
        break;
      }
      if (llc.used[j]! < llc.used[way]!) way = j;
    }
    llc.tag[way] = line;
    llc.state[way] = S;
    llc.used[way] = ++this.clock;
    return this.costs.memory;
  }

  counters(cpu: number): CacheCounters {
    return this.cpus[cpu]!.counters;
  }

  /** The line's state in `cpu`'s cache. */
  state(cpu: number, paddr: number): number {
    const c = this.cpus[cpu]!;
    const i = c.find(Math.floor(paddr / this.config.line));
    return i < 0 ? I : c.state[i]!;
  }

  /**
   * Where `line` is in the line -> slot table (open addressing, linear probing; keys -1 when
   * empty): its index, or the empty index where it would go.
   */
  private probe(line: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    let h = (Math.imul(line | 0, 0x9e3779b1) ^ Math.imul((line / 4294967296) | 0, 0x85ebca77)) & mask;
    for (;;) {
      const k = keys[h]!;
      if (k === line || k === -1) return h;
      h = (h + 1) & mask;
    }
  }

  /** The line's slot, or -1 if it has none. */
  private find_slot(line: number): number {
    const h = this.probe(line);
    return this.keys[h] === line ? this.vals[h]! : -1;
  }

  /** The line's slot, made on first use. */
  private slot_of(line: number): number {
    let h = this.probe(line);
    if (this.keys[h] === line) return this.vals[h]!;
    if (2 * (this.nslots + 1) > this.keys.length) {
      // Half full: the table doubles, every key placed again.
      const old_keys = this.keys;
      const old_vals = this.vals;
      this.keys = new Float64Array(old_keys.length * 2).fill(-1);
      this.vals = new Int32Array(old_keys.length * 2);
      for (let j = 0; j < old_keys.length; j++) {
        if (old_keys[j] === -1) continue;
        const k = this.probe(old_keys[j]!);
        this.keys[k] = old_keys[j]!;
        this.vals[k] = old_vals[j]!;
      }
      h = this.probe(line);
    }
    const n = this.nslots++;
    if (n === this.hold_lo.length) {
      const grow = <T extends Uint32Array | Int32Array>(a: T, fill: number): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.fill(fill);
        b.set(a as ArrayLike<number>);
        return b;
      };
      this.hold_lo = grow(this.hold_lo, 0);
      this.hold_hi = grow(this.hold_hi, 0);
      this.lw_cpu = grow(this.lw_cpu, -1);
      this.lw_off = grow(this.lw_off, 0);
    }
    this.keys[h] = line;
    this.vals[h] = n;
    return n;
  }

  private hold(s: number, cpu: number): void {
    if (cpu < 32) this.hold_lo[s] = this.hold_lo[s]! | (1 << cpu);
    else this.hold_hi[s] = this.hold_hi[s]! | (1 << (cpu - 32));
  }

  private unhold(line: number, cpu: number): void {
    const s = this.find_slot(line);
    if (s < 0) return;
    if (cpu < 32) this.hold_lo[s] = this.hold_lo[s]! & ~(1 << cpu);
    else this.hold_hi[s] = this.hold_hi[s]! & ~(1 << (cpu - 32));
  }

  /** Puts `line` in `cpu`'s cache in `state`, evicting the set's LRU way (written back if Modified). */
  private fill(cpu: number, line: number, state: number): void {
    const c = this.cpus[cpu]!;
    const set = line % c.sets;
    let way = set * c.ways;
    for (let i = set * c.ways; i < (set + 1) * c.ways; i++) {
      if (c.state[i] === I) {
        way = i;
        break;
      }
      if (c.used[i]! < c.used[way]!) way = i;
    }
    if (c.state[way] !== I) {
      if (c.state[way] === M) c.counters.writebacks++;
      this.unhold(c.tag[way]!, cpu);
    }
    c.tag[way] = line;
    c.state[way] = state;
    c.used[way] = ++this.clock;
    this.hold(this.slot_of(line), cpu);
  }

  private set_state(cpu: number, line: number, state: number): void {
    const c = this.cpus[cpu]!;
    const i = c.find(line);
    if (i < 0) return;
    c.state[i] = state;
    if (state === I) this.unhold(line, cpu);
  }

  /**
   * One access of `size` bytes at physical address `paddr` by `cpu`; returns its cost in ns.
   * An access that spans lines costs each line.
   */
  access(cpu: number, paddr: number, size: number, write: boolean): number {
    const L = this.config.line;
    let cost = 0;
    for (let line = Math.floor(paddr / L); line <= Math.floor((paddr + Math.max(size, 1) - 1) / L); line++) {
      cost += this.access_line(cpu, line, write ? (line === Math.floor(paddr / L) ? paddr % L : 0) : -1);
    }
    return cost;
  }

  /** `write_offset` < 0 for a read. */
  private access_line(cpu: number, line: number, write_offset: number): number {
    const c = this.cpus[cpu]!;
    const write = write_offset >= 0;
    const i = c.find(line);
    const s = this.slot_of(line);
    // The other CPUs holding the line, as a mask (two words).
    const others_lo = this.hold_lo[s]! & (cpu < 32 ? ~(1 << cpu) : ~0);
    const others_hi = this.hold_hi[s]! & (cpu >= 32 ? ~(1 << (cpu - 32)) : ~0);
    const any_other = others_lo !== 0 || others_hi !== 0;
    let cost = 0;
    if (i >= 0 && (!write || c.state[i] === M || c.state[i] === E)) {
      c.counters.hits++;
      c.used[i] = ++this.clock;
      cost = this.costs.hit;
      if (write) c.state[i] = this.config.policy === "write-back" ? M : E;
    } else if (i >= 0) {
      // A write to a Shared line: invalidate the other copies (an upgrade, no data transfer).
      c.counters.hits++;
      c.used[i] = ++this.clock;
      cost = this.costs.hit + this.invalidate(others_lo, others_hi, line);
      c.state[i] = this.config.policy === "write-back" ? M : E;
    } else {
      c.counters.misses++;
      if (any_other) {
        c.counters.bounces++;
        cost = this.costs.transfer;
        if (write) cost += this.invalidate(others_lo, others_hi, line);
        else {
          for (let w = 0; w < 2; w++) {
            for (let m = w === 0 ? others_lo : others_hi; m !== 0; m &= m - 1) {
              const o = w * 32 + 31 - Math.clz32(m & -m);
              const st = this.state_of(o, line);
              if (st === M) this.cpus[o]!.counters.writebacks++;
              if (st === M || st === E) this.set_state(o, line, S);
            }
          }
        }
        this.fill(cpu, line, write ? (this.config.policy === "write-back" ? M : E) : S);
      } else {
        cost = this.from_below(c, line);
        this.fill(cpu, line, write && this.config.policy === "write-back" ? M : E);
      }
    }
    if (write) {
      if (this.config.policy === "write-through") cost += this.llc !== null ? this.costs.llc_hit : this.costs.memory;
      const last = this.lw_cpu[s]!;
      if (last >= 0 && last !== cpu && this.lw_off[s] !== write_offset) c.counters.false_sharing++;
      this.lw_cpu[s] = cpu;
      this.lw_off[s] = write_offset;
    }
    return cost;
  }

  private state_of(cpu: number, line: number): number {
    const c = this.cpus[cpu]!;
    const i = c.find(line);
    return i < 0 ? I : c.state[i]!;
  }

  /** Invalidates the copies of the CPUs in the mask (lo: CPUs 0-31, hi: 32-63). */
  private invalidate(lo: number, hi: number, line: number): number {
    if (lo === 0 && hi === 0) return 0;
    for (let w = 0; w < 2; w++) {
      for (let m = w === 0 ? lo : hi; m !== 0; m &= m - 1) {
        const o = w * 32 + 31 - Math.clz32(m & -m);
        this.cpus[o]!.counters.invalidations++;
        this.set_state(o, line, I);
      }
    }
    return this.costs.invalidate;
  }
}
