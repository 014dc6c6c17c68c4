// Schedule decisions labelled by meaning. A recorded run's decisions (tie-breaks, delays, device
// interrupts) are numbers to the engine; this listener watches the trace as the run goes and
// says what each one made happen, from the events that followed it on the CPUs involved:
//   CPU1 [reconfig-4] goes before CPU0 [xmit-3]: takes &queue->lock (CPU0 then takes &dev->lock)
//   CPU0 [xmit-3] held back 412 ns, then takes &dev->lock
//   CPU1 takes IRQ 11 (eth0) in xmit-3 after it takes &zone->lock, before it releases &zone->lock
import type { Decision } from "../sim/script.ts";
import { TraceEvent, trace_event_types, type Trace, type TraceRecord } from "../sim/trace.ts";
import { TP_IRQ_HANDLER_ENTRY } from "../kernel/trace.ts";
import { MAX_CPUS } from "../hw/machine.ts";

/**
 * One decision of a recorded run (RunResult.decisions) and what it made happen: a tie-break won
 * ("pick"), a step held back ("delay") or a device interrupt taken ("irq"), at virtual time
 * `time` (ns) on CPU `cpu`, described by `text` from the trace events that followed it.
 */
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
/** An event type's part in an interrupt's run: none, inside one, opening one, closing one. */
const NONE = 0;
const SIDE = 1;
const OPEN = 2;
const CLOSE = 3;
/** By event type id, from the names above (extended when types are defined later). */
let classes = new Uint8Array(0);
function class_of(type: number): number {
  if (type >= classes.length) {
    const types = trace_event_types();
    classes = Uint8Array.from(types, (t) => (IRQ_OPEN.test(t.name) ? OPEN : IRQ_CLOSE.test(t.name) ? CLOSE : IRQ_SIDE.test(t.name) ? SIDE : NONE));
  }
  return classes[type]!;
}

interface Nic {
  readonly irq: number;
  readonly name: string;
}

type Waiter = (e: TraceEvent, inside: boolean) => boolean;

/**
 * Labels decisions as the trace goes past: `decision()` when the strategy makes one, `event()`
 * for every trace event (numerically: nothing is formatted but what a label says). Each label
 * waits for the events it needs (the next one on the CPU; for an interrupt, the next event of
 * the interrupted context after it).
 */
export class DecisionLabeller {
  /** Labels kept at most (a long random walk makes a decision every few steps). */
  static readonly MAX = 10_000;
  readonly labelled: LabelledDecision[] = [];
  // Per CPU, indexed by cpu + 1 (an event with no CPU is -1):
  /** Callbacks waiting for the next event on a CPU (`inside`: an interrupt's); true when done. */
  private readonly waiting: (Waiter[] | undefined)[] = [];
  /** The newest event of each CPU's interrupted (non-irq) context, when there is one. */
  private readonly last: TraceEvent[] = [];
  private readonly has_last = new Uint8Array(MAX_CPUS + 1);
  /** The interrupts a CPU is in, with the depth they were taken at, to measure their span. */
  private readonly open_irq: ({ l: LabelledDecision; depth: number }[] | undefined)[] = [];
  /** How deep in interrupts each CPU is: events at depth > 0 are not the interrupted context's. */
  private readonly depth = new Int32Array(MAX_CPUS + 1);
  /** Each device's events not yet taken by a handler (a queue: its head index). */
  private readonly pending: number[][];
  private readonly head: number[];

  /** `trace`: the run's (its strings); `holding(cpu)`: the spinlocks the context an interrupt on `cpu` interrupts holds. */
  constructor(private readonly trace: Trace, private readonly nics: readonly Nic[], private readonly holding: (cpu: number) => readonly string[] = () => []) {
    this.pending = nics.map(() => []);
    this.head = nics.map(() => 0);
    for (let i = 0; i <= MAX_CPUS; i++) this.last.push(new TraceEvent());
  }

  /** The event as a phrase (text is built here, for labels only). */
  private describe(e: TraceEvent): string {
    return describe(this.trace.record(e));
  }

  private who(e: TraceEvent): string {
    return e.who >= 0 ? this.trace.str(e.who) : "<event>";
  }

  private wait(cpu: number, f: Waiter): void {
    (this.waiting[cpu + 1] ??= []).push(f);
  }

