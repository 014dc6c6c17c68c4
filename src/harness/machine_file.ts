// The machine description file accepted as --machine FILE (JSON), e.g.
//   { "arch": "x86_64", "kernel": "6", "cpus": 2, "zones": [{ "name": "DMA", "managed": 3840 },
//     { "name": "DMA32", "managed": 772808 }, { "name": "Normal", "managed": 131072 }],
//     "min_free_kbytes": 67584 }
// Every field is checked; an error names the field and what it accepts.
import { check_fault_injection } from "../kernel/fault_inject.ts";
import { ScenarioError } from "../sim/errors.ts";
import type { MachineOverride, MmuSpec } from "./scenario.ts";
import { zone_layout, type MemorySpec, type ZoneSpec } from "../kernel/mm/mmzone.ts";

const FIELDS = ["arch", "kernel", "cpus", "mb", "nodes", "zones", "min_free_kbytes", "watermark_scale_factor", "pcp", "writeback_us", "pae", "hz", "preempt", "tlb", "cache", "mmu_detail", "costs", "slab_colouring", "debug_slab", "fault_injection", "lockdep", "kmemleak", "kasan", "debug_spinlock", "debug_atomic_sleep", "debug_list", "debug_preempt", "watchdog", "hung_task_timeout_secs"];
const TLB_FIELDS = ["entries", "ways", "large_entries", "large_ways"];
const CACHE_FIELDS = ["size", "ways", "line", "policy", "llc_size", "llc_ways"];
const ZONE_FIELDS = ["name", "managed", "present", "spanned", "node"];

