// Swarm mode: each seed draws its machine from the scenario's ranges, the same one every time,
// and that machine is the one that runs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { runScenario, type RunResult } from "../../src/harness/run.ts";
import { check_swarm, draw_swarm, format_swarm, parse_swarm_config } from "../../src/harness/swarm.ts";
import type { MachineSpec, SwarmConfig, SwarmSpec } from "../../src/harness/scenario.ts";
import { Streams } from "../../src/sim/rng.ts";
import { kernel } from "../../src/kernel/kernel.ts";
import { kthread_run, nic, num_online_cpus, udelay } from "../../src/kernel/index.ts";
import { inline } from "../helpers.ts";

const MACHINE: MachineSpec = {
  cpus: 2,
  memory: { arch: "i386", kernel: "2.6", mb: 32 },
  nics: [{ name: "eth0", irq: 11, rate: 1000, cpus: [0] }],
  disks: [{ name: "sdb", irq: 15, minNs: 1000, maxNs: 2000 }],
};
const SWARM: SwarmSpec = {
  cpus: [1, 3],
  mb: [16, 20],
  pcp: "both",
  hz: { one_of: [100, 1000] },
  preempt: [true, false],
  nics: { eth0: { rate: [500, 600] } },
  disks: { sdb: { minNs: [100, 200], maxNs: [150, 300] } },
};

/** What the booted machine is, read from inside the run. */
interface Seen {
  cpus: number;
  pages: number;
  pcp: boolean;
  hz: number;
  preempt: boolean;
  rate: number;
}

function scenario(swarm: SwarmSpec | null = SWARM) {
  return inline(
    () => {
      const k = kernel();
      const seen: Seen = {
        cpus: num_online_cpus(),
        pages: k.mm!.zones.reduce((n, z) => n + z.managed_pages, 0),
        pcp: k.mm!.pcp,
        hz: k.config.hz,
        preempt: k.config.preempt,
        rate: nic("eth0").config.rate,
      };
      kthread_run((_: null) => Effect.asVoid(udelay(20)), null, "t");
      return seen;
    },
    MACHINE,
    { ...(swarm !== null ? { swarm } : {}), check: () => {} },
  );
}

/** The state setup returned, via a check that keeps it. */
function runSeen(seed: number, opts: Partial<Parameters<typeof runScenario>[1]> = {}, swarm?: SwarmSpec): { r: RunResult; seen: Seen } {
  let seen: Seen | undefined;
  const base = scenario(swarm ?? SWARM);
  const r = runScenario({ ...base, check: (s: Seen) => void (seen = s) }, { seed, swarm: true, ...opts });
  return { r, seen: seen! };
}

const draw = (seed: number, spec: SwarmSpec = SWARM): SwarmConfig => draw_swarm(spec, MACHINE, new Streams(seed).stream("swarm"));

/** An Rng serving the given draws in order. */
function scripted(draws: number[]) {
  let i = 0;
  const next = () => draws[i++]!;
  return { next, int: (n: number) => (next() * n) | 0 };
}

test("the draws, one per field in order, map to values as worked out by hand", () => {
  // cpus [1, 3]: 1 + int(3 * 0.99) = 3; mb [16, 20]: 16 + int(5 * 0) = 16; pcp "both" is
  // [true, false][int(2 * 0.6)] = false; hz one_of [100, 1000][int(2 * 0.5)] = 1000; preempt
  // [true, false][int(2 * 0.2)] = true; eth0 rate 500 + int(101 * 0.5) = 550; sdb minNs 100 +
  // int(101 * 0.999) = 200, maxNs 150 + int(151 * 0.1) = 165, raised to minNs: 200.
  assert.equal(draw_swarm(SWARM, MACHINE, scripted([0.99, 0, 0.6, 0.5, 0.2, 0.5, 0.999, 0.1])), {
    cpus: 3,
    mb: 16,
    pcp: false,
    hz: 1000,
    preempt: true,
    nics: { eth0: { rate: 550 } },
    disks: { sdb: { minNs: 200, maxNs: 200 } },
  });
  // A hz range draws among Linux's values inside it: [200, 400] holds 250 and 300, int(2 * 0.7) = 1.
  assert.equal(draw_swarm({ hz: [200, 400] }, MACHINE, scripted([0.7])), { hz: 300 });
  // mb on 2 nodes steps by 2: [33, 39] holds 34, 36, 38; 2 * (17 + int(3 * 0.5)) = 36.
  assert.equal(draw_swarm({ mb: [33, 39] }, { ...MACHINE, memory: { arch: "i386", kernel: "2.6", mb: 32, nodes: 2 } }, scripted([0.5])), { mb: 36 });
});

