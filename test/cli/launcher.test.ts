// The compiled launcher (bin/mmsim.js over dist/) as a user runs it: which modules a command
// loads (no tsx for shipped scenarios, one copy of the simulator with a user's TypeScript
// scenario file), the warm sweep workers (seed order, lowest failing seed, crashes, Ctrl-C), and
// shard format versions. Every process here is the real bin, spawned.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { COMMANDS } from "../../src/cli/commands.ts";
import { main } from "../../src/cli/main.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "mmsim.js");
const RECORDER = join(ROOT, "test", "cli", "record-modules.mjs");
const dir = mkdtempSync(join(tmpdir(), "mmsim-launcher-"));
// A scenario file inside the package (an ES module there, as package.json says "type": "module").
const inside = join(ROOT, "tmp", `launcher-test-${process.pid}`);

function mmsim(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the bin with the module recorder preloaded: its result and the modules it loaded ("esm URL", "cjs esm|cjs PATH"). */
function recorded(args: string[], cwd = dir) {
  const file = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(RECORDER).href, BIN, ...args], { encoding: "utf8", cwd, env: { ...process.env, MMSIM_RECORD: file } });
  const modules = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
  rmSync(file, { force: true });
  return { code: r.status, out: r.stdout, err: r.stderr, modules };
}

const under = (modules: string[], part: string) => modules.filter((m) => m.includes(part));

test("dist is built, and each command the launcher knows is a function of its compiled module", async () => {
  assert.ok(existsSync(join(ROOT, "dist", "scenarios", "manifest.json")), "npm run build writes dist/ and the manifest");
  for (const [cmd, { module, fn }] of Object.entries(COMMANDS)) {
    const mod = (await import(pathToFileURL(join(ROOT, "dist", "src", "cli", module)).href)) as Record<string, unknown>;
    assert.type(mod[fn], "function", `${cmd}: ${module} ${fn}`);
  }
});

test("run of a shipped scenario: compiled modules only, no tsx, no TypeScript source, only that scenario's module", () => {
  const r = recorded(["run", "counter-spinlock"]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /\ntrace-hash: [0-9a-f]{16}\n$/);
  assert.ok(r.modules.length > 100, `the recorder saw the modules (${r.modules.length})`);
  assert.equal(under(r.modules, "/node_modules/tsx/"), []);
  assert.equal(under(r.modules, "/node_modules/esbuild/"), []);
  assert.equal(r.modules.filter((m) => /\.m?ts$/.test(m)), []);
  assert.equal(under(r.modules, "/scenarios/"), [`esm ${pathToFileURL(join(ROOT, "dist", "scenarios", "teach", "counter-spinlock.js")).href}`]);
  // run loads neither the sweep nor merge nor shrink.
  assert.equal(r.modules.filter((m) => /\/cli\/(sweep|sweep_worker|merge|shrink|report)\.js$/.test(m)), []);
  assert.ok(under(r.modules, "/dist/src/kernel/").length > 0);
});

test("list reads the build's manifest: no simulator, no scenario loaded; the same lines as main()", () => {
  const r = recorded(["list"]);
  assert.is(r.code, 0, r.err);
  assert.equal(under(r.modules, "/dist/src/kernel/"), []);
  assert.equal(under(r.modules, "/node_modules/effect/"), []);
  assert.equal(under(r.modules, "/scenarios/"), []);
  let listed = "";
  assert.is(main(["list"], { out: (t) => void (listed += t + "\n"), err: () => {}, exit: () => {} }), 0);
  assert.is(r.out, listed);
});

test("every command through the bin: run, replay of its schedule, shrink, proc, help", () => {
  const run = mmsim(["run", "sleep-in-atomic", "--schedule", "sia.json", "--json"]);
  assert.is(run.code, 1, run.err);
  const replay = mmsim(["replay", "sia.json"]);
  assert.is(replay.code, 1, replay.err); // the run it replays failed (might_sleep's report)
  assert.match(replay.out, new RegExp(`\\nreplay: same trace as recorded \\(${JSON.parse(run.out).traceHash}\\)\\n$`));
  const shrink = mmsim(["shrink", "counter-spinlock", "--seed", "1"]);
  assert.is(shrink.code, 2);
  assert.is(shrink.err, "mmsim: scenario counter-spinlock: seed 1 does not fail (no report, every expectation met): nothing to shrink\n");
  const proc = mmsim(["proc", "buddyinfo"]);
  assert.is(proc.code, 0, proc.err);
  assert.match(proc.out, /^Node 0, zone      DMA /);
  const help = mmsim(["help"]);
  assert.is(help.code, 0);
  assert.match(help.out, /^usage:\n  mmsim run /);
  rmSync(join(dir, "sia.json"));
});

