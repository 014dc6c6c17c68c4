// Scripts: a run's decisions recorded (tie-breaks counted per pick() call, delays per turn,
// device arrival times) replay the run exactly; what a script leaves out takes the simplest
// course; decisions get labels from the events that follow them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RecordingStrategy, ScriptedStrategy, check_script, type Decision } from "../../src/sim/script.ts";
import type { Strategy, StrategyLane } from "../../src/sim/strategy.ts";
import { DecisionLabeller, describe } from "../../src/harness/decisions.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";
import { validateSchedule } from "../../src/sim/schedule.ts";
import { Trace } from "../../src/sim/trace.ts";
import { TP_IRQ_HANDLER_ENTRY, TP_IRQ_HANDLER_EXIT, TP_IPI_ENTRY, TP_IPI_EXIT, TP_LOCK_ACQUIRE, TP_LOCK_CONTENDED, TP_LOCK_RELEASE, TP_SOFTIRQ_ENTRY, TP_SOFTIRQ_EXIT } from "../../src/kernel/trace.ts";
import { TP_KFREE } from "../../src/kernel/mm/trace.ts";

const lane = (id: number, clock: number): StrategyLane => ({ id, clock, runnable: () => true });

/** A labeller fed by a trace: ev(ts, cpu, who, type, ...fields) emits an event, strings interned. */
function labeller(nics: { irq: number; name: string }[], holding?: (cpu: number) => readonly string[]) {
  const tr = new Trace(4);
  const l = new DecisionLabeller(tr, nics, holding);
  tr.sink = (e) => l.event(e);
  const ev = (ts: number, cpu: number, who: string, type: number, ...fields: (number | string)[]) => {
    const a = fields.map((f) => (typeof f === "string" ? tr.intern(f) : f));
    tr.emit(type, ts, cpu, tr.intern(who), a[0], a[1], a[2], a[3], a[4], a[5]);
  };
  return { l, ev };
}

test("recording: a tie won by other than the lowest id and a delay are noted, keyed by pick count and turn; the script replays them", () => {
  // An inner strategy that picks the last tied lane every other tie and delays every third turn.
  let ties = 0;
  let turns = 0;
  const inner: Strategy = { name: "x", pick: (tied) => (ties++ % 2 === 1 ? tied.length - 1 : 0), delay: () => (turns++ % 3 === 2 ? 70 : 0) };
  const rec = new RecordingStrategy(inner);
  const a = lane(0, 10);
  const b = lane(1, 10);
  const out: number[] = [];
  // Turn 0: a tie (pick 0, default), delay 0. Turn 1: two ties (a due event came first), the second
  // (pick 2) won by b. Turn 2: delayed 70.
  out.push(rec.pick([a, b], [a, b]), rec.delay(a, [a, b]));
  out.push(rec.pick([a, b], [a, b]), rec.pick([a, b], [a, b]), rec.delay(b, [a, b]));
  out.push(rec.delay(a, [a, b]));
  assert.equal(out, [0, 0, 1, 0, 0, 70]);
  assert.equal(
    rec.decisions.map((d) => [d.kind, d.turn, d.lane, d.ns]),
    [
      ["pick", 1, 1, 0],
      ["delay", 2, 0, 70],
    ],
  );
  const s = new ScriptedStrategy({ picks: [[1, 1]], delays: [[2, 70]], arrivals: {} });
  assert.equal([s.pick([a, b]), s.delay(), s.pick([a, b]), s.pick([a, b]), s.delay(), s.delay(), s.delay()], [0, 0, 1, 0, 0, 70, 0]);
});

test("a recorded run's script with its other draws replays it to the same trace hash (ties, delays, NIC interrupts, failslab)", () => {
  for (const [name, seed] of [["bug-double-free-race", 3], ["irq-lock-deadlock", 3], ["bug-atomic-unchecked", 6], ["counter-nolock", 1]] as const) {
    const s = findScenario(name)!;
    const r = runScenario(s, { seed, record: true });
    const again = runScenario(s, { seed, script: r.script, replay: r.recording });
    assert.is(again.traceHash, r.traceHash, name);
  }
});

test("an empty script: the lowest CPU first at ties, no delays, no device interrupts", () => {
  const s = findScenario("irq-lock-deadlock")!;
  const r = runScenario(s, { seed: 3, script: { picks: [], delays: [], arrivals: {} }, record: true });
  assert.equal(r.script!.delays, []);
  assert.equal(r.script!.picks, []);
  assert.equal(r.script!.arrivals, { "nic/eth0": [] });
  assert.is(r.stats.irqs.find((i) => i.irq === 11)?.count ?? 0, 0);
});

