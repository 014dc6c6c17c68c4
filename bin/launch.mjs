// What the launcher (bin/mmsim.js) and the sweep worker boot (bin/sweep-worker.mjs) share:
// importing compiled modules from dist/, and setting up the scenario catalogue with the one
// scenario a command needs imported before the command (which is synchronous) runs.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CLI = new URL("../dist/src/cli/", import.meta.url);
const SCENARIOS = new URL("../dist/scenarios/", import.meta.url);

/** A compiled module of src/cli ("run.js"). */
export function cli(name) {
  return import(new URL(name, CLI).href);
}

/** Whether dist/ has been built. */
export function built() {
  return existsSync(fileURLToPath(new URL("main.js", CLI)));
}

/**
 * Sets up load.js's catalogue from the build's manifest (or, without one, with every scenario
 * loaded), then imports what `refOf()` names: a shipped scenario's module, or a scenario file
 * (an import error is kept for the command to report). Returns whether the manifest is in use.
 */
export async function prepareScenarios(load, refOf) {
  const manifest = load.readManifest();
  if (manifest !== undefined) load.useManifest(manifest);
  else {
    const index = await import(new URL("index.js", SCENARIOS).href);
    load.useScenarios(index.scenarios, index.DEFAULT_SCENARIO);
  }
  const ref = refOf();
  if (ref !== undefined && "name" in ref && manifest !== undefined) {
    const entry = load.shippedEntry(ref.name);
    if (entry !== undefined) {
      let v = await import(new URL(entry.module, SCENARIOS).href);
      for (const k of entry.path) v = v[k];
      load.addShipped(v);
    }
  }
  if (ref !== undefined && "file" in ref) {
    const { importScenarioFile } = await import("./scenario-file.mjs");
    try {
      load.preload(ref.file, await importScenarioFile(ref.file));
    } catch (e) {
      load.preload(ref.file, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return manifest !== undefined;
}
