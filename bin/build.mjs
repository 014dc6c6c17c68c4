// `npm run build` (run by `npm install` and `npm ci` through the prepare script, and first by
// `npm test`): compiles src/ and scenarios/ to dist/ with tsc (tsconfig.build.json: ES modules
// with source maps, `.ts` imports rewritten to `.js`), from a clean dist/ so no module of a
// deleted source lingers, then writes the scenario manifest (bin/build-manifest.mjs).
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
// typescript's package exports do not name its bin: the file beside its package.json.
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
for (const args of [[tsc, "-p", "tsconfig.build.json"], [fileURLToPath(new URL("build-manifest.mjs", import.meta.url))]]) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
