// Swarm mode (swarm testing, Groce et al., ISSTA 2012): a scenario declares ranges for parts of
// its machine (CPUs, memory size, pcp on/off, HZ, preemption, device interrupt rates) and each
// seed of a --swarm run draws its own configuration from the seed's "swarm" stream before boot.
// Every declared field draws exactly once a seed, in a fixed order, so a seed always draws the
// same configuration and no other stream's draws move. The drawn configuration lies over the
// scenario's machine; --machine FILE and --cpus lie over it (the command line wins).
import type { Rng } from "../sim/rng.ts";
import { ScenarioError } from "../sim/errors.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import type { MachineSpec, SwarmConfig, SwarmNumber, SwarmSpec, SwarmSwitch } from "./scenario.ts";

const FIELDS = ["cpus", "mb", "pcp", "hz", "preempt", "nics", "disks"] as const;
const HZ = [100, 250, 300, 1000];
const MAX_RATE = 10_000_000;
const MAX_NS = 1_000_000_000;

const show = (v: unknown): string => JSON.stringify(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The values a range or list may give for `field`, checked; `allowed` limits them to a set (hz). */
function check_number(field: string, v: unknown, lo: number, hi: number, allowed?: readonly number[], step = 1): void {
  const what = allowed !== undefined ? `values of ${allowed.join(", ")}` : `whole numbers from ${lo} to ${hi}`;
  const ok = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi && (allowed === undefined || allowed.includes(x));
  const usage = `swarm.${field} must be [min, max] (min <= max) or { one_of: [...] } of ${what}, got ${show(v)}`;
  if (Array.isArray(v)) {
    const [a, b] = v as unknown[];
    const inRange = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi;
    if (v.length !== 2 || !inRange(a) || !inRange(b) || a > b) throw new ScenarioError(usage);
    if (allowed !== undefined && !allowed.some((x) => x >= a && x <= b)) throw new ScenarioError(`swarm.${field}: [${a}, ${b}] holds none of ${allowed.join(", ")}`);
    if (Math.floor(b / step) < Math.ceil(a / step)) throw new ScenarioError(`swarm.${field}: [${a}, ${b}] holds no multiple of ${step}`);
    return;
  }
  if (!isObject(v) || Object.keys(v).join() !== "one_of" || !Array.isArray(v.one_of) || v.one_of.length === 0 || !v.one_of.every(ok)) throw new ScenarioError(usage);
  const off = (v.one_of as number[]).find((x) => x % step !== 0);
  if (off !== undefined) throw new ScenarioError(`swarm.${field}: ${off} is not a multiple of ${step}`);
}

function check_switch(field: string, v: unknown): void {
  if (v === "both") return;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "boolean")) throw new ScenarioError(`swarm.${field} must be "both" or a list of true/false (e.g. [true, false]), got ${show(v)}`);
}

/** Per-device ranges: an object by device name, each name a device of the machine. */
function check_devices(field: "nics" | "disks", v: unknown, names: readonly string[], fields: readonly string[], check: (name: string, o: Record<string, unknown>) => void): void {
  const kind = field === "nics" ? "NIC" : "disk";
  if (!isObject(v)) throw new ScenarioError(`swarm.${field} must be an object by ${kind} name, e.g. { ${field === "nics" ? `"eth0": { "rate": [1000, 20000] }` : `"sdb": { "minNs": [100000, 900000] }`} }`);
  for (const [name, o] of Object.entries(v)) {
    if (!names.includes(name)) throw new ScenarioError(`swarm.${field}.${name}: the machine has no ${kind} "${name}" (${names.length === 0 ? `it has no ${kind}s` : `its ${kind}s: ${names.join(", ")}`})`);
    if (!isObject(o)) throw new ScenarioError(`swarm.${field}.${name} must be an object with ${fields.join(" or ")}`);
    const unknown = Object.keys(o).find((k) => !fields.includes(k));
    if (unknown !== undefined) throw new ScenarioError(`swarm.${field}.${name}: unknown field "${unknown}" (accepted: ${fields.join(", ")})`);
    if (Object.keys(o).length === 0) throw new ScenarioError(`swarm.${field}.${name} must give ${fields.join(" or ")}`);
    check(name, o);
  }
}

