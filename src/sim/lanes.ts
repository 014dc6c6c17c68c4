// Which lane runs next without asking every lane each turn. A lane whose clock or runnability may
// have changed is marked (touch()); the engine always marks the lane it stepped, and the domain
// marks the others it changes (an interrupt raised on a CPU, a lock handed to a spinner, a task
// queued on another CPU, a CPU brought forward in time). Only the marked lanes are asked again
// before the next choice. Up to SMALL lanes, the choice is a scan of the clocks they were last
// queued at (cheaper than a heap there); beyond, a binary min-heap of the runnable lanes ordered
// by (clock, id), O(marked · log n) a turn. Both keep their numbers in typed arrays indexed by
// the lane's slot (its index in the lanes given to the constructor), so a choice reads a few
// cache lines rather than one object per lane, and a tie of many lanes is put in id order by
// marking their slots rather than by sorting (64 CPUs of which 17 are tied on average, a pct or
// pb run of identical CPUs: 744 -> 607 ns a step). Verify mode cross-checks either against
// asking every lane on every turn (check()).

export interface QueuedLane {
  readonly id: number;
  readonly clock: number;
  runnable(): boolean;
  /** The queue's bookkeeping: the lane's slot (its index in the queue's lanes), and whether a re-check is due. */
  lane_index: number;
  lane_dirty: boolean;
}

const NONE: readonly never[] = [];

/** Lane counts up to this are scanned; larger ones kept in the heap. */
const SMALL = 16;
/** Ties larger than this are put in id order by marking them and walking the slots. */
const FEW = 8;

export class LaneQueue<L extends QueuedLane> {
  private readonly n: number;
  /** By slot: the lane's id, the clock it is queued at, its heap position (-1: not queued; small: 0 queued). */
  private readonly ids: Int32Array;
  private readonly keyOf: Float64Array;
  private readonly pos: Int32Array;
  /** By heap position: the key and the slot. */
  private readonly hkey: Float64Array;
  private readonly hslot: Int32Array;
  private size = 0;
  private readonly dirty: Int32Array;
  private ndirty = 0;
  /** The lanes tied at the earliest clock, by id (valid after earliest()). */
  private readonly tiedBuf: L[] = [];
  private readonly walk: Int32Array;
  private readonly mark: Uint8Array;
  /** The one earliest lane, when there is no tie (a separate array, so neither changes length). */
  private readonly oneBuf: L[] = [undefined as unknown as L];
  private readonly small: boolean;
  /** The slots are in id order (then a large tie is ordered by marking slots). */
  private readonly slotsById: boolean;

  /** Starts with every lane to be checked. */
  constructor(private readonly lanes: readonly L[]) {
    const n = (this.n = lanes.length);
    this.small = n <= SMALL;
    this.ids = new Int32Array(n);
    this.keyOf = new Float64Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.hkey = new Float64Array(n);
    this.hslot = new Int32Array(n);
    this.dirty = new Int32Array(n);
    this.walk = new Int32Array(n);
    this.mark = new Uint8Array(n);
    let ordered = true;
    for (let s = 0; s < n; s++) {
      const l = lanes[s]!;
      this.ids[s] = l.id;
      if (s > 0 && l.id <= this.ids[s - 1]!) ordered = false;
      l.lane_index = s;
      l.lane_dirty = false;
      this.touch(l);
    }
    this.slotsById = ordered;
  }

  /** Marks `l` for a re-check of its clock and runnability before the next choice. */
  touch(l: L): void {
    if (l.lane_dirty) return;
    l.lane_dirty = true;
    this.dirty[this.ndirty++] = l.lane_index;
  }

  private refresh(): void {
    const d = this.dirty;
    const lanes = this.lanes;
    const pos = this.pos;
    if (this.small) {
      for (let i = 0; i < this.ndirty; i++) {
        const s = d[i]!;
        const l = lanes[s]!;
        l.lane_dirty = false;
        pos[s] = l.runnable() ? 0 : -1;
        this.keyOf[s] = l.clock;
      }
      this.ndirty = 0;
      return;
    }
    for (let i = 0; i < this.ndirty; i++) {
      const s = d[i]!;
      const l = lanes[s]!;
      l.lane_dirty = false;
      const p = pos[s]!;
      if (l.runnable()) {
        const k = l.clock;
        if (p < 0) this.up(this.size++, k, s);
        else if (k !== this.hkey[p]) this.update(p, k, s);
      } else if (p >= 0) this.remove(p);
    }
    this.ndirty = 0;
  }

  /**
   * The one runnable lane at the earliest clock; null when several are tied there (earliest()
   * lists them); undefined when no lane is runnable. The common case, without an array.
   */
  first(): L | null | undefined {
    if (this.ndirty > 0) this.refresh();
    if (this.small) {
      const pos = this.pos;
      const key = this.keyOf;
      let best = -1;
      let bk = 0;
      let tie = false;
      for (let s = 0; s < this.n; s++) {
        if (pos[s]! < 0) continue;
        const k = key[s]!;
        if (best < 0 || k < bk) {
          best = s;
          bk = k;
          tie = false;
        } else if (k === bk) tie = true;
      }
      return best < 0 ? undefined : tie ? null : this.lanes[best];
    }
    const size = this.size;
    if (size === 0) return undefined;
    const h = this.hkey;
    const c = h[0]!;
    return (size < 2 || h[1]! !== c) && (size < 3 || h[2]! !== c) ? this.lanes[this.hslot[0]!] : null;
  }

