// The extension points, through the examples in examples/extensions/: a device of one's own (an
// interrupt source with its own seeded stream), a scheduling strategy of one's own, and a detector
// of one's own reporting through the kernel's report channel. Expected values from the model's
// costs: taking a free spinlock costs the atomic RMW (20 ns); a lock handed over is the spinner's
// from the handover on; ndelay(n) is n ns.
import { test } from "uvu";
import * as assert from "uvu/assert";
// The examples import "mmsim" (the package's compiled modules, as a user's code does): so does this file.
import { defineDevice, defineDetector, defineScenario, defineStrategy, device, IRQ_HANDLED, kthread_run, msleep, printk, raw_smp_processor_id, request_irq, runScenario, type MachineSpec, type Scenario } from "mmsim";
import { slowPath, slowPathFixed } from "../../examples/extensions/slow-path.ts";
import { highestFirst, wideWindows } from "../../examples/extensions/strategies.ts";
import doorbellScenario from "../../examples/extensions/doorbell.ts";

function inline<S>(setup: () => S, machine: MachineSpec = { cpus: 2 }, extra: Partial<Scenario<S>> = {}): Scenario<S> {
  return defineScenario({ name: "inline", description: "test", machine, setup, ...extra });
}

test("a detector: the holdtime example reports each hold over its bound, by the CPU that held the lock", () => {
  // No delays, ties to CPU1: CPU1 takes the free lock (20 ns) and holds it over ndelay(20000);
  // CPU0 spins and gets it at the handover, so holds exactly the 20000; they alternate.
  const r = runScenario(slowPath, { seed: 1, strategy: highestFirst });
  assert.equal(
    r.reports.map((x) => `${x.kind} ${x.title}`),
    [
      "holdtime holdtime: dev_lock held 20020 ns on CPU1 by worker1-4 (more than 10000 ns)",
      "holdtime holdtime: dev_lock held 20000 ns on CPU0 by worker0-3 (more than 10000 ns)",
      "holdtime holdtime: dev_lock held 20000 ns on CPU1 by worker1-4 (more than 10000 ns)",
      "holdtime holdtime: dev_lock held 20000 ns on CPU0 by worker0-3 (more than 10000 ns)",
      "holdtime holdtime: dev_lock held 20000 ns on CPU1 by worker1-4 (more than 10000 ns)",
      "holdtime holdtime: dev_lock held 20000 ns on CPU0 by worker0-3 (more than 10000 ns)",
    ],
  );
  assert.ok(r.failed, "a detector's report fails the run like any other");
  assert.ok(r.log.some((l) => l.endsWith("holdtime: dev_lock held at most 20020 ns")), "its end() ran");
  // The fix: nothing under the lock but the atomic RMW; end() still runs.
  const f = runScenario(slowPathFixed, { seed: 1, strategy: highestFirst });
  assert.equal(f.reports, []);
  assert.ok(f.log.some((l) => l.endsWith("holdtime: dev_lock held at most 20 ns")));
  // A scenario that expects the kind is not failed by it.
  assert.is(runScenario({ ...slowPath, expected_reports: ["holdtime"] }, { seed: 1, strategy: highestFirst }).failed, false);
});

test("a detector sees allocations, frees, accesses and contexts; a run without one is unchanged", () => {
  const seen: string[] = [];
  const spy = defineDetector({
    name: "spy",
    create: () => ({
      context: (e) => void (e.kind === "hardirq" && seen.push(`${e.op} ${e.kind} ${e.name} CPU${e.cpu}`)),
    }),
  });
  const scn = inline(() => {
    request_irq(12, function* h() { return IRQ_HANDLED; }, 0, "bell", null);
    kthread_run(function* t() { yield* msleep(1); }, null, "t");
  }, { cpus: 2 }, { devices: [defineDevice({ name: "bell", irq: 12, cpus: [1], create: (api) => api, start: (api) => api.at(5000, () => api.raise()) })] });
  const a = runScenario(scn, { seed: 3 });
  const b = runScenario(scn, { seed: 3, detectors: [spy] });
  assert.equal(seen, ["enter hardirq bell CPU1", "exit hardirq bell CPU1"]);
  assert.is(b.traceHash, a.traceHash, "detectors watch; they change nothing");
});