/** Checks a scenario's swarm ranges against the machine they vary (the scenario's, with the command line's overrides). */
export function check_swarm(s: unknown, m: MachineSpec): asserts s is SwarmSpec {
  if (!isObject(s)) throw new ScenarioError(`swarm must be an object with ${FIELDS.join(", ")}`);
  const unknown = Object.keys(s).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new ScenarioError(`swarm: unknown field "${unknown}" (accepted: ${FIELDS.join(", ")})`);
  if (Object.keys(s).length === 0) throw new ScenarioError(`swarm declares no ranges (give at least one of: ${FIELDS.join(", ")})`);
  if (s.cpus !== undefined) check_number("cpus", s.cpus, 1, MAX_CPUS);
  for (const f of ["mb", "pcp"] as const) {
    if (s[f] !== undefined && m.memory === undefined) throw new ScenarioError(`swarm.${f} needs a machine with memory (machine.memory or --machine FILE)`);
  }
  if (s.mb !== undefined) {
    const nodes = m.memory!.nodes ?? 1;
    check_number("mb", s.mb, 16 * nodes, 65536, undefined, nodes);
    const top = Array.isArray(s.mb) ? (s.mb[1] as number) : Math.max(...((s.mb as { one_of: number[] }).one_of));
    if (m.memory!.arch === "i386" && m.memory!.pae !== true && top > 4096) throw new ScenarioError(`swarm.mb: i386 without PAE addresses 4 GiB of memory, so at most 4096, got ${top} (set memory.pae for up to 65536)`);
  }
  if (s.pcp !== undefined) check_switch("pcp", s.pcp);
  if (s.hz !== undefined) check_number("hz", s.hz, 100, 1000, HZ);
  if (s.preempt !== undefined) check_switch("preempt", s.preempt);
  if (s.nics !== undefined) {
    check_devices("nics", s.nics, (m.nics ?? []).map((n) => n.name), ["rate"], (name, o) => check_number(`nics.${name}.rate`, o.rate, 0, MAX_RATE));
  }
  if (s.disks !== undefined) {
    check_devices("disks", s.disks, (m.disks ?? []).map((d) => d.name), ["minNs", "maxNs"], (name, o) => {
      for (const f of ["minNs", "maxNs"]) if (o[f] !== undefined) check_number(`disks.${name}.${f}`, o[f], 1, MAX_NS);
    });
  }
}

function draw_number(rng: Rng, v: SwarmNumber, allowed?: readonly number[], step = 1): number {
  if (!Array.isArray(v)) {
    const list = (v as { one_of: readonly number[] }).one_of;
    return list[rng.int(list.length)]!;
  }
  const [lo, hi] = v as readonly [number, number];
  if (allowed !== undefined) {
    const inside = allowed.filter((x) => x >= lo && x <= hi);
    return inside[rng.int(inside.length)]!;
  }
  const a = Math.ceil(lo / step);
  return (a + rng.int(Math.floor(hi / step) - a + 1)) * step;
}

function draw_switch(rng: Rng, v: SwarmSwitch): boolean {
  const list = v === "both" ? [true, false] : v;
  return list[rng.int(list.length)]!;
}

/** One seed's configuration: each declared field drawn once, in a fixed order (checked ranges). */
export function draw_swarm(s: SwarmSpec, m: MachineSpec, rng: Rng): SwarmConfig {
  const out: { -readonly [K in keyof SwarmConfig]: SwarmConfig[K] } = {};
  if (s.cpus !== undefined) out.cpus = draw_number(rng, s.cpus);
  if (s.mb !== undefined) out.mb = draw_number(rng, s.mb, undefined, m.memory?.nodes ?? 1);
  if (s.pcp !== undefined) out.pcp = draw_switch(rng, s.pcp);
  if (s.hz !== undefined) out.hz = draw_number(rng, s.hz, HZ);
  if (s.preempt !== undefined) out.preempt = draw_switch(rng, s.preempt);
  if (s.nics !== undefined) {
    const nics: Record<string, { rate: number }> = {};
    for (const n of m.nics ?? []) {
      const r = s.nics[n.name];
      if (r !== undefined) nics[n.name] = { rate: draw_number(rng, r.rate) };
    }
    out.nics = nics;
  }
  if (s.disks !== undefined) {
    const disks: Record<string, { minNs: number; maxNs: number }> = {};
    for (const d of m.disks ?? []) {
      const r = s.disks[d.name];
      if (r === undefined) continue;
      const minNs = r.minNs !== undefined ? draw_number(rng, r.minNs) : d.minNs;
      const maxNs = r.maxNs !== undefined ? draw_number(rng, r.maxNs) : d.maxNs;
      disks[d.name] = { minNs, maxNs: Math.max(minNs, maxNs) };
    }
    out.disks = disks;
  }
  return out;
}

/** The configuration without the fields the command line sets itself (--cpus, --machine FILE's fields win). */
export function without_overridden(c: SwarmConfig, cpus: number | undefined, o: { cpus?: number; hz?: number; preempt?: boolean; memory?: { mb?: number; zones?: unknown; nodes?: number; pcp?: boolean } } | undefined): SwarmConfig {
  const drop = new Set<string>();
  if (cpus !== undefined || o?.cpus !== undefined) drop.add("cpus");
  if (o?.hz !== undefined) drop.add("hz");
  if (o?.preempt !== undefined) drop.add("preempt");
  if (o?.memory?.mb !== undefined || o?.memory?.zones !== undefined || o?.memory?.nodes !== undefined) drop.add("mb");
  if (o?.memory?.pcp !== undefined) drop.add("pcp");
  return Object.fromEntries(Object.entries(c).filter(([k]) => !drop.has(k))) as SwarmConfig;
}