test("a seed draws the same configuration every time, and the run is the same", () => {
  const a = runSeen(7);
  const b = runSeen(7);
  assert.equal(a.r.swarm, b.r.swarm);
  assert.is(a.r.traceHash, b.r.traceHash);
  assert.equal(a.r.swarm, draw(7));
});

test("over 50 seeds every draw is inside its range, both ends of cpus and every listed value occur", () => {
  const configs = Array.from({ length: 50 }, (_, i) => draw(i + 1));
  for (const c of configs) {
    assert.ok(c.cpus! >= 1 && c.cpus! <= 3, format_swarm(c));
    assert.ok(c.mb! >= 16 && c.mb! <= 20, format_swarm(c));
    assert.ok([100, 1000].includes(c.hz!), format_swarm(c));
    const rate = c.nics!.eth0!.rate;
    assert.ok(rate >= 500 && rate <= 600, format_swarm(c));
    const d = c.disks!.sdb!;
    assert.ok(d.minNs >= 100 && d.minNs <= 200 && d.maxNs >= d.minNs && d.maxNs <= 300, format_swarm(c));
  }
  // Each value has odds 1/3 (cpus) or 1/2 a seed: missing one in 50 seeds is (2/3)^50 < 1e-8.
  const values = <T>(f: (c: SwarmConfig) => T) => new Set(configs.map(f));
  assert.equal([...values((c) => c.cpus)].sort(), [1, 2, 3]);
  assert.equal([...values((c) => c.pcp)].sort(), [false, true]);
  assert.equal([...values((c) => c.preempt)].sort(), [false, true]);
  assert.equal([...values((c) => c.hz)].sort(), [100, 1000]);
  // 50 seeds over 3 * 5 * 2 * 2 * 2 * 101 * ... configurations: nearly all distinct.
  assert.ok(new Set(configs.map(format_swarm)).size > 40);
  // A range hz draws among the accepted values inside it; mb steps by the NUMA node count.
  assert.equal([...new Set(Array.from({ length: 40 }, (_, i) => draw(i, { hz: [200, 400] }).hz))].sort(), [250, 300]);
  const numa: MachineSpec = { memory: { arch: "x86_64", kernel: "2.6", mb: 64, nodes: 2 } };
  for (let seed = 0; seed < 20; seed++) {
    const mb = draw_swarm({ mb: [33, 39] }, numa, new Streams(seed).stream("swarm")).mb!;
    assert.ok(mb % 2 === 0 && mb >= 34 && mb <= 38, String(mb));
  }
});

test("the drawn configuration is the machine that ran", () => {
  for (const seed of [1, 2, 3, 4]) {
    const { r, seen } = runSeen(seed);
    const c = r.swarm!;
    assert.is(r.cpus, c.cpus);
    assert.is(seen.cpus, c.cpus);
    assert.is(seen.pages, c.mb! * 256);
    assert.is(seen.pcp, c.pcp);
    assert.is(seen.hz, c.hz);
    assert.is(seen.preempt, c.preempt);
    assert.is(seen.rate, c.nics!.eth0!.rate);
  }
});

test("the command line wins: --cpus and --machine fields replace the draws, which leave the report", () => {
  const { r, seen } = runSeen(5, { cpus: 4, machine: { hz: 300, memory: { pcp: true } } });
  assert.is(seen.cpus, 4);
  assert.is(seen.hz, 300);
  assert.is(seen.pcp, true);
  const drawn = draw(5);
  assert.equal(r.swarm, { mb: drawn.mb, preempt: drawn.preempt, nics: drawn.nics, disks: drawn.disks });
  assert.is(seen.pages, drawn.mb! * 256);
});

test("drawing takes nothing from the other streams: a one-value swarm runs as the plain machine", () => {
  const plain = runScenario(scenario(), { seed: 9 });
  const swarm = runSeen(9, {}, { cpus: [2, 2], nics: { eth0: { rate: { one_of: [1000] } } } });
  assert.equal(swarm.r.swarm, { cpus: 2, nics: { eth0: { rate: 1000 } } });
  assert.is(swarm.r.traceHash, plain.traceHash);
  assert.is(format_swarm(draw(3)), `cpus ${draw(3).cpus}, mb ${draw(3).mb}, pcp ${draw(3).pcp ? "on" : "off"}, hz ${draw(3).hz}, preempt ${draw(3).preempt ? "on" : "off"}, eth0 ${draw(3).nics!.eth0!.rate}/s, sdb ${draw(3).disks!.sdb!.minNs}..${draw(3).disks!.sdb!.maxNs} ns`);
});

