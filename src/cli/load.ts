// Finds a scenario by name among the shipped ones, or loads it from a module file.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Scenario } from "../harness/scenario.ts";
import { findScenario, scenarios } from "../../scenarios/index.ts";
import { UsageError } from "./args.ts";

const requireTs = createRequire(import.meta.url);

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
  let mod: Record<string, unknown>;
  try {
    mod = requireTs(path) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`scenario file ${ref} could not be loaded: ${(e as Error).message.split("\n")[0]}`);
  }
  const found = isScenario(mod.default) ? mod.default : Object.values(mod).find(isScenario);
  if (found === undefined) throw new UsageError(`${ref} exports no scenario (export default defineScenario({ ... }))`);
  return { scenario: found as Scenario<any>, source: path };
}

export function listScenarios(): string[] {
  const w = Math.max(...scenarios.map((s) => s.name.length));
  return scenarios.map((s) => `${s.name.padEnd(w)}  ${s.description}`);
}
