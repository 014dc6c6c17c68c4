// Where the package's own files are, worked out from this module's URL, so that the same code
// finds them when it runs compiled (dist/src/cli/*.js, the normal way: bin/mmsim.js) and as
// TypeScript sources through tsx (src/cli/*.ts, as the tests import it).
import { fileURLToPath } from "node:url";
import { join, resolve, sep } from "node:path";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Whether this module is the compiled one (dist/src/cli/). */
export const COMPILED = here.endsWith(`${sep}dist${sep}src${sep}cli${sep}`);
/** The package's root directory (where package.json is). */
export const ROOT = resolve(here, COMPILED ? "../../.." : "../..");
/** The compiled tree: dist/src, dist/scenarios (built by `npm run build`, which `npm install` runs). */
export const DIST = join(ROOT, "dist");
/** The build's list of shipped scenarios (names, descriptions, modules), written by bin/build-manifest.mjs. */
export const MANIFEST = join(DIST, "scenarios", "manifest.json");
