// Imports a user's scenario module file for the launcher and the sweep workers. TypeScript
// (.ts, .mts, .cts) goes through tsx, which is loaded here and nowhere else; a JavaScript file
// needs no compiler. Either way, imports of the package's own sources from the file resolve to
// the compiled modules the simulator runs (bin/dist-hooks.mjs for ES modules; here, for a file
// tsx loads as CommonJS, Module._resolveFilename and the .js loader), so the scenario and the
// simulator share one copy of every module.
import Module, { register } from "node:module";
import { dirname, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SHARED, initialize, isDist, toDist } from "./dist-hooks.mjs";

let ready;

export async function importScenarioFile(file) {
  const path = resolve(file);
  ready ??= setUp(/\.[cm]?tsx?$/.test(file), path);
  await ready;
  return import(pathToFileURL(path).href);
}

async function setUp(typescript, entry) {
  const data = { entries: [entry] };
  initialize(data);
  const plainJs = Module._extensions[".js"];
  if (typescript) {
    const [esm, cjs] = await Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]);
    esm.register();
    cjs.register();
  }
  // Registered after tsx's, so these hooks run first.
  register("./dist-hooks.mjs", { parentURL: import.meta.url, data });
  const resolveFilename = Module._resolveFilename;
  // mmsim and effect resolve as from this file (a module of the package's own).
  const own = new Module(fileURLToPath(import.meta.url));
  own.filename = own.id;
  own.paths = Module._nodeModulePaths(dirname(own.id));
  Module._resolveFilename = function (request, parent, isMain, options) {
    const path = resolveFilename.call(this, request, SHARED.test(request) ? own : parent, isMain, options);
    return toDist(path) ?? path;
  };
  // A compiled module, or a package's (effect is ES modules), required from CommonJS: Node's own
  // .js loader, which loads an ES module as one (require(esm), Node 20.19+) into the one module
  // map, where tsx's would compile a CommonJS copy of it.
  const loadJs = Module._extensions[".js"];
  if (loadJs !== plainJs) {
    Module._extensions[".js"] = function (module, filename) {
      return (isDist(filename) || filename.includes(`${sep}node_modules${sep}`) ? plainJs : loadJs).call(this, module, filename);
    };
  }
}
