// Schedule decisions labelled by meaning. A recorded run's decisions (tie-breaks, delays, device
// interrupts) are numbers to the engine; this listener watches the trace as the run goes and
// says what each one made happen, from the events that followed it on the CPUs involved:
//   CPU1 [reconfig-4] goes before CPU0 [xmit-3]: takes &queue->lock (CPU0 then takes &dev->lock)
//   CPU0 [xmit-3] held back 412 ns, then takes &dev->lock
//   CPU1 takes IRQ 11 (eth0) in xmit-3 after it takes &zone->lock, before it releases &zone->lock
import type { Decision } from "../sim/script.ts";
import type { TraceRecord } from "../sim/trace.ts";

export interface LabelledDecision {
  readonly time: number;
  readonly kind: "pick" | "delay" | "irq";
  readonly cpu: number;
  text: string;
  /** irq: the device's stream ("nic/eth0"). */
  readonly device?: string;
  /**
   * irq: ns from the handler's entry event to the interrupt's last exit event before the
   * interrupted context runs again (the softirqs run at irq_exit included).
   */
  span?: number;
}

/** A trace event as a phrase ("takes &zone->lock"). */
export function describe(r: TraceRecord): string {
  const d = r.detail;
  switch (r.name) {
    case "lock_acquire":
      return d.startsWith("try ") ? `trylocks ${d.slice(4)}` : `takes ${d}`;
    case "lock_release":
      return `releases ${d}`;
    case "lock_contended":
      return `spins on ${d}`;
    case "lock_acquired":
      return `gets ${d.replace(/ \(/, " after ").replace(/\)$/, "")}`;
    case "irq_handler_entry": {
      const m = /^irq=(\d+) name=(.*)$/.exec(d);
      return m !== null ? `takes IRQ ${m[1]} (${m[2]})` : `irq_handler_entry: ${d}`;
    }
    case "softirq_entry":
      return `runs softirq ${/action=(\w+)/.exec(d)?.[1] ?? d}`;
    case "tasklet_entry":
      return `runs tasklet ${d.replace(/^function=/, "")}`;
    case "local_timer_entry":
      return "takes the timer interrupt";
    case "sched_switch": {
      const m = /next_comm=(\S+) next_pid=(\d+)/.exec(d);
      return m !== null ? `switches to ${m[1]}-${m[2]}` : `sched_switch: ${d}`;
    }
    case "sched_wakeup": {
      const m = /comm=(\S+) pid=(\d+)/.exec(d);
      return m !== null ? `wakes ${m[1]}-${m[2]}` : `sched_wakeup: ${d}`;
    }
    case "sched_process_exit":
      return "exits";
    case "bug_report":
      return `reports "${d}"`;
    default:
      return `${r.name}${d !== "" ? `: ${d}` : ""}`;
  }
}

/** Events that open and close an interrupt's (or a softirq's) run on a CPU. */
const IRQ_SIDE = /^(irq_handler_|softirq_|tasklet_|local_timer_|ipi_)/;
const IRQ_OPEN = /^(irq_handler|softirq|tasklet|local_timer|ipi)_entry$/;
const IRQ_CLOSE = /^(irq_handler|softirq|tasklet|local_timer|ipi)_exit$/;

interface Nic {
  readonly irq: number;
  readonly name: string;
}

/**
 * Labels decisions as the trace goes past: `decision()` when the strategy makes one, `event()`
 * for every trace record. Each label waits for the events it needs (the next one on the CPU;
 * for an interrupt, the next event of the interrupted context after it).
 */
export class DecisionLabeller {
  /** Labels kept at most (a long random walk makes a decision every few steps). */
  static readonly MAX = 10_000;
  readonly labelled: LabelledDecision[] = [];
  /** Callbacks waiting for the next event on a CPU (`inside`: an interrupt's); true when done. */
  private readonly waiting = new Map<number, ((r: TraceRecord, inside: boolean) => boolean)[]>();
  /** The newest event of each CPU's interrupted (non-irq) context. */
  private readonly last = new Map<number, TraceRecord>();
  /** Each device's events not yet taken by a handler (a queue: its head index). */
  private readonly pending: number[][];
  private readonly head: number[];
  /** The interrupts a CPU is in, with the depth they were taken at, to measure their span. */
  private readonly open_irq = new Map<number, { l: LabelledDecision; depth: number }[]>();
  /** How deep in interrupts each CPU is: events at depth > 0 are not the interrupted context's. */
  private readonly depth = new Map<number, number>();

  /** `holding(cpu)`: the spinlocks the context an interrupt on `cpu` interrupts holds. */
  constructor(private readonly nics: readonly Nic[], private readonly holding: (cpu: number) => readonly string[] = () => []) {
    this.pending = nics.map(() => []);
    this.head = nics.map(() => 0);
  }

  private wait(cpu: number, f: (r: TraceRecord, inside: boolean) => boolean): void {
    let w = this.waiting.get(cpu);
    if (w === undefined) this.waiting.set(cpu, (w = []));
    w.push(f);
  }