test("a recorded configuration replays as given, to the same trace", () => {
  const a = runSeen(11);
  const again = JSON.parse(JSON.stringify(a.r.swarm)) as SwarmConfig;
  const b = runScenario(scenario(), { seed: 11, swarm: parse_swarm_config(again), replay: a.r.recording });
  assert.is(b.traceHash, a.r.traceHash);
  assert.equal(b.swarm, a.r.swarm);
});

test("bad swarm ranges: one message naming the field and what it accepts", () => {
  const bad = (s: unknown, message: string, m: MachineSpec = MACHINE) => assert.throws(() => check_swarm(s, m), (e: Error) => e.message === message || assert.is(e.message, message));
  bad([], "swarm must be an object with cpus, mb, pcp, hz, preempt, nics, disks");
  bad({}, "swarm declares no ranges (give at least one of: cpus, mb, pcp, hz, preempt, nics, disks)");
  bad({ cpu: [1, 2] }, 'swarm: unknown field "cpu" (accepted: cpus, mb, pcp, hz, preempt, nics, disks)');
  bad({ cpus: [0, 4] }, "swarm.cpus must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 1 to 64, got [0,4]");
  bad({ cpus: [4, 2] }, "swarm.cpus must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 1 to 64, got [4,2]");
  bad({ cpus: [1, 2, 3] }, "swarm.cpus must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 1 to 64, got [1,2,3]");
  bad({ cpus: { one_of: [] } }, 'swarm.cpus must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 1 to 64, got {"one_of":[]}');
  bad({ mb: [8, 64] }, "swarm.mb must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 16 to 65536, got [8,64]");
  bad({ mb: [16, 8192] }, "swarm.mb: i386 without PAE addresses 4 GiB of memory, so at most 4096, got 8192 (set memory.pae for up to 65536)");
  bad({ mb: [16, 64] }, "swarm.mb needs a machine with memory (machine.memory or --machine FILE)", { cpus: 2 });
  bad({ pcp: "both" }, "swarm.pcp needs a machine with memory (machine.memory or --machine FILE)", { cpus: 2 });
  bad({ pcp: "yes" }, 'swarm.pcp must be "both" or a list of true/false (e.g. [true, false]), got "yes"');
  bad({ hz: { one_of: [100, 200] } }, "swarm.hz must be [min, max] (min <= max) or { one_of: [...] } of values of 100, 250, 300, 1000, got {\"one_of\":[100,200]}");
  bad({ hz: [400, 900] }, "swarm.hz: [400, 900] holds none of 100, 250, 300, 1000");
  bad({ nics: { eth1: { rate: [1, 2] } } }, 'swarm.nics.eth1: the machine has no NIC "eth1" (its NICs: eth0)');
  bad({ nics: { eth0: { rate: [1, 2] } } }, 'swarm.nics.eth0: the machine has no NIC "eth0" (it has no NICs)', { cpus: 2 });
  bad({ nics: { eth0: { interval: [1, 2] } } }, 'swarm.nics.eth0: unknown field "interval" (accepted: rate)');
  bad({ nics: { eth0: { rate: [-1, 2] } } }, "swarm.nics.eth0.rate must be [min, max] (min <= max) or { one_of: [...] } of whole numbers from 0 to 10000000, got [-1,2]");
  bad({ disks: { sdb: {} } }, "swarm.disks.sdb must give minNs or maxNs");
  bad({ disks: [] }, 'swarm.disks must be an object by disk name, e.g. { "sdb": { "minNs": [100000, 900000] } }');
  bad({ mb: [33, 33] }, "swarm.mb: [33, 33] holds no multiple of 2", { memory: { arch: "x86_64", kernel: "2.6", mb: 64, nodes: 2 } });
  assert.throws(() => parse_swarm_config({ cpus: 0 }), /^"swarm\.cpus" must be an integer from 1 to 64, got 0$/);
  assert.throws(() => parse_swarm_config({ color: 1 }), /^"swarm": unknown field "color"/);
  // Through runScenario: the scenario's name first, as every scenario error.
  assert.throws(() => runScenario(scenario(null), { seed: 1, swarm: true }), /^scenario inline: declares no swarm ranges/);
  assert.throws(() => runScenario(scenario({ cpus: [1, 99] }), { seed: 1, swarm: true }), /^scenario inline: swarm\.cpus must be/);
});

test.run();