/** A scenario file that fails to set up unless the kernel and effect it imports are the simulator's own (one copy). */
function copiesScenario(effect: string): string {
  return [
    `import * as Effect from ${JSON.stringify(effect)};`,
    `import { defineScenario } from ${JSON.stringify(join(ROOT, "src/harness/scenario.ts"))};`,
    `import * as source from ${JSON.stringify(join(ROOT, "src/kernel/index.ts"))};`,
    `import * as compiled from ${JSON.stringify(join(ROOT, "dist/src/kernel/index.js"))};`,
    `import demo from ${JSON.stringify(join(ROOT, "scenarios/teach/demo.ts"))};`,
    `let esmEffect: unknown;`,
    `void import(${JSON.stringify(pathToFileURL(join(ROOT, "node_modules/effect/dist/Effect.js")).href)}).then((m) => (esmEffect = m.gen));`,
    `export default defineScenario({ name: "copies", description: "one copy of each module", setup() {`,
    `  if (source.kthread_run !== compiled.kthread_run) throw new Error("two copies of the kernel");`,
    `  if (esmEffect !== Effect.gen) throw new Error("two copies of effect");`,
    `  if (demo.setup === undefined) throw new Error("no demo");`,
    `  // tsx would wrap named closures in __name() (7 of the kernel's exports have some); the compiled modules load as tsc wrote them.`,
    `  const wrapped = Object.entries(compiled).filter(([, f]) => typeof f === "function" && String(f).includes("__name(")).map(([k]) => k);`,
    `  if (wrapped.length > 0) throw new Error("tsx-compiled kernel functions: " + wrapped.join(", "));`,
    `  source.kthread_run((_: null) => Effect.gen(function* () { yield* source.msleep(1); }), null, "t");`,
    `} });`,
  ].join("\n");
}