  decision(d: Decision): void {
    if (this.labelled.length >= DecisionLabeller.MAX) return;
    if (d.kind === "delay") {
      const l: LabelledDecision = { time: d.time, kind: "delay", cpu: d.lane, text: `CPU${d.lane} held back ${d.ns} ns` };
      this.labelled.push(l);
      this.wait(d.lane, (r) => ((l.text = `CPU${d.lane} [${r.who}] held back ${d.ns} ns, then ${describe(r)}`), true));
      return;
    }
    const others = d.others.map((o) => `CPU${o}`).join(", ");
    const l: LabelledDecision = { time: d.time, kind: "pick", cpu: d.lane, text: `CPU${d.lane} goes before ${others}` };
    this.labelled.push(l);
    let mine = "";
    const then: string[] = [];
    this.wait(d.lane, (r) => {
      mine = `CPU${d.lane} [${r.who}] goes before ${others}: ${describe(r)}`;
      l.text = mine;
      return true;
    });
    for (const o of d.others) {
      this.wait(o, (r) => {
        then.push(`CPU${o} then ${describe(r)}`);
        if (mine !== "") l.text = `${mine} (${then.join("; ")})`;
        return true;
      });
    }
  }

  event(r: TraceRecord): void {
    if (r.name === "irq_handler_entry") this.irq_taken(r);
    const depth = this.depth.get(r.cpu) ?? 0;
    const inside = depth > 0 || IRQ_SIDE.test(r.name);
    const closing = IRQ_CLOSE.test(r.name);
    if (IRQ_OPEN.test(r.name)) this.depth.set(r.cpu, depth + 1);
    else if (closing) this.depth.set(r.cpu, Math.max(0, depth - 1));
    const open = this.open_irq.get(r.cpu);
    if (open !== undefined) {
      const now = this.depth.get(r.cpu) ?? 0;
      // Back at the depth an interrupt was taken at: its span so far (a softirq may follow).
      if (closing) for (const o of open) if (now === o.depth) o.l.span = r.ts - o.l.time;
      // The interrupted context runs again, or the CPU unwound below it: those spans are final.
      const keep = inside ? open.filter((o) => now >= o.depth) : [];
      if (keep.length > 0) this.open_irq.set(r.cpu, keep);
      else this.open_irq.delete(r.cpu);
    }
    const w = this.waiting.get(r.cpu);
    if (w !== undefined && w.length > 0) {
      const keep = w.filter((f) => !f(r, inside));
      this.waiting.set(r.cpu, keep);
    }
    if (!inside) this.last.set(r.cpu, r);
  }

  /** Device `i` raises its line at `at` ns (at most MAX waiting for a handler are kept). */
  arrival(i: number, at: number): void {
    const q = this.pending[i]!;
    if (this.labelled.length < DecisionLabeller.MAX && q.length - this.head[i]! < DecisionLabeller.MAX) q.push(at);
  }

  /** How many events of device `i` were raised by `t`; they are taken off its queue. */
  private take(i: number, t: number): number {
    const q = this.pending[i]!;
    const from = this.head[i]!;
    let h = from;
    while (h < q.length && q[h]! <= t) h++;
    if (h === q.length) {
      q.length = 0;
      this.head[i] = 0;
    } else if (h > 1024) {
      q.splice(0, h);
      this.head[i] = 0;
    } else this.head[i] = h;
    return h - from;
  }

  /** At the end of the run: the device events no handler ran for (a driver that polls reads them). */
  finish(end: number): void {
    this.nics.forEach((n, i) => {
      const q = this.pending[i]!;
      for (let j = this.head[i]!; j < q.length && q[j]! <= end && this.labelled.length < DecisionLabeller.MAX; j++) {
        this.labelled.push({ time: q[j]!, kind: "irq", cpu: -1, device: `nic/${n.name}`, text: `${n.name} receives a packet (IRQ ${n.irq} raised, no handler ran for it)` });
      }
      q.length = 0;
      this.head[i] = 0;
    });
  }

  /** Interrupts raised by the devices up to now and taken here get their label. */
  private irq_taken(r: TraceRecord): void {
    const irq = Number(/^irq=(\d+)/.exec(r.detail)?.[1]);
    this.nics.forEach((n, i) => {
      if (n.irq !== irq) return;
      const raised = this.take(i, r.ts);
      if (raised === 0 || this.labelled.length >= DecisionLabeller.MAX) return;
      const before = this.last.get(r.cpu);
      const interrupted = r.who;
      const held = this.holding(r.cpu);
      const l: LabelledDecision = {
        time: r.ts,
        kind: "irq",
        cpu: r.cpu,
        device: `nic/${n.name}`,
        text: `CPU${r.cpu} ${describe(r)} in ${interrupted}${raised > 1 ? ` (${raised} packets)` : ""}${held.length > 0 ? ` holding ${held.join(", ")}` : ""}${before !== undefined && before.who === interrupted ? ` after it ${describe(before)}` : ""}`,
      };
      this.labelled.push(l);
      const open = this.open_irq.get(r.cpu) ?? [];
      open.push({ l, depth: this.depth.get(r.cpu) ?? 0 });
      this.open_irq.set(r.cpu, open);
      // The interrupted context's next event, once the interrupt is over.
      this.wait(r.cpu, (next, inside) => {
        if (inside) return false;
        l.text += next.who === interrupted ? `, before it ${describe(next)}` : `, then ${describe(next)}`;
        return true;
      });
    });
  }
}