/** The machine with a drawn configuration over it. */
export function apply_swarm(m: MachineSpec, c: SwarmConfig): MachineSpec {
  let memory = m.memory;
  if (c.mb !== undefined || c.pcp !== undefined) {
    if (memory === undefined) throw new ScenarioError(`swarm: mb and pcp need a machine with memory (machine.memory or --machine FILE)`);
    if (c.mb !== undefined) {
      const { zones: _layout, ...rest } = memory;
      memory = { ...rest, mb: c.mb };
    }
    if (c.pcp !== undefined) memory = { ...memory, pcp: c.pcp };
  }
  const device = (kind: string, names: readonly string[], given: Readonly<Record<string, unknown>> | undefined): void => {
    for (const name of Object.keys(given ?? {})) if (!names.includes(name)) throw new ScenarioError(`swarm: the machine has no ${kind} "${name}"`);
  };
  device("NIC", (m.nics ?? []).map((n) => n.name), c.nics);
  device("disk", (m.disks ?? []).map((d) => d.name), c.disks);
  return {
    ...m,
    ...(c.cpus !== undefined ? { cpus: c.cpus } : {}),
    ...(c.hz !== undefined ? { hz: c.hz } : {}),
    ...(c.preempt !== undefined ? { preempt: c.preempt } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(m.nics !== undefined ? { nics: m.nics.map((n) => (c.nics?.[n.name] !== undefined ? { ...n, rate: c.nics[n.name]!.rate } : n)) } : {}),
    ...(m.disks !== undefined ? { disks: m.disks.map((d) => (c.disks?.[d.name] !== undefined ? { ...d, ...c.disks[d.name]! } : d)) } : {}),
  };
}

/** A configuration read back from a schedule file (plain JSON), checked field by field. */
export function parse_swarm_config(v: unknown): SwarmConfig {
  if (!isObject(v)) throw new ScenarioError(`"swarm" must be an object`);
  const int = (x: unknown, lo: number, hi: number): boolean => typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi;
  for (const [k, x] of Object.entries(v)) {
    const bad = (what: string) => new ScenarioError(`"swarm.${k}" must be ${what}, got ${show(x)}`);
    switch (k) {
      case "cpus":
        if (!int(x, 1, MAX_CPUS)) throw bad(`an integer from 1 to ${MAX_CPUS}`);
        break;
      case "mb":
        if (!int(x, 16, 65536)) throw bad("an integer from 16 to 65536");
        break;
      case "hz":
        if (!HZ.includes(x as number)) throw bad(HZ.join(", "));
        break;
      case "pcp":
      case "preempt":
        if (typeof x !== "boolean") throw bad("true or false");
        break;
      case "nics":
        if (!isObject(x) || !Object.values(x).every((n) => isObject(n) && Object.keys(n).join() === "rate" && int(n.rate, 0, MAX_RATE))) throw bad(`an object of { "rate": 0..${MAX_RATE} } by NIC name`);
        break;
      case "disks":
        if (!isObject(x) || !Object.values(x).every((d) => isObject(d) && Object.keys(d).sort().join() === "maxNs,minNs" && int(d.minNs, 1, MAX_NS) && int(d.maxNs, d.minNs as number, MAX_NS))) throw bad(`an object of { "minNs", "maxNs" } by disk name`);
        break;
      default:
        throw new ScenarioError(`"swarm": unknown field "${k}" (accepted: ${FIELDS.join(", ")})`);
    }
  }
  return v as SwarmConfig;
}

/** One line: "cpus 3, mb 96, pcp off, hz 1000, preempt on, eth0 12000/s, sdb 100000..900000 ns". */
export function format_swarm(c: SwarmConfig): string {
  const onOff = (b: boolean): string => (b ? "on" : "off");
  const parts: string[] = [];
  if (c.cpus !== undefined) parts.push(`cpus ${c.cpus}`);
  if (c.mb !== undefined) parts.push(`mb ${c.mb}`);
  if (c.pcp !== undefined) parts.push(`pcp ${onOff(c.pcp)}`);
  if (c.hz !== undefined) parts.push(`hz ${c.hz}`);
  if (c.preempt !== undefined) parts.push(`preempt ${onOff(c.preempt)}`);
  for (const [name, n] of Object.entries(c.nics ?? {})) parts.push(`${name} ${n.rate}/s`);
  for (const [name, d] of Object.entries(c.disks ?? {})) parts.push(`${name} ${d.minNs}..${d.maxNs} ns`);
  return parts.length === 0 ? "(every field set by the command line)" : parts.join(", ");
}
