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

/**
 * A scenario file reference, "path" or "path#name" (the scenario's `name` field, for a file that
 * holds several); a path that exists as written keeps any '#' in it.
 */
export function splitRef(ref: string): { readonly path: string; readonly name?: string } {
  const hash = ref.lastIndexOf("#");
  if (hash < 0 || existsSync(ref)) return { path: ref };
  return { path: ref.slice(0, hash), name: ref.slice(hash + 1) };
}

/** `ref` with the scenario named by --scenario (an error when it names another one, or with a shipped scenario). */
export function withScenarioName(ref: string, name: string | undefined): string {
  if (name === undefined) return ref;
  if (!isScenarioPath(ref)) throw new UsageError(`--scenario picks a scenario in a scenario file; "${ref}" is a shipped scenario's name`);
  const split = splitRef(ref);
  if (split.name !== undefined && split.name !== name) throw new UsageError(`${ref} names scenario "${split.name}" but --scenario names "${name}"`);
  return `${split.path}#${name}`;
}

export interface Loaded {
  readonly scenario: Scenario<any>;
  /** Absolute path when loaded from a file (with "#name" when the file holds several scenarios). */
  readonly source?: string;
}

/** The scenarios a loaded module exports, each once, the default export first. */
function scenariosOf(mod: Record<string, unknown>): Scenario<any>[] {
  // A file outside an ESM package is loaded as CommonJS: its exports arrive as `default`.
  const exportsOf = (m: Record<string, unknown>): unknown[] => [m.default, ...Object.values(m)];
  const inner = typeof mod.default === "object" && mod.default !== null && !isScenario(mod.default) ? exportsOf(mod.default as Record<string, unknown>) : [];
  const all = [...exportsOf(mod), ...inner].filter(isScenario);
  return [...new Set(all)] as Scenario<any>[];
}

/** The module a scenario file reference names, as the launcher imported it. */
function moduleOf(path: string, shown: string): Record<string, unknown> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`scenario file ${shown} does not exist`);
  const mod = preloaded.get(abs);
  if (mod === undefined) throw new UsageError(`scenario file ${shown} was not loaded by the launcher`);
  if (mod instanceof Error) throw new UsageError(`scenario file ${shown} could not be loaded: ${mod.message.split("\n")[0]}`);
  return mod;
}

export function loadScenario(ref: string): Loaded {
  const named = shipped.get(ref);
  if (named !== undefined) return { scenario: named };
  if (shippedEntry(ref) !== undefined) throw new Error(`mmsim: scenario ${ref} was not loaded by the launcher`);
  if (!/[./\\]/.test(ref)) {
    throw new UsageError(`unknown scenario "${ref}" (run "mmsim list" for the names, or give a scenario file path)`);
  }
  const { path, name } = splitRef(ref);
  const list = scenariosOf(moduleOf(path, path));
  if (list.length === 0) throw new UsageError(`${path} exports no scenario (export default defineScenario({ ... }), or several as named exports)`);
  const names = list.map((s) => s.name).join(", ");
  const twice = list.find((s, i) => list.findIndex((o) => o.name === s.name) !== i);
  if (twice !== undefined) throw new UsageError(`${path} has two scenarios named "${twice.name}" (a scenario's name picks it: give each its own)`);
  if (name !== undefined) {
    const found = list.find((s) => s.name === name);
    if (found === undefined) throw new UsageError(`${path} has no scenario named "${name}" (it has: ${names})`);
    return { scenario: found, source: list.length > 1 ? `${resolve(path)}#${name}` : resolve(path) };
  }
  // The file's default export is its scenario unless another is named.
  const mod = moduleOf(path, path);
  const fallback = isScenario(mod.default) ? (mod.default as Scenario<any>) : undefined;
  if (list.length > 1 && fallback === undefined) throw new UsageError(`${path} holds ${list.length} scenarios (${names}): name one, as ${path}#NAME or with --scenario NAME`);
  const chosen = fallback ?? list[0]!;
  return { scenario: chosen, source: list.length > 1 ? `${resolve(path)}#${chosen.name}` : resolve(path) };
}

/** The scenarios of a scenario file, a line each (`mmsim list FILE`). */
export function listFile(path: string): string[] {
  const list = scenariosOf(moduleOf(path, path));
  if (list.length === 0) throw new UsageError(`${path} exports no scenario (export default defineScenario({ ... }), or several as named exports)`);
  const w = Math.max(...list.map((s) => s.name.length));
  return list.map((s) => `${s.name.padEnd(w)}  ${s.description}`);
}

export function listScenarios(): string[] {
  const list = entries();
  const w = Math.max(...list.map((s) => s.name.length));
  return list.map((s) => `${s.name.padEnd(w)}  ${s.description}`);
}

/** `mmsim list`. */
export function cmdList(argv: readonly string[], io: Io): number {
  const p = parseArgs("list", argv, {});
  if (p.positional.length > 1) throw new UsageError(`list takes at most one scenario file, got ${p.positional.join(" ")}`);
  const file = p.positional[0];
  io.out((file === undefined ? listScenarios() : listFile(file)).join("\n"));
  return 0;
}