test("a user's TypeScript scenario file (CommonJS outside the package, ESM inside it): one copy of the kernel, effect and the scenarios", () => {
  writeFileSync(join(dir, "copies.ts"), copiesScenario(join(ROOT, "node_modules/effect/dist/Effect.js")));
  mkdirSync(inside, { recursive: true });
  writeFileSync(join(inside, "copies.ts"), copiesScenario("effect/Effect"));
  for (const file of [join(dir, "copies.ts"), join(inside, "copies.ts")]) {
    const r = recorded(["run", file]);
    assert.is(r.code, 0, `${file}: ${r.err}`);
    assert.match(r.out, /--- summary: copies, seed 1, /);
    // tsx compiled the user's file, and nothing of the package's own.
    assert.ok(under(r.modules, "/node_modules/tsx/").length > 0);
    assert.equal(r.modules.filter((m) => /\.ts$/.test(m) && !m.endsWith("copies.ts")), []);
    // No CommonJS copy of an ES module (effect, dist): those required from a CommonJS file are the ES module instances.
    assert.equal(r.modules.filter((m) => m.startsWith("cjs cjs ") && /\/(effect|dist)\//.test(m)), []);
  }
  const sweep = mmsim(["sweep", join(dir, "copies.ts"), "--seeds", "1..4", "--jobs", "2", "--json"]);
  assert.is(sweep.code, 0, sweep.err);
  assert.is(JSON.parse(sweep.out).ran, 4);
});

/** Two scenarios importing "mmsim", "mmsim/kernel" and "effect" by name, each failing unless they are the simulator's own copies. */
function byNameScenarios(): string {
  return [
    `import * as Effect from "effect/Effect";`,
    `import { defineScenario, kthread_run, msleep, spin_lock, spin_unlock, DEFINE_SPINLOCK } from "mmsim";`,
    `import * as kernel from "mmsim/kernel";`,
    `import * as compiled from ${JSON.stringify(join(ROOT, "dist/src/kernel/index.js"))};`,
    `let esmEffect: unknown;`,
    `void import(${JSON.stringify(pathToFileURL(join(ROOT, "node_modules/effect/dist/Effect.js")).href)}).then((m) => (esmEffect = m.gen));`,
    `const same = () => {`,
    `  if (kthread_run !== compiled.kthread_run || kernel.kthread_run !== compiled.kthread_run) throw new Error("two copies of the kernel");`,
    `  if (esmEffect !== Effect.gen) throw new Error("two copies of effect");`,
    `};`,
    `export const sleeper = defineScenario({ name: "sleeper", description: "sleeps under a spinlock", setup() {`,
    `  same(); const l = DEFINE_SPINLOCK("l");`,
    `  kthread_run(function* () { yield* spin_lock(l); yield* msleep(1); yield* spin_unlock(l); }, null, "t");`,
    `} });`,
    `export const napper = defineScenario({ name: "napper", description: "sleeps outside it", setup() {`,
    `  same(); kthread_run(() => Effect.gen(function* () { yield* msleep(1); }), null, "t");`,
    `} });`,
  ].join("\n");
}

test("a scenario file anywhere imports \"mmsim\" and \"effect\" by name (the command's own copies); several scenarios in a file: FILE#NAME, --scenario, list FILE", () => {
  // Outside any project: a .ts loaded as CommonJS, an .mts as an ES module; neither has node_modules near it.
  for (const name of ["byname.ts", "byname.mts"]) writeFileSync(join(dir, name), byNameScenarios());
  for (const file of [join(dir, "byname.ts"), join(dir, "byname.mts")]) {
    const list = mmsim(["list", file]);
    assert.is(list.code, 0, list.err);
    assert.equal(list.out.trim().split("\n"), ["napper   sleeps outside it", "sleeper  sleeps under a spinlock"]);
    const napper = mmsim(["run", `${file}#napper`]);
    assert.is(napper.code, 0, napper.err);
    assert.match(napper.out, /--- summary: napper, seed 1, /);
    const sleeper = mmsim(["run", file, "--scenario", "sleeper"]);
    assert.is(sleeper.code, 1, sleeper.err);
    assert.match(sleeper.out, /BUG: scheduling while atomic|BUG: sleeping function called from invalid context/);
    assert.match(sleeper.out, new RegExp(`replay by seed: +mmsim run ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}#sleeper --seed 1`));
  }
  // JavaScript: ES module syntax in a .js outside any package, and a CommonJS .cjs requiring "mmsim".
  writeFileSync(join(dir, "plain.js"), `import { defineScenario, kthread_run, msleep } from "mmsim";\nexport default defineScenario({ name: "plain-js", description: "JS", setup() { kthread_run(function* () { yield* msleep(1); }, null, "t"); } });\n`);
  writeFileSync(join(dir, "req.cjs"), `const { defineScenario, kthread_run, msleep } = require("mmsim");\nmodule.exports = defineScenario({ name: "req-cjs", description: "CJS", setup() { kthread_run(function* () { yield* msleep(1); }, null, "t"); } });\n`);
  for (const [f, name] of [["plain.js", "plain-js"], ["req.cjs", "req-cjs"]]) {
    const r = mmsim(["run", join(dir, f!)]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`--- summary: ${name}, seed 1, `));
  }
  // A default export is the file's scenario unless another is named.
  writeFileSync(join(dir, "withdefault.mts"), byNameScenarios() + "\nexport default napper;\n");
  const dflt = mmsim(["run", join(dir, "withdefault.mts")]);
  assert.is(dflt.code, 0, dflt.err);
  assert.match(dflt.out, /--- summary: napper, seed 1, /);
  const file = join(dir, "byname.ts");
  const both = mmsim(["run", file]);
  assert.is(both.code, 2);
  assert.is(both.err.trim(), `mmsim: ${file} holds 2 scenarios (napper, sleeper): name one, as ${file}#NAME or with --scenario NAME`);
  const none = mmsim(["run", `${file}#dozer`]);
  assert.is(none.code, 2);
  assert.is(none.err.trim(), `mmsim: ${file} has no scenario named "dozer" (it has: napper, sleeper)`);
  const clash = mmsim(["run", `${file}#napper`, "--scenario", "sleeper"]);
  assert.is(clash.err.trim(), `mmsim: ${file}#napper names scenario "napper" but --scenario names "sleeper"`);
  const shippedName = mmsim(["run", "demo", "--scenario", "x"]);
  assert.is(shippedName.err.trim(), `mmsim: --scenario picks a scenario in a scenario file; "demo" is a shipped scenario's name`);
  // A sweep's workers import the file and pick the same scenario; its failure names the replay by FILE#NAME.
  const sweep = mmsim(["sweep", `${file}#sleeper`, "--seeds", "1..4", "--jobs", "2"]);
  assert.is(sweep.code, 1, sweep.err);
  assert.match(sweep.out, new RegExp(`replay: mmsim run ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}#sleeper --seed 1`));
});

/** Seeds of counter-nolock that fail, by a one-job sweep with --all. */
function failingSeeds(range: string): number[] {
  const r = mmsim(["sweep", "counter-nolock", "--seeds", range, "--all", "--json"]);
  return JSON.parse(r.out).failing.map((f: { seed: number }) => f.seed);
}

test("sweep --jobs 2: the lowest failing seed of the range, like --jobs 1; --all finds the same seeds; results in seed order", () => {
  const all = failingSeeds("1..40");
  assert.ok(all.length > 2, `counter-nolock fails some seeds: ${all}`);
  // A range that starts on passing seeds, so the first failure is not its first seed.
  const from = [...Array(40).keys()].map((i) => i + 1).find((s, i, xs) => !all.includes(s) && !all.includes(xs[i + 1]!) && all.some((f) => f > s))!;
  const lowest = all.find((f) => f > from)!;
  for (const jobs of ["1", "2"]) {
    const r = mmsim(["sweep", "counter-nolock", "--seeds", `${from}..40`, "--jobs", jobs, "--json"]);
    assert.is(r.code, 1, r.err);
    assert.equal(JSON.parse(r.out).failing.map((f: { seed: number }) => f.seed), [lowest], `--jobs ${jobs}`);
  }
  const two = JSON.parse(mmsim(["sweep", "counter-nolock", "--seeds", "1..40", "--jobs", "2", "--all", "--json"]).out);
  assert.equal(two.failing.map((f: { seed: number }) => f.seed), all);
  assert.is(two.ran, 40);
  // A shard's lines come out in seed order whichever worker ran each seed.
  const shard = mmsim(["sweep", "counter-nolock", "--seeds", "1..40", "--jobs", "2", "--all", "--shard", "1/2"]);
  const lines = shard.out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.slice(1, -1).map((o: { seed: number }) => o.seed), [...Array(20).keys()].map((i) => 2 + 2 * i));
  assert.equal(lines.at(-1), { done: true, ran: 20 });
});

