// Which lane runs next without asking every lane each turn. A lane whose clock or runnability may
// have changed is marked (touch()); the engine always marks the lane it stepped, and the domain
// marks the others it changes (an interrupt raised on a CPU, a lock handed to a spinner, a task
// queued on another CPU, a CPU brought forward in time). Only the marked lanes are asked again
// before the next choice. Up to SMALL lanes, the choice is a scan of the clocks they were last
// queued at (cheaper than a heap there: about 10 ns for 4 lanes against 30); beyond, a binary
// min-heap of the runnable lanes ordered by (clock, id), O(marked · log n) a turn (60 ns at 64
// lanes where a scan takes 145). Verify mode cross-checks either against asking every lane on
// every turn (check()).

export interface QueuedLane {
  readonly id: number;
  readonly clock: number;
  runnable(): boolean;
  /**
   * The queue's bookkeeping: index in the heap (-1 when not in it), whether a re-check is due,
   * and the clock the lane is queued at (the heap orders these snapshots, so several lanes whose
   * clocks changed are re-queued one at a time, each a single key change).
   */
  lane_index: number;
  lane_dirty: boolean;
  lane_key: number;
}

const NONE: readonly never[] = [];

/** Lane counts up to this are scanned; larger ones kept in the heap. */
const SMALL = 16;

const before = (a: QueuedLane, b: QueuedLane): boolean => (a.lane_key !== b.lane_key ? a.lane_key < b.lane_key : a.id < b.id);

export class LaneQueue<L extends QueuedLane> {
  private readonly heap: L[] = [];
  private readonly dirty: L[] = [];
  private ndirty = 0;
  /** The lanes tied at the earliest clock, by id (valid after tiedAtMin(), `ntied` of them). */
  private readonly tiedBuf: L[] = [];
  private readonly walkBuf: number[] = [];
  /** The one earliest lane, when there is no tie (a separate array, so neither changes length). */
  private readonly oneBuf: L[] = [undefined as unknown as L];
  /** Scanned (few lanes: lane_index is 0 for a runnable lane, -1 otherwise) rather than a heap. */
  private readonly small: boolean;

  /** Starts with every lane to be checked. */
  constructor(private readonly lanes: readonly L[]) {
    this.small = lanes.length <= SMALL;
    for (const l of lanes) {
      l.lane_index = -1;
      l.lane_dirty = false;
      l.lane_key = l.clock;
      this.touch(l);
    }
  }

  /** Marks `l` for a re-check of its clock and runnability before the next choice. */
  touch(l: L): void {
    if (l.lane_dirty) return;
    l.lane_dirty = true;
    this.dirty[this.ndirty++] = l;
  }

  private refresh(): void {
    const d = this.dirty;
    if (this.small) {
      for (let i = 0; i < this.ndirty; i++) {
        const l = d[i]!;
        l.lane_dirty = false;
        l.lane_index = l.runnable() ? 0 : -1;
        l.lane_key = l.clock;
      }
      this.ndirty = 0;
      return;
    }
    for (let i = 0; i < this.ndirty; i++) {
      const l = d[i]!;
      l.lane_dirty = false;
      if (l.runnable()) {
        l.lane_key = l.clock;
        if (l.lane_index < 0) this.insert(l);
        else this.update(l.lane_index);
      } else if (l.lane_index >= 0) this.remove(l.lane_index);
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
      const lanes = this.lanes;
      let best: L | undefined;
      let tie = false;
      for (let i = 0; i < lanes.length; i++) {
        const l = lanes[i]!;
        if (l.lane_index < 0) continue;
        if (best === undefined || l.lane_key < best.lane_key) {
          best = l;
          tie = false;
        } else if (l.lane_key === best.lane_key) tie = true;
      }
      return tie ? null : best;
    }
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const c = top.lane_key;
    return (h.length < 2 || h[1]!.lane_key !== c) && (h.length < 3 || h[2]!.lane_key !== c) ? top : null;
  }