function int(o: Record<string, unknown>, k: string, min: number, max: number): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ScenarioError(`"${k}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function sub_object(o: Record<string, unknown>, key: string, fields: readonly string[]): Record<string, unknown> | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ScenarioError(`"${key}" must be an object with ${fields.join(", ")}`);
  const so = v as Record<string, unknown>;
  for (const k of Object.keys(so)) if (!fields.includes(k)) throw new ScenarioError(`${key}: unknown field "${k}" (accepted: ${fields.join(", ")})`);
  return so;
}

/** The TLB / cache geometry and the memory detail level; geometry is checked when the machine is built. */
function parse_mmu(o: Record<string, unknown>): MmuSpec | undefined {
  const t = sub_object(o, "tlb", TLB_FIELDS);
  const c = sub_object(o, "cache", CACHE_FIELDS);
  if (o.mmu_detail !== undefined && o.mmu_detail !== "off" && o.mmu_detail !== "locks" && o.mmu_detail !== "all") throw new ScenarioError(`"mmu_detail" must be "off", "locks" or "all", got ${JSON.stringify(o.mmu_detail)}`);
  if (t === undefined && c === undefined && o.mmu_detail === undefined) return undefined;
  const tlb = t === undefined ? undefined : { entries: int(t, "entries", 1, 4096), ways: int(t, "ways", 1, 64), large_entries: int(t, "large_entries", 1, 4096), large_ways: int(t, "large_ways", 1, 64) };
  let cache;
  if (c !== undefined) {
    if (c.policy !== undefined && c.policy !== "write-back" && c.policy !== "write-through") throw new ScenarioError(`cache.policy must be "write-back" or "write-through", got ${JSON.stringify(c.policy)}`);
    cache = { size: int(c, "size", 1024, 64 << 20), ways: int(c, "ways", 1, 64), line: int(c, "line", 16, 256), policy: c.policy as "write-back" | "write-through" | undefined, llc_size: int(c, "llc_size", 0, 1 << 30), llc_ways: int(c, "llc_ways", 1, 64) };
  }
  const strip = <T extends object>(x: T | undefined) => (x === undefined ? undefined : (Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>));
  return { tlb: strip(tlb) as MmuSpec["tlb"], cache: strip(cache) as MmuSpec["cache"], detail: o.mmu_detail as MmuSpec["detail"] };
}

/**
 * Parses a machine file's JSON value into the parts of a machine it sets. Memory fields lie over
 * the scenario's memory (runScenario merges them); without a scenario's, over i386, kernel 2.6,
 * 128 MiB. A file with no memory field leaves the scenario's memory as it is.
 */
export function parseMachineFile(v: unknown): MachineOverride {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ScenarioError("the machine file must hold a JSON object");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw new ScenarioError(`unknown field "${k}" (accepted: ${FIELDS.join(", ")})`);
  const arch = o.arch ?? "i386";
  if (arch !== "i386" && arch !== "x86_64") throw new ScenarioError(`"arch" must be "i386" or "x86_64", got ${JSON.stringify(arch)}`);
  const kernel = o.kernel ?? "2.6";
  if (kernel !== "2.6" && kernel !== "6") throw new ScenarioError(`"kernel" must be "2.6" or "6", got ${JSON.stringify(kernel)}`);
  let zones: ZoneSpec[] | undefined;
  if (o.zones !== undefined) {
    if (!Array.isArray(o.zones)) throw new ScenarioError(`"zones" must be an array of { "name", "managed", "present"?, "spanned"? }`);
    zones = o.zones.map((z, i) => {
      if (typeof z !== "object" || z === null) throw new ScenarioError(`zones[${i}] must be an object`);
      const zo = z as Record<string, unknown>;
      for (const k of Object.keys(zo)) if (!ZONE_FIELDS.includes(k)) throw new ScenarioError(`zones[${i}]: unknown field "${k}" (accepted: ${ZONE_FIELDS.join(", ")})`);
      if (typeof zo.name !== "string") throw new ScenarioError(`zones[${i}].name must be a zone name`);
      const managed = int(zo, "managed", 1, 2 ** 30);
      if (managed === undefined) throw new ScenarioError(`zones[${i}].managed (pages) is required`);
      return { name: zo.name, managed, present: int(zo, "present", 1, 2 ** 30), spanned: int(zo, "spanned", 1, 2 ** 30), node: int(zo, "node", 0, 7) };
    });
  }
  if (o.pcp !== undefined && typeof o.pcp !== "boolean") throw new ScenarioError(`"pcp" must be true or false`);
  if (o.pae !== undefined && typeof o.pae !== "boolean") throw new ScenarioError(`"pae" must be true or false`);
  if (o.slab_colouring !== undefined && typeof o.slab_colouring !== "boolean") throw new ScenarioError(`"slab_colouring" must be true or false`);
  if (o.debug_slab !== undefined && typeof o.debug_slab !== "boolean") throw new ScenarioError(`"debug_slab" must be true or false`);
  if (o.debug_slab === true && o.kernel === "6") throw new ScenarioError(`"debug_slab" models 2.6.34's CONFIG_DEBUG_SLAB: it needs "kernel": "2.6" (kernel "6" is built without it)`);
  if (o.preempt !== undefined && typeof o.preempt !== "boolean") throw new ScenarioError(`"preempt" must be true or false`);
  const cpus = int(o, "cpus", 1, 64);
  const hz = int(o, "hz", 100, 1000);
  if (hz !== undefined && ![100, 250, 300, 1000].includes(hz)) throw new ScenarioError(`"hz" must be 100, 250, 300 or 1000, got ${hz}`);
  const given = <T extends object>(x: T): Partial<T> => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
  const memory: Partial<MemorySpec> = given({
      arch: o.arch as MemorySpec["arch"] | undefined,
      kernel: o.kernel as MemorySpec["kernel"] | undefined,
      mb: int(o, "mb", 16, 65536),
      nodes: int(o, "nodes", 1, 8),
      writeback_us: int(o, "writeback_us", 1, 10_000_000),
      pae: o.pae as boolean | undefined,
      zones,
      min_free_kbytes: int(o, "min_free_kbytes", 128, 1 << 22),
      watermark_scale_factor: int(o, "watermark_scale_factor", 1, 1000),
      pcp: o.pcp as boolean | undefined,
      slab_colouring: o.slab_colouring as boolean | undefined,
      debug_slab: o.debug_slab as boolean | undefined,
  });
  // Zones are checked against the arch here when the file names it, else when the machine boots.
  if (o.arch !== undefined && (memory.zones !== undefined || memory.mb !== undefined)) zone_layout({ ...memory, arch, kernel } as MemorySpec);
  const mmu = parse_mmu(o);
  if (o.costs !== undefined && (typeof o.costs !== "object" || o.costs === null || Array.isArray(o.costs))) throw new ScenarioError(`"costs" must be an object of ns figures, e.g. { "memory": 100, "cache_hit": 2 }`);
  const fault_injection = o.fault_injection !== undefined ? check_fault_injection(o.fault_injection) : undefined;
  const switches = ["lockdep", "kmemleak", "kasan", "debug_spinlock", "debug_atomic_sleep", "debug_list", "debug_preempt", "watchdog"] as const;
  for (const f of switches) if (o[f] !== undefined && typeof o[f] !== "boolean") throw new ScenarioError(`"${f}" must be true or false`);
  const hung_task_timeout_secs = int(o, "hung_task_timeout_secs", 0, 86400);
  if (o.kasan === true && o.kernel !== undefined && o.kernel !== "6") throw new ScenarioError(`"kasan": KASAN exists only in kernels 4.0 and later: it needs "kernel": "6"`);
  if (o.kasan === true && o.arch !== undefined && o.arch !== "x86_64") throw new ScenarioError(`"kasan": generic KASAN is x86_64-only in 6.1: it needs "arch": "x86_64"`);
  return {
    ...Object.fromEntries(switches.filter((f) => o[f] !== undefined).map((f) => [f, o[f] as boolean])),
    ...(hung_task_timeout_secs !== undefined ? { hung_task_timeout_secs } : {}),
    ...(fault_injection !== undefined ? { fault_injection } : {}),
    ...(o.costs !== undefined ? { costs: o.costs as Record<string, number> } : {}),
    ...(mmu !== undefined ? { mmu } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    ...(hz !== undefined ? { hz } : {}),
    ...(o.preempt !== undefined ? { preempt: o.preempt as boolean } : {}),
    ...(Object.keys(memory).length > 0 ? { memory } : {}),
  };
}
