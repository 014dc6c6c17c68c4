// Module resolution hooks (registered with module.register by bin/scenario-file.mjs when the
// command line names a scenario file): an import of the package's own sources (src/**/*.ts,
// scenarios/**/*.ts, as a scenario file in or beside the repository writes
// `import { kthread_run } from "../src/kernel/index.ts"`) resolves to the compiled module in
// dist/, which the simulator itself runs, so each module exists once in the process; so do
// imports of "mmsim" (the package's exports) and "effect" from wherever the file is. Compiled
// modules (and effect's) are loaded as they are, past tsx, which would otherwise be asked to
// compile them (and would wrap named functions in __name()).
import { existsSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist") + sep;
const TREES = ["src", "scenarios"].map((t) => [join(ROOT, t) + sep, join(DIST, t) + sep]);

/** The scenario file the command line named: it runs as written even when it is one of the package's sources. */
const entries = new Set();

/** Called by module.register with its data, and by the launcher's own thread. */
export function initialize(data) {
  for (const path of data?.entries ?? []) entries.add(path);
}

/** The compiled module for a path of the package's sources (.ts, .mts, .js or no extension), if there is one. */
export function toDist(path) {
  if (entries.has(path)) return undefined;
  for (const [from, to] of TREES) {
    if (!path.startsWith(from)) continue;
    const js = to + path.slice(from.length).replace(/\.(m?ts|js)$/, "") + ".js";
    return existsSync(js) ? js : undefined;
  }
  return undefined;
}

export function isDist(path) {
  return path.startsWith(DIST);
}

/**
 * Imports of mmsim itself ("mmsim", "mmsim/kernel", ...) and of effect resolve from this package,
 * wherever the scenario file is: to the simulator the command runs and the effect it runs on (a
 * file outside any project, or in one with another copy, would otherwise find none or another).
 */
export const SHARED = /^(mmsim|effect)(\/|$)/;

export async function resolve(specifier, context, next) {
  const r = await next(specifier, SHARED.test(specifier) ? { ...context, parentURL: import.meta.url } : context);
  if (!r.url.startsWith("file:")) return r;
  const js = toDist(fileURLToPath(r.url));
  return js === undefined ? r : { url: pathToFileURL(js).href, format: "module", shortCircuit: true };
}

/** effect's modules (ES modules, the engine's hot path) load as they are too. */
const EFFECT = join(ROOT, "node_modules", "effect") + sep;

export async function load(url, context, next) {
  const path = url.startsWith("file:") ? fileURLToPath(url) : "";
  if ((isDist(path) || path.startsWith(EFFECT)) && path.endsWith(".js")) {
    return { format: "module", source: readFileSync(new URL(url)), shortCircuit: true };
  }
  return next(url, context);
}
