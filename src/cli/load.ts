// Finds a scenario by name among the shipped ones, or in a module file. Module files are
// imported by the launcher (bin/mmsim.js, bin/sweep-worker.mjs) before the command runs, since
// importing is asynchronous and the simulator's side of the program is not: see scenarioFiles().
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Scenario } from "../harness/scenario.ts";
import { findScenario, scenarios } from "../../scenarios/index.ts";
import { UsageError } from "./args.ts";

/** Modules imported by the launcher, by absolute path; an Error if the import failed. */
const preloaded = new Map<string, Record<string, unknown> | Error>();

export function preload(path: string, mod: Record<string, unknown> | Error): void {
  preloaded.set(resolve(path), mod);
}

/** Whether `ref` names a scenario module file rather than a shipped scenario. */
export function isScenarioPath(ref: string): boolean {
  return findScenario(ref) === undefined && /[./\\]/.test(ref);
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
  const named = findScenario(ref);
  if (named !== undefined) return { scenario: named };
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
  const w = Math.max(...scenarios.map((s) => s.name.length));
  return scenarios.map((s) => `${s.name.padEnd(w)}  ${s.description}`);
}
