// Same scenario + seed -> same trace hash, in this process and in separate ones; a recorded
// schedule replays to the same hash without the seed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./helpers.ts";
import counterNolock from "../scenarios/teach/counter-nolock.ts";
import demo from "../scenarios/teach/demo.ts";

const BIN = join(import.meta.dirname, "..", "bin", "mmsim.js");

function cli(args: string[], cwd?: string) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd });
}

test("the same seed gives the same trace hash in two separate processes", () => {
  const a = cli(["run", "demo", "--seed", "7", "--json"]);
  const b = cli(["run", "demo", "--seed", "7", "--json"]);
  assert.is(a.status, 0, a.stderr);
  const ha = JSON.parse(a.stdout).traceHash;
  assert.is(JSON.parse(b.stdout).traceHash, ha);
  // ... and in this process.
  assert.is(run(demo, { seed: 7 }).traceHash, ha);
});

test("counter-nolock: 100 seeds give many distinct hashes", () => {
  const hashes = new Set<string>();
  for (let seed = 1; seed <= 100; seed++) hashes.add(run(counterNolock, { seed }).traceHash);
  assert.ok(hashes.size >= 90, `only ${hashes.size} distinct hashes`);
});

test("a failing run writes its schedule; replaying it gives the same hash and the same failure", () => {
  const dir = mkdtempSync(join(tmpdir(), "mmsim-"));
  try {
    let seed = 1;
    let r = run(counterNolock, { seed });
    while (!r.failed) r = run(counterNolock, { seed: ++seed });
    const first = cli(["run", "counter-nolock", "--seed", String(seed), "--json"], dir);
    assert.is(first.status, 1);
    const out = JSON.parse(first.stdout);
    assert.is(out.traceHash, r.traceHash);
    assert.is(out.schedule, `counter-nolock.seed-${seed}.schedule.json`);
    const file = JSON.parse(readFileSync(join(dir, out.schedule), "utf8"));
    assert.is(file.traceHash, r.traceHash);
    assert.equal(Object.keys(file.streams.sched), ["alea", "draws"]);
    const replay = cli(["replay", out.schedule, "--json"], dir);
    assert.is(replay.status, 1);
    const rep = JSON.parse(replay.stdout);
    assert.is(rep.sameTrace, true);
    assert.is(rep.traceHash, r.traceHash);
    assert.equal(rep.expectations, r.expectations);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("replay serves recorded draws only: the in-process replay matches the original", () => {
  const r = run(counterNolock, { seed: 3 });
  const again = run(counterNolock, { seed: "not-used", replay: r.recording });
  assert.is(again.traceHash, r.traceHash);
});


test("the engine's fast path and the fibers path give the same trace hashes", () => {
  const names = ["demo", "counter-nolock", "tasklet-smp", "irq-lock-deadlock", "atomic-storm", "mempool-io", "vfree-shootdown", "kmap-atomic-irq", "bug-double-free-race", "slab-tasklet"];
  const seeds = [1, 2];
  const go = (preload: string[]) => {
    const r = spawnSync(process.execPath, [...preload, "--import", "tsx", join(import.meta.dirname, "fixtures", "hashes.ts"), names.join(","), seeds.join(",")], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { fast: boolean; hashes: Record<string, string> };
  };
  const fast = go([]);
  const fibers = go(["--import", join(import.meta.dirname, "fixtures", "force-fibers.mjs")]);
  assert.is(fast.fast, true);
  assert.is(fibers.fast, false);
  assert.equal(fibers.hashes, fast.hashes);
  assert.is(Object.keys(fast.hashes).length, names.length * seeds.length);
});

test("Effect in a context behaves the same on the fibers path (test/kernel/effect_in_context.test.ts run there)", () => {
  const uvu = join(import.meta.dirname, "..", "node_modules", "uvu", "bin.js");
  const r = spawnSync(process.execPath, ["--import", join(import.meta.dirname, "fixtures", "force-fibers.mjs"), "--import", "tsx", uvu, "test", "kernel/effect_in_context"], { encoding: "utf8", cwd: join(import.meta.dirname, "..") });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout.replace(/\x1b\[[0-9;]*m/g, ""), /Passed:\s+4/);
});

test.run();
