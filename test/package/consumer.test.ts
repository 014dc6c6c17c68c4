// mmsim as a stranger installs it: the packed tarball (what `npm publish` would upload) holds
// the compiled package and none of the repository's tests, benches or CI; a project of its own
// (examples/consumer: its own package.json, a strict tsconfig, TypeScript 5) installs it with
// npm, type-checks its scenarios against the package's declarations, runs its node:test suite
// through mmsim/testing, and runs a scenario of a file that holds two with the installed CLI.
// A project whose "effect" is another major version is told so when it loads mmsim.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "mmsim-package-"));

function sh(cmd: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NODE_V8_COVERAGE: "", npm_config_update_notifier: "false" } });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.is(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The package as npm packs it (dist/ is already built by `npm test`; no scripts, so it is not rebuilt under the other tests).
const packed = ok(sh("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], ROOT), "npm pack").trim().split("\n").at(-1)!;
const tarball = join(tmp, packed);

test("the tarball holds the compiled package and what its CLI needs, nothing of the repository's own", () => {
  const files = ok(sh("tar", ["tzf", tarball], tmp), "tar").trim().split("\n");
  for (const f of ["package/package.json", "package/README.md", "package/dist/src/index.js", "package/dist/src/index.d.ts", "package/dist/src/testing.d.ts", "package/dist/src/kernel/api.d.ts", "package/dist/src/harness/index.d.ts", "package/bin/mmsim.js", "package/dist/scenarios/manifest.json"]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  for (const dir of ["package/test/", "package/bench/", "package/.ci/", "package/src/", "package/dist/bench/", "package/examples/"]) {
    assert.equal(files.filter((f) => f.startsWith(dir)), [], `nothing under ${dir}`);
  }
  assert.equal(files.filter((f) => f.endsWith(".map")), [], "no source maps (their sources are not shipped)");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, any>;
  assert.is(pkg.private, undefined);
  assert.equal(pkg.peerDependencies, { effect: "~4.1.0" });
  assert.is(pkg.dependencies.effect, undefined);
});

test("npm publish --dry-run passes", () => {
  ok(sh("npm", ["publish", "--dry-run", "--ignore-scripts"], ROOT), "npm publish --dry-run");
});

test("a project of its own installs the tarball, type-checks and runs its scenarios and tests", () => {
  const project = join(tmp, "consumer");
  cpSync(join(ROOT, "examples", "consumer"), project, { recursive: true });
  const pkgPath = join(project, "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { dependencies: Record<string, string> };
  pkg.dependencies.mmsim = `file:${tarball}`;
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
  ok(sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], project), "npm install");
  // Its own test script: tsc (strict, the package's .d.ts files), then node --test.
  const out = ok(sh("npm", ["test"], project), "the project's npm test");
  assert.match(out, /^# pass 2$/m);
  assert.match(out, /^# fail 0$/m);
  // The installed CLI on a file of two scenarios.
  const list = ok(sh("npx", ["mmsim", "list", "scenarios.ts"], project), "mmsim list");
  assert.equal(list.trim().split("\n"), ["rx-tasklet-atomic  a tasklet allocating its receive buffer with GFP_ATOMIC", "rx-tasklet-kernel  a tasklet allocating its receive buffer with GFP_KERNEL"]);
  const bad = sh("npx", ["mmsim", "run", "scenarios.ts#rx-tasklet-kernel"], project);
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /BUG: sleeping function called from invalid context at /);
  assert.match(bad.stdout, /replay by seed: +mmsim run .*scenarios\.ts#rx-tasklet-kernel --seed 1/);
  const good = sh("npx", ["mmsim", "run", "scenarios.ts", "--scenario", "rx-tasklet-atomic"], project);
  assert.is(good.status, 0, good.stdout + good.stderr);
  const two = sh("npx", ["mmsim", "run", "scenarios.ts"], project);
  assert.is(two.status, 2);
  assert.is(two.stderr.trim(), "mmsim: scenarios.ts holds 2 scenarios (rx-tasklet-atomic, rx-tasklet-kernel): name one, as scenarios.ts#NAME or with --scenario NAME");
});

test("a project whose effect is effect 3 is told which effect mmsim needs", () => {
  // The installed package beside an "effect" of the other major (its Effect module as effect 3's: async, no callback).
  const project = join(tmp, "effect3");
  const fake = join(project, "node_modules", "effect");
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, "package.json"), JSON.stringify({ name: "effect", version: "3.19.0", type: "module", exports: { "./*": "./*.js" } }));
  writeFileSync(join(fake, "Effect.js"), "export const async = () => {};\nexport const gen = () => {};\nexport const fnUntraced = () => {};\n");
  // The other modules mmsim imports (namespace imports: effect 3 has them all).
  for (const m of ["Cause", "Context", "Exit", "Scheduler"]) writeFileSync(join(fake, `${m}.js`), "export {};\n");
  for (const dep of ["mmsim", "seedrandom"]) cpSync(join(tmp, "consumer", "node_modules", dep), join(project, "node_modules", dep), { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "effect3", private: true, type: "module" }));
  const r = sh(process.execPath, ["-e", 'import("mmsim").then(() => console.log("loaded"), (e) => { console.error(e.message); process.exit(3); })'], project);
  assert.is(r.status, 3, r.stdout);
  const why = 'needs effect ~4.1.0 (its peer dependency), but the "effect" this project resolves is another major version (effect 3, which has Effect.async where effect 4 has Effect.callback). Install a supported one: npm i effect@~4.1.0';
  assert.is(r.stderr.trim(), `mmsim ${why}`);
  // The command says so in one line, exit 2, whatever it was asked.
  for (const args of [["run", "demo"], ["sweep", "demo", "--seeds", "1..2"], ["--help"]]) {
    const c = sh(process.execPath, [join(project, "node_modules", "mmsim", "bin", "mmsim.js"), ...args], project);
    assert.is(c.status, 2, `${args.join(" ")}: ${c.stdout}${c.stderr}`);
    assert.is(c.stderr, `mmsim: ${why}\n`);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