  /**
   * The runnable lanes at the earliest clock, ordered by id, in an array valid until the next
   * call (its length is the count); empty when no lane is runnable.
   */
  earliest(): readonly L[] {
    if (this.ndirty > 0) this.refresh();
    if (this.small) return this.scan();
    const h = this.heap;
    const t = this.tiedBuf;
    if (h.length === 0) return NONE;
    const top = h[0]!;
    const c = top.lane_key;
    // Most turns: no other lane at that clock (the children of the root are later).
    if ((h.length < 2 || h[1]!.lane_key !== c) && (h.length < 3 || h[2]!.lane_key !== c)) {
      const one = this.oneBuf;
      one[0] = top;
      return one;
    }
    // Every lane at that clock: they form a subtree at the root (the heap's order puts nothing
    // later above them). Collected with an explicit stack, then put in id order (few: insertion).
    const stack = this.walkBuf;
    let sp = 0;
    let n = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const i = stack[--sp]!;
      const l = h[i]!;
      let j = n++;
      while (j > 0 && t[j - 1]!.id > l.id) {
        t[j] = t[j - 1]!;
        j--;
      }
      t[j] = l;
      const a = 2 * i + 1;
      if (a < h.length && h[a]!.lane_key === c) stack[sp++] = a;
      if (a + 1 < h.length && h[a + 1]!.lane_key === c) stack[sp++] = a + 1;
    }
    while (t.length > n) t.pop(); // (not `length = n`: that gives the array's store back)
    return t;
  }

  /** The earliest of few lanes: the runnable ones' queued clocks compared in id order. */
  private scan(): readonly L[] {
    const lanes = this.lanes;
    let best: L | undefined;
    let n = 0;
    for (let i = 0; i < lanes.length; i++) {
      const l = lanes[i]!;
      if (l.lane_index < 0) continue;
      if (best === undefined || l.lane_key < best.lane_key) {
        best = l;
        n = 1;
      } else if (l.lane_key === best.lane_key) n++;
    }
    if (best === undefined) return NONE;
    if (n === 1) {
      const one = this.oneBuf;
      one[0] = best;
      return one;
    }
    const t = this.tiedBuf;
    while (t.length > n) t.pop();
    let j = 0;
    for (let i = 0; j < n; i++) {
      const l = lanes[i]!;
      if (l.lane_index >= 0 && l.lane_key === best.lane_key) t[j++] = l;
    }
    return t;
  }

  /** Verify mode: the queue agrees with asking every lane (the result of earliest() included). */
  check(): string | null {
    if (this.ndirty > 0) this.refresh();
    for (const l of this.lanes) {
      const r = l.runnable();
      if (r !== l.lane_index >= 0) return `lane ${l.id} is ${r ? "" : "not "}runnable but ${l.lane_index >= 0 ? "is" : "is not"} queued (a change to it was not reported)`;
    }
    const h = this.heap;
    for (const l of this.small ? this.lanes.filter((x) => x.lane_index >= 0) : h) {
      if (l.lane_key !== l.clock) return `lane ${l.id} is queued at ${l.lane_key} ns but its clock is ${l.clock} ns (a clock change was not reported)`;
    }
    for (let i = 1; i < h.length; i++) {
      if (before(h[i]!, h[(i - 1) >> 1]!)) return `lane ${h[i]!.id} is queued behind lane ${h[(i - 1) >> 1]!.id} (the heap is out of order)`;
    }
    return null;
  }

  private insert(l: L): void {
    const h = this.heap;
    l.lane_index = h.length;
    h.push(l);
    this.up(l.lane_index);
  }

  private remove(i: number): void {
    const h = this.heap;
    const l = h[i]!;
    l.lane_index = -1;
    const last = h.pop()!;
    if (i < h.length) {
      h[i] = last;
      last.lane_index = i;
      this.update(i);
    }
  }

  private update(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  private up(i: number): boolean {
    const h = this.heap;
    const l = h[i]!;
    const from = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p]!;
      if (!before(l, q)) break;
      h[i] = q;
      q.lane_index = i;
      i = p;
    }
    h[i] = l;
    l.lane_index = i;
    return i !== from;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const l = h[i]!;
    for (;;) {
      const a = 2 * i + 1;
      if (a >= n) break;
      const b = a + 1;
      const m = b < n && before(h[b]!, h[a]!) ? b : a;
      const q = h[m]!;
      if (!before(q, l)) break;
      h[i] = q;
      q.lane_index = i;
      i = m;
    }
    h[i] = l;
    l.lane_index = i;
  }
}
