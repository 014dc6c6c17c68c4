// The timed-event queue: a binary heap ordered by (time, priority, sequence number), so events at
// the same virtual time fire in a fixed order.

export interface SimEvent {
  readonly time: number;
  readonly prio: number;
  readonly seq: number;
  readonly label: string;
  /** True for events that recur forever on their own (timer ticks, device arrivals). */
  readonly background: boolean;
  /** Watchdog checks: they never make a machine with nothing else to do look busy. */
  readonly daemon: boolean;
  cancelled: boolean;
  readonly fire: () => void;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time !== b.time ? a.time < b.time : a.prio !== b.prio ? a.prio < b.prio : a.seq < b.seq;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  private foreground = 0;
  private live = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Number of pending events that are not daemons nor cancelled. */
  get pendingLive(): number {
    return this.live;
  }

  /** Number of pending events that are neither background nor cancelled. */
  get pendingForeground(): number {
    return this.foreground;
  }

  schedule(time: number, prio: number, label: string, fire: () => void, background = false, daemon = false): SimEvent {
    const ev: SimEvent = { time, prio, seq: this.seq++, label, background: background || daemon, daemon, cancelled: false, fire };
    if (!ev.background) this.foreground++;
    if (!daemon) this.live++;
    const h = this.heap;
    h.push(ev);
    // Sift up, holding the new event aside (no temporary array per swap).
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p]!;
      if (!before(ev, q)) break;
      h[i] = q;
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  cancel(ev: SimEvent): void {
    if (!ev.cancelled && !ev.background) this.foreground--;
    if (!ev.cancelled && !ev.daemon) this.live--;
    ev.cancelled = true;
  }

  /** The earliest event that is not cancelled, dropping cancelled ones on the way. */
  peek(): SimEvent | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    if (!top.background && !top.cancelled) this.foreground--;
    if (!top.daemon && !top.cancelled) this.live--;
    // Popped: a later cancel() of it must not count it again.
    top.cancelled = true;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      // Sift the last event down from the root, holding it aside.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && before(h[r]!, h[l]!) ? r : l;
        const c = h[m]!;
        if (!before(c, last)) break;
        h[i] = c;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