  decision(d: Decision): void {
    if (this.labelled.length >= DecisionLabeller.MAX) return;
    if (d.kind === "delay") {
      const l: LabelledDecision = { time: d.time, kind: "delay", cpu: d.lane, text: `CPU${d.lane} held back ${d.ns} ns` };
      this.labelled.push(l);
      this.wait(d.lane, (e) => ((l.text = `CPU${d.lane} [${this.who(e)}] held back ${d.ns} ns, then ${this.describe(e)}`), true));
      return;
    }
    const others = d.others.map((o) => `CPU${o}`).join(", ");
    const l: LabelledDecision = { time: d.time, kind: "pick", cpu: d.lane, text: `CPU${d.lane} goes before ${others}` };
    this.labelled.push(l);
    let mine = "";
    const then: string[] = [];
    this.wait(d.lane, (e) => {
      mine = `CPU${d.lane} [${this.who(e)}] goes before ${others}: ${this.describe(e)}`;
      l.text = mine;
      return true;
    });
    for (const o of d.others) {
      this.wait(o, (e) => {
        then.push(`CPU${o} then ${this.describe(e)}`);
        if (mine !== "") l.text = `${mine} (${then.join("; ")})`;
        return true;
      });
    }
  }

  event(e: TraceEvent): void {
    const c = e.cpu + 1;
    if (e.type === TP_IRQ_HANDLER_ENTRY) this.irq_taken(e);
    const cls = class_of(e.type);
    const depth = this.depth[c]!;
    const inside = depth > 0 || cls !== NONE;
    const closing = cls === CLOSE;
    if (cls === OPEN) this.depth[c] = depth + 1;
    else if (closing) this.depth[c] = Math.max(0, depth - 1);
    const open = this.open_irq[c];
    if (open !== undefined) this.spans(e, c, open, inside, closing);
    const w = this.waiting[c];
    if (w !== undefined && w.length > 0) {
      let n = 0;
      for (let i = 0; i < w.length; i++) if (!w[i]!(e, inside)) w[n++] = w[i]!;
      if (n !== w.length) w.length = n;
    }
    if (!inside) {
      this.last[c]!.copy(e);
      this.has_last[c] = 1;
    }
  }

  /** The open interrupts of a CPU after event `e`. */
  private spans(e: TraceEvent, c: number, open: { l: LabelledDecision; depth: number }[], inside: boolean, closing: boolean): void {
    const now = this.depth[c]!;
    // Back at the depth an interrupt was taken at: its span so far (a softirq may follow).
    if (closing) for (const o of open) if (now === o.depth) o.l.span = e.ts - o.l.time;
    // The interrupted context runs again, or the CPU unwound below it: those spans are final.
    let n = 0;
    if (inside) for (const o of open) if (now >= o.depth) open[n++] = o;
    if (n === 0) this.open_irq[c] = undefined;
    else if (n !== open.length) open.length = n;
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
  private irq_taken(e: TraceEvent): void {
    const irq = e.a0;
    const c = e.cpu + 1;
    for (let i = 0; i < this.nics.length; i++) {
      const n = this.nics[i]!;
      if (n.irq !== irq) continue;
      const raised = this.take(i, e.ts);
      if (raised === 0 || this.labelled.length >= DecisionLabeller.MAX) continue;
      const before = this.has_last[c] === 1 ? this.last[c]! : undefined;
      const interrupted = e.who;
      const held = this.holding(e.cpu);
      const l: LabelledDecision = {
        time: e.ts,
        kind: "irq",
        cpu: e.cpu,
        device: `nic/${n.name}`,
        text: `CPU${e.cpu} ${this.describe(e)} in ${this.who(e)}${raised > 1 ? ` (${raised} packets)` : ""}${held.length > 0 ? ` holding ${held.join(", ")}` : ""}${before !== undefined && before.who === interrupted ? ` after it ${this.describe(before)}` : ""}`,
      };
      this.labelled.push(l);
      (this.open_irq[c] ??= []).push({ l, depth: this.depth[c]! });
      // The interrupted context's next event, once the interrupt is over.
      this.wait(e.cpu, (next, inside) => {
        if (inside) return false;
        l.text += next.who === interrupted ? `, before it ${this.describe(next)}` : `, then ${this.describe(next)}`;
        return true;
      });
    }
  }
}