test("a sweep whose workers fill the cores runs with V8's GC and JIT on each worker's thread; one with fewer does not", () => {
  // The scenario fails to set up unless its process's flags are the ones $EXPECT_FLAGS names.
  writeFileSync(
    join(dir, "flags.ts"),
    [
      `import * as Effect from ${JSON.stringify(join(ROOT, "node_modules/effect/dist/Effect.js"))};`,
      `import { defineScenario } from ${JSON.stringify(join(ROOT, "src/harness/scenario.ts"))};`,
      `import { kthread_run } from ${JSON.stringify(join(ROOT, "src/kernel/index.ts"))};`,
      `export default defineScenario({ name: "flags", description: "x", setup() {`,
      `  const flags = process.execArgv.filter((a) => a === "--single-threaded-gc" || a === "--no-concurrent-recompilation").join(" ");`,
      `  if (flags !== process.env.EXPECT_FLAGS) throw new Error("flags: " + JSON.stringify(flags));`,
      `  kthread_run((_: null) => Effect.void, null, "t");`,
      `} });`,
    ].join("\n"),
  );
  const sweep = (jobs: number, expected: string) => {
    const r = spawnSync(process.execPath, [BIN, "sweep", "./flags.ts", "--seeds", "1..4", "--jobs", String(jobs), "--all"], { encoding: "utf8", cwd: dir, env: { ...process.env, EXPECT_FLAGS: expected } });
    assert.is(r.status, 0, `--jobs ${jobs}: ${r.stderr}`);
    assert.match(r.stdout, /^sweep .*flags\.ts: ran 4 seeds of 1\.\.4, none failed\n$/);
  };
  const cores = availableParallelism();
  sweep(Math.max(2, cores), "--single-threaded-gc --no-concurrent-recompilation");
  sweep(1, "");
  if (cores > 2) sweep(2, "");
});