  /**
   * The runnable lanes at the earliest clock, ordered by id, in an array valid until the next
   * call (its length is the count); empty when no lane is runnable.
   */
  earliest(): readonly L[] {
    if (this.ndirty > 0) this.refresh();
    const w = this.walk;
    let n = 0;
    if (this.small) {
      const pos = this.pos;
      const key = this.keyOf;
      let bk = Infinity;
      for (let s = 0; s < this.n; s++) {
        if (pos[s]! < 0) continue;
        const k = key[s]!;
        if (n === 0 || k < bk) {
          bk = k;
          n = 0;
          w[n++] = s;
        } else if (k === bk) w[n++] = s;
      }
      // Found in slot order: by id when the slots are.
      if (n > 1 && !this.slotsById) this.byId(n);
    } else {
      if (this.size === 0) return NONE;
      const h = this.hkey;
      const c = h[0]!;
      const size = this.size;
      // Most turns: no other lane at that clock (the children of the root are later).
      if ((size < 2 || h[1]! !== c) && (size < 3 || h[2]! !== c)) {
        const one = this.oneBuf;
        one[0] = this.lanes[this.hslot[0]!]!;
        return one;
      }
      // Every lane at that clock: they form a subtree at the root (the heap's order puts nothing
      // later above them), walked breadth first (the walk array doubles as the queue).
      w[n++] = 0;
      for (let i = 0; i < n; i++) {
        const a = 2 * w[i]! + 1;
        if (a < size && h[a]! === c) w[n++] = a;
        if (a + 1 < size && h[a + 1]! === c) w[n++] = a + 1;
      }
      for (let i = 0; i < n; i++) w[i] = this.hslot[w[i]!]!;
      this.byId(n);
    }
    if (n === 0) return NONE;
    const lanes = this.lanes;
    if (n === 1) {
      const one = this.oneBuf;
      one[0] = lanes[w[0]!]!;
      return one;
    }
    const t = this.tiedBuf;
    while (t.length > n) t.pop(); // (not `length = n`: that gives the array's store back)
    for (let i = 0; i < n; i++) t[i] = lanes[w[i]!]!;
    return t;
  }

  /** Puts the first `n` slots of the walk array in id order. */
  private byId(n: number): void {
    const w = this.walk;
    if (n > FEW && this.slotsById) {
      const m = this.mark;
      for (let i = 0; i < n; i++) m[w[i]!] = 1;
      let j = 0;
      for (let s = 0; j < n; s++) {
        if (m[s] === 0) continue;
        m[s] = 0;
        w[j++] = s;
      }
      return;
    }
    const ids = this.ids;
    for (let i = 1; i < n; i++) {
      const s = w[i]!;
      const id = ids[s]!;
      let j = i;
      while (j > 0 && ids[w[j - 1]!]! > id) {
        w[j] = w[j - 1]!;
        j--;
      }
      w[j] = s;
    }
  }

  /** Verify mode: the queue agrees with asking every lane (the result of earliest() included). */
  check(): string | null {
    if (this.ndirty > 0) this.refresh();
    for (let s = 0; s < this.n; s++) {
      const l = this.lanes[s]!;
      const r = l.runnable();
      const p = this.pos[s]!;
      if (r !== p >= 0) return `lane ${l.id} is ${r ? "" : "not "}runnable but ${p >= 0 ? "is" : "is not"} queued (a change to it was not reported)`;
      if (p < 0) continue;
      const k = this.small ? this.keyOf[s]! : this.hkey[p]!;
      if (k !== l.clock) return `lane ${l.id} is queued at ${k} ns but its clock is ${l.clock} ns (a clock change was not reported)`;
      if (!this.small && this.hslot[p] !== s) return `lane ${l.id} is misplaced in the heap`;
    }
    for (let i = 1; i < this.size; i++) {
      const p = (i - 1) >> 1;
      if (this.before(this.hkey[i]!, this.hslot[i]!, p)) return `lane ${this.ids[this.hslot[i]!]} is queued behind lane ${this.ids[this.hslot[p]!]} (the heap is out of order)`;
    }
    return null;
  }

  /** Is (k, slot s) before the entry at heap position p? */
  private before(k: number, s: number, p: number): boolean {
    const q = this.hkey[p]!;
    return k !== q ? k < q : this.ids[s]! < this.ids[this.hslot[p]!]!;
  }

  private remove(p: number): void {
    this.pos[this.hslot[p]!] = -1;
    const last = --this.size;
    if (p < last) this.update(p, this.hkey[last]!, this.hslot[last]!);
  }

  /** Puts (k, s) at heap position p, moved up or down to its place. */
  private update(p: number, k: number, s: number): void {
    if (p > 0 && this.before(k, s, (p - 1) >> 1)) this.up(p, k, s);
    else this.down(p, k, s);
  }

  private up(i: number, k: number, s: number): void {
    const h = this.hkey;
    const hs = this.hslot;
    const pos = this.pos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(k, s, p)) break;
      h[i] = h[p]!;
      const q = hs[p]!;
      hs[i] = q;
      pos[q] = i;
      i = p;
    }
    h[i] = k;
    hs[i] = s;
    pos[s] = i;
  }

  private down(i: number, k: number, s: number): void {
    const h = this.hkey;
    const hs = this.hslot;
    const pos = this.pos;
    const ids = this.ids;
    const n = this.size;
    for (;;) {
      const a = 2 * i + 1;
      if (a >= n) break;
      let m = a;
      const b = a + 1;
      if (b < n) {
        const ka = h[a]!;
        const kb = h[b]!;
        if (kb < ka || (kb === ka && ids[hs[b]!]! < ids[hs[a]!]!)) m = b;
      }
      const km = h[m]!;
      if (!(km < k || (km === k && ids[hs[m]!]! < ids[s]!))) break;
      h[i] = km;
      const q = hs[m]!;
      hs[i] = q;
      pos[q] = i;
      i = m;
    }
    h[i] = k;
    hs[i] = s;
    pos[s] = i;
  }
}
