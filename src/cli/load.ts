// Scenarios by name or by file. The shipped scenarios come from a catalogue, which is either
// every scenario module loaded at once (main(), as the tests call it) or the manifest the build
// writes (dist/scenarios/manifest.json: names, descriptions, modules), with which the launcher
// lists scenarios without loading any, and imports only the module of the scenario a command
// names before it runs the command (bin/mmsim.js). Scenario files are imported by the launcher
// (asynchronously, before the command) and handed over with preload().
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Scenario } from "../harness/scenario.ts";
import { UsageError, parseArgs } from "./args.ts";
import type { Io } from "./io.ts";
import { MANIFEST } from "./paths.ts";

/** A shipped scenario as the manifest lists it. */
export interface ShippedEntry {
  readonly name: string;
  readonly description: string;
  /** Whether it declares swarm ranges (so --swarm can run it). */
  readonly swarm: boolean;
  /** Its module, relative to dist/scenarios/ ("teach/demo.js"), and where the scenario is in the module's exports (["default"], ["default", "fixed"]). */
  readonly module: string;
  readonly path: readonly string[];
}

export interface Manifest {
  readonly format: "mmsim-scenarios";
  readonly version: 1;
  /** The scenario `mmsim run` runs when it names none. */
  readonly default: string;
  readonly scenarios: readonly ShippedEntry[];
}

let catalogue: { readonly default: string; readonly entries: readonly ShippedEntry[] } | undefined;
/** The shipped scenarios loaded so far, by name. */
const shipped = new Map<string, Scenario<any>>();
/** Modules imported by the launcher, by absolute path; an Error if the import failed. */
const preloaded = new Map<string, Record<string, unknown> | Error>();

/** The catalogue of every shipped scenario, all loaded (main()). */
export function useScenarios(list: readonly Scenario<any>[], defaultName: string): void {
  catalogue = { default: defaultName, entries: list.map((s) => ({ name: s.name, description: s.description, swarm: s.swarm !== undefined, module: "", path: [] })) };
  shipped.clear();
  for (const s of list) shipped.set(s.name, s);
}

/** The build's manifest, or undefined when there is none (the sources were not built). */
export function readManifest(path = MANIFEST): Manifest | undefined {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as Partial<Manifest>;
  } catch {
    return undefined;
  }
  return m.format === "mmsim-scenarios" && m.version === 1 && Array.isArray(m.scenarios) ? (m as Manifest) : undefined;
}

/** The launcher's catalogue: the manifest's names; the scenarios a command needs arrive with addShipped(). */
export function useManifest(m: Manifest): void {
  catalogue = { default: m.default, entries: m.scenarios };
  shipped.clear();
}

/** A shipped scenario the launcher imported (from its manifest entry's module). */
export function addShipped(s: Scenario<any>): void {
  shipped.set(s.name, s);
}

function entries(): readonly ShippedEntry[] {
  if (catalogue === undefined) throw new Error("mmsim: no scenario catalogue (call useScenarios or useManifest first)");
  return catalogue.entries;
}

export function shippedEntry(name: string): ShippedEntry | undefined {
  return entries().find((e) => e.name === name);
}

export function defaultScenario(): string {
  entries();
  return catalogue!.default;
}

/** The shipped scenarios that declare swarm ranges. */
export function swarmScenarios(): string[] {
  return entries().filter((e) => e.swarm).map((e) => e.name);
}

export function preload(path: string, mod: Record<string, unknown> | Error): void {
  preloaded.set(resolve(path), mod);
}

/** Whether `ref` names a scenario module file rather than a shipped scenario. */
export function isScenarioPath(ref: string): boolean {
  return shippedEntry(ref) === undefined && /[./\\]/.test(ref);
}

function isScenario(v: unknown): v is Scenario<unknown> {
  const o = v as Partial<Scenario<unknown>> | null;
  return typeof o === "object" && o !== null && typeof o.name === "string" && typeof o.setup === "function";
}

export interface Loaded {
  readonly scenario: Scenario<any>;
  /** Absolute path when loaded from a file. */
  readonly source?: string;
}

export function loadScenario(ref: string): Loaded {
  const named = shipped.get(ref);
  if (named !== undefined) return { scenario: named };
  if (shippedEntry(ref) !== undefined) throw new Error(`mmsim: scenario ${ref} was not loaded by the launcher`);
  if (!/[./\\]/.test(ref)) {
    throw new UsageError(`unknown scenario "${ref}" (run "mmsim list" for the names, or give a scenario file path)`);
  }
  const path = resolve(ref);
  if (!existsSync(path)) throw new UsageError(`scenario file ${ref} does not exist`);
  const mod = preloaded.get(path);
  if (mod === undefined) throw new UsageError(`scenario file ${ref} was not loaded by the launcher`);
  if (mod instanceof Error) throw new UsageError(`scenario file ${ref} could not be loaded: ${mod.message.split("\n")[0]}`);
  // A file outside an ESM package is loaded as CommonJS: its exports arrive as `default`.
  const exportsOf = (m: Record<string, unknown>): unknown[] => [m.default, ...Object.values(m)];
  const inner = typeof mod.default === "object" && mod.default !== null ? exportsOf(mod.default as Record<string, unknown>) : [];
  const found = [...exportsOf(mod), ...inner].find(isScenario);
  if (found === undefined) throw new UsageError(`${ref} exports no scenario (export default defineScenario({ ... }))`);
  return { scenario: found as Scenario<any>, source: path };
}

export function listScenarios(): string[] {
  const list = entries();
  const w = Math.max(...list.map((s) => s.name.length));
  return list.map((s) => `${s.name.padEnd(w)}  ${s.description}`);
}

/** `mmsim list`. */
export function cmdList(argv: readonly string[], io: Io): number {
  parseArgs("list", argv, {});
  io.out(listScenarios().join("\n"));
  return 0;
}