test("labels: a delay, a tie-break with what the others did next, an interrupt with the locks it interrupted and what came after", () => {
  const { l, ev } = labeller([{ irq: 11, name: "eth0" }], (cpu) => (cpu === 1 ? ["&zone->lock"] : []));
  l.arrival(0, 900);
  const d = (x: Partial<Decision>): Decision => ({ turn: 0, kind: "delay", lane: 0, time: 0, others: [], ns: 0, ...x });
  l.decision(d({ kind: "delay", lane: 0, time: 100, ns: 412 }));
  ev(512, 0, "xmit-3", TP_LOCK_ACQUIRE, 0, "&dev->lock");
  l.decision(d({ kind: "pick", lane: 1, time: 600, others: [0] }));
  ev(600, 1, "rx-4", TP_LOCK_ACQUIRE, 0, "&zone->lock");
  ev(601, 0, "xmit-3", TP_LOCK_CONTENDED, "&dev->lock");
  ev(950, 1, "rx-4", TP_IRQ_HANDLER_ENTRY, 11, "eth0");
  ev(960, 1, "rx-4", TP_KFREE, "eth0", 0xc1c00b50); // inside the handler: not "after"
  ev(970, 1, "rx-4", TP_IRQ_HANDLER_EXIT, 11, 1);
  ev(980, 1, "rx-4", TP_LOCK_RELEASE, "&zone->lock");
  assert.equal(
    l.labelled.map((x) => [x.time, x.kind, x.cpu, x.text]),
    [
      [100, "delay", 0, "CPU0 [xmit-3] held back 412 ns, then takes &dev->lock"],
      [600, "pick", 1, "CPU1 [rx-4] goes before CPU0: takes &zone->lock (CPU0 then spins on &dev->lock)"],
      [950, "irq", 1, "CPU1 takes IRQ 11 (eth0) in rx-4 holding &zone->lock after it takes &zone->lock, before it releases &zone->lock"],
    ],
  );
  // A packet no handler ran for, by the end of the run.
  l.arrival(0, 1000);
  l.finish(2000);
  assert.equal(l.labelled.at(-1), { time: 1000, kind: "irq", cpu: -1, device: "nic/eth0", text: "eth0 receives a packet (IRQ 11 raised, no handler ran for it)" });
  assert.is(describe({ ts: 0, cpu: 0, who: "t-1", name: "lock_acquired", detail: "&zone->lock (120 ns)" }), "gets &zone->lock after 120 ns");
});

test("labels after an IPI; an interrupt's span runs to the end of the softirq its irq_exit ran", () => {
  const { l, ev: emit } = labeller([{ irq: 11, name: "eth0" }]);
  l.arrival(0, 1000);
  const ev = (ts: number, type: number, ...fields: (number | string)[]) => emit(ts, 0, "t-3", type, ...fields);
  ev(100, TP_IPI_ENTRY, "Function call interrupts");
  ev(110, TP_IPI_EXIT, "Function call interrupts");
  ev(500, TP_LOCK_ACQUIRE, 0, "a");
  ev(1200, TP_IRQ_HANDLER_ENTRY, 11, "eth0");
  ev(1300, TP_IRQ_HANDLER_EXIT, 11, 1);
  ev(1310, TP_SOFTIRQ_ENTRY, 3);
  ev(1700, TP_SOFTIRQ_EXIT, 3);
  ev(1800, TP_LOCK_RELEASE, "a");
  assert.equal(l.labelled, [
    { time: 1200, kind: "irq", cpu: 0, device: "nic/eth0", text: "CPU0 takes IRQ 11 (eth0) in t-3 after it takes a, before it releases a", span: 500 },
  ]);
});

test("schedule files: a script is checked", () => {
  const base = { format: "mmsim-schedule", version: 2, scenario: "demo", seed: 1, cpus: 2, traceHash: "0123456789abcdef", streams: {} };
  assert.is(validateSchedule({ ...base, script: { picks: [], delays: [], arrivals: {} } }), null);
  assert.is(validateSchedule({ ...base, script: { picks: [[1]], delays: [], arrivals: {} } }), `"script.picks" must be [turn, lane] pairs of whole numbers`);
  assert.is(check_script({ picks: [], delays: [], arrivals: { "nic/eth0": [5, 3] } }), `"script.arrivals.nic/eth0" must be rising whole ns`);
});

test.run();
