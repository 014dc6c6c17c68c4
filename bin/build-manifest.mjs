// Build step after tsc (npm run build): writes dist/scenarios/manifest.json, the shipped
// scenarios in `mmsim list`'s order with each one's name, description, whether it declares
// swarm ranges, and the compiled module (and export) it comes from. With it the launcher lists
// scenarios without loading any, and imports only the module of the scenario a command names.
import { readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = fileURLToPath(new URL("../dist/scenarios/", import.meta.url));
const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
const isScenario = (v) => typeof v === "object" && v !== null && typeof v.name === "string" && typeof v.setup === "function";
const rel = (f) => relative(dir, f).split(sep).join("/");

const index = await import(pathToFileURL(join(dir, "index.js")).href);
// Where each scenario object is exported: a module's export, or a property of one (a bug's twin).
const where = new Map();
const modules = walk(dir).filter((f) => f.endsWith(".js") && !f.endsWith(`${sep}index.js`)).sort();
for (const f of modules) {
  const mod = await import(pathToFileURL(f).href);
  for (const [k, v] of Object.entries(mod)) {
    if (isScenario(v)) where.set(v, where.get(v) ?? { module: rel(f), path: [k] });
    else if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (isScenario(v2)) where.set(v2, where.get(v2) ?? { module: rel(f), path: [k, k2] });
    }
  }
}
const scenarios = index.scenarios.map((s, i) => ({
  name: s.name,
  description: s.description,
  swarm: s.swarm !== undefined,
  // One that no module exports by itself comes from the index (which loads them all).
  ...(where.get(s) ?? { module: "index.js", path: ["scenarios", String(i)] }),
}));
const manifest = { format: "mmsim-scenarios", version: 1, default: index.DEFAULT_SCENARIO, scenarios };
const out = join(dir, "manifest.json");
writeFileSync(`${out}.tmp`, JSON.stringify(manifest, null, 1) + "\n");
renameSync(`${out}.tmp`, out);