test("a detector's name is checked", () => {
  const bad = defineDetector({ name: "no spaces", create: () => ({}) });
  assert.throws(() => runScenario(inline(() => void kthread_run(function* () {}, null, "t")), { seed: 1, detectors: [bad] }), /a detector's name must be letters, digits, '-' or '_' starting with a letter, got "no spaces"/);
  const taken = defineDetector({ name: "lockdep", create: () => ({}) });
  assert.throws(() => runScenario(inline(() => void kthread_run(function* () {}, null, "t")), { seed: 1, detectors: [taken] }), /a detector may not be named "lockdep": that is a built-in report kind/);
});

test("a device: its events at the times it asks, its line raised, its handler finding it with device()", () => {
  // Rings at 100, 200, ..., 500 us, then stops; the handler counts what it finds pending.
  const bell = defineDevice({
    name: "bell",
    irq: 12,
    cpus: [1],
    create: (api) => {
      const d = { pending: 0, rings: 0, ring: () => {} };
      d.ring = () => {
        d.pending++;
        api.raise();
        if (++d.rings < 5) api.at(api.now() + 100_000, d.ring);
      };
      return d;
    },
    start: (d) => d.ring(),
  });
  const st = { counted: 0, cpus: [] as number[] };
  const scn = inline(
    () => {
      request_irq(12, function* bell_irq() {
        const d = device(bell);
        st.counted += d.pending;
        st.cpus.push(raw_smp_processor_id());
        d.pending = 0;
        return IRQ_HANDLED;
      }, 0, "bell", null);
      kthread_run(function* t() { yield* msleep(4); }, null, "t");
    },
    { cpus: 2 },
    { devices: [bell] },
  );
  const r = runScenario(scn, { seed: 1 });
  assert.is(st.counted, 5);
  assert.equal(st.cpus, [1, 1, 1, 1, 1], "routed to CPU1, one interrupt a ring (100 us apart: none merged)");
  assert.equal(r.stats.irqs.filter((i) => i.irq === 12).map((i) => [i.name, i.count]), [["bell", 5]]);
  assert.throws(() => runScenario(inline(() => void kthread_run(function* () { device(bell); }, null, "t")), { seed: 1 }), /no device "bell" on this machine \(list it in the scenario's devices\)/);
});

test("a device draws from its own stream: the doorbell example replays by seed and its draws are its stream's", () => {
  const a = runScenario(doorbellScenario, { seed: 7 });
  const b = runScenario(doorbellScenario, { seed: 7 });
  const c = runScenario(doorbellScenario, { seed: 8 });
  assert.is(a.traceHash, b.traceHash);
  assert.is.not(a.traceHash, c.traceHash);
  assert.equal(a.expectations, []);
  // One draw per ring, in "dev/doorbell"; every interrupt follows a ring (a ring while the last is
  // still pending merges into it, as a level raised twice does).
  const draws = (a.recording["dev/doorbell"] as { draws: number }).draws;
  const irqs = a.stats.irqs.find((i) => i.irq === 12)!.count;
  assert.ok(irqs > 100 && draws >= irqs, `${draws} draws, ${irqs} interrupts`);
  assert.ok(a.log.some((l) => /doorbell: \d+ rings counted$/.test(l)));
});

test("a strategy: ties go where it says, its draws are the run's sched stream, and a bad answer names it", () => {
  const order: number[] = [];
  const scn = inline(() => {
    for (const cpu of [0, 1, 2]) kthread_run(function* t() { order.push(cpu); printk(`cpu ${cpu}`); }, null, `t${cpu}`, { cpus: [cpu] });
  }, { cpus: 3 });
  runScenario(scn, { seed: 1, strategy: highestFirst });
  assert.equal(order, [2, 1, 0]);
  const w = wideWindows(4, 50_000);
  const x = runScenario(slowPath, { seed: 5, strategy: w });
  assert.is(runScenario(slowPath, { seed: 5, strategy: w }).traceHash, x.traceHash, "the same seed replays");
  assert.ok((x.recording.sched as { draws: number }).draws > 0);
  const bad = defineStrategy({ name: "bad", make: () => ({ name: "bad", pick: () => 7, delay: () => 0 }) });
  assert.throws(() => runScenario(scn, { seed: 1, strategy: bad }), /strategy bad: pick\(\) returned 7 for 3 tied lanes \(an index from 0 to 2\)/);
});

test.run();