test("sweep --jobs 2: a worker that dies loses the seed it was running; the other runs the rest, in seed order; exit 1", () => {
  writeFileSync(
    join(dir, "dies.ts"),
    [
      `import { isMainThread, workerData } from "node:worker_threads";`,
      `import * as Effect from ${JSON.stringify(join(ROOT, "node_modules/effect/dist/Effect.js"))};`,
      `import { defineScenario } from ${JSON.stringify(join(ROOT, "src/harness/scenario.ts"))};`,
      `import { kthread_run } from ${JSON.stringify(join(ROOT, "src/kernel/index.ts"))};`,
      `let runs = 0;`,
      `export default defineScenario({ name: "dies", description: "x", setup() {`,
      `  // The second worker's third seed ends its thread; the first worker's seeds take 20 ms, so both have some.`,
      `  if (!isMainThread && workerData.slot === 1 && ++runs === 3) process.exit(7);`,
      `  if (!isMainThread && workerData.slot === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);`,
      `  kthread_run((_: null) => Effect.void, null, "t");`,
      `} });`,
    ].join("\n"),
  );
  const r = mmsim(["sweep", "./dies.ts", "--seeds", "1..40", "--jobs", "2", "--all", "--shard", "0/1"]);
  assert.is(r.code, 1);
  assert.is(r.err, "mmsim: sweep worker failed: it exited with code 7\nmmsim: sweep incomplete: a worker thread crashed; 1 of 40 seeds did not run\n");
  const seeds = r.out.trim().split("\n").slice(1, -1).map((l) => JSON.parse(l).seed);
  assert.is(seeds.length, 39);
  assert.equal(seeds, [...seeds].sort((a, b) => a - b));
});

test("sweep: a scenario that cannot run stops every worker with one line and exit 2", () => {
  writeFileSync(
    join(dir, "bad.ts"),
    [
      `import { defineScenario } from ${JSON.stringify(join(ROOT, "src/harness/scenario.ts"))};`,
      `export default defineScenario({ name: "bad", description: "x", machine: { cpus: 2 }, setup() {`,
      `  throw new TypeError("no setup here");`,
      `} });`,
    ].join("\n"),
  );
  const r = mmsim(["sweep", "./bad.ts", "--seeds", "1..50", "--jobs", "2"]);
  assert.is(r.code, 2);
  assert.match(r.err, /^mmsim: scenario bad threw TypeError: no setup here/);
  assert.is(r.err.split("\n").length, 2, r.err);
  assert.is(r.out, "");
});

test("sweep --jobs 2: Ctrl-C (SIGINT) ends it as it would any node program", async () => {
  const child = spawn(process.execPath, [BIN, "sweep", "demo", "--seeds", "1..1000000", "--jobs", "2"], { cwd: dir });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill("SIGINT");
  const { code, signal } = await ended;
  assert.is(signal, "SIGINT", `exit code ${code}`);
  assert.is(out, "");
});

test("merge refuses a shard of format version 1, naming both versions; exit 2, one line", () => {
  const header = { format: "mmsim-shard", version: 1, scenario: "counter-nolock", seeds: { from: 1, to: 2 }, shard: { index: 0, count: 1 }, all: false, replayArgs: "" };
  writeFileSync(join(dir, "old.jsonl"), [JSON.stringify(header), JSON.stringify({ seed: 1, failed: false, traceHash: "0123456789abcdef", steps: 9, problems: [] }), JSON.stringify({ done: true, ran: 1 })].join("\n") + "\n");
  const r = mmsim(["merge", "old.jsonl"]);
  assert.is(r.code, 2);
  assert.is(r.err, "mmsim: old.jsonl is an mmsim shard of format version 1; this mmsim reads version 2: rerun the sweep\n");
  assert.is(r.out, "");
  // A shard this mmsim writes says version 2, and merges.
  const now = mmsim(["sweep", "counter-nolock", "--seeds", "1..2", "--shard", "0/1", "--all"]);
  assert.is(JSON.parse(now.out.split("\n")[0]!).version, 2);
  writeFileSync(join(dir, "new.jsonl"), now.out);
  assert.match(mmsim(["merge", "new.jsonl"]).out, /^sweep counter-nolock: ran 2 seeds of 1\.\.2/);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(inside, { recursive: true, force: true });
});

test.run();
