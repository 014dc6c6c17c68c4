// Schedule files, format version 2: each seeded stream is its generator state and draw count,
// so a schedule stays small however long the run; it replays to the same trace without the
// seed; a file of another format version is refused with a message naming both versions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCHEDULE_VERSION, scheduleVersionError, validateSchedule } from "../../src/sim/schedule.ts";
import { main } from "../../src/cli/main.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const dir = mkdtempSync(join(tmpdir(), "mmsim-schedule-"));

function mmsim(...args: string[]) {
  let out = "";
  let err = "";
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = main(args, { out: (t) => void (out += t + "\n"), err: (t) => void (err += t + "\n"), exit: () => {} });
    return { code, out, err };
  } finally {
    process.chdir(cwd);
  }
}

test("a schedule written by another format version is refused, naming both versions and how to record it again", () => {
  assert.is(SCHEDULE_VERSION, 2);
  const v1 = { format: "mmsim-schedule", version: 1, scenario: "counter-nolock", seed: 3, cpus: 4, traceHash: "0123456789abcdef", streams: { sched: [0.5] } };
  writeFileSync(join(dir, "old.schedule.json"), JSON.stringify(v1));
  const r = mmsim("replay", "old.schedule.json");
  assert.is(r.code, 2);
  assert.is(r.out, "");
  assert.is(r.err, "mmsim: old.schedule.json was written by mmsim schedule format version 1; this mmsim reads version 2: record it again with mmsim run counter-nolock --seed 3 --schedule old.schedule.json\n");
  // A shrunk one is shrunk again; options the run had are pointed out; a newer file needs a newer mmsim.
  assert.is(
    scheduleVersionError({ ...v1, script: { picks: [], delays: [], arrivals: {} }, strategy: { name: "pb", preemptions: 3 } }, "x.json"),
    "x.json was written by mmsim schedule format version 1; this mmsim reads version 2: record it again with mmsim shrink counter-nolock --seed 3 --out x.json and the options it was recorded with (--machine, --strategy, --swarm, --steps)",
  );
  assert.is(scheduleVersionError({ ...v1, version: 3 }, "new.json"), "new.json was written by mmsim schedule format version 3; this mmsim reads version 2: replay it with the newer mmsim that wrote it");
  assert.is(scheduleVersionError({ ...v1, version: 2 }, "x.json"), null);
  assert.is(scheduleVersionError({ format: "other", version: 1 }, "x.json"), null);
  assert.is(validateSchedule(v1), `"version" must be 2, got 1`);
});

test("a run's schedule: each stream a state and a count, small; replayed without the seed, the same trace", () => {
  const r = mmsim("run", "demo", "--seed", "5", "--schedule", "demo.json", "--json");
  assert.is(r.code, 0, r.err);
  const file = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8"));
  assert.is(file.version, 2);
  assert.is(validateSchedule(file), null);
  assert.equal(Object.keys(file.streams), ["sched", "fault", "nic/eth0"]);
  assert.ok(file.streams.sched.draws > 2000, String(file.streams.sched.draws));
  // Thousands of draws in a few hundred bytes (version 1 listed them: about 60 kB here).
  assert.ok(JSON.stringify(file.streams).length < 400, JSON.stringify(file.streams));
  // The file is mostly the decisions in words (at most 10,000).
  assert.ok(statSync(join(dir, "demo.json")).size < JSON.stringify(file.decisions).length + 2000);
  writeFileSync(join(dir, "demo.json"), JSON.stringify({ ...file, seed: "not-used" }));
  const again = mmsim("replay", "demo.json", "--json");
  assert.is(again.code, 0, again.err);
  const j = JSON.parse(again.out);
  assert.is(j.sameTrace, true);
  assert.is(j.traceHash, JSON.parse(r.out).traceHash);
});

test("a long run's recording stays the same size: draws are counted, not kept", () => {
  const s = findScenario("counter-spinlock")!;
  const short = runScenario(s, { seed: 1, stepLimit: 500 });
  const long = runScenario(s, { seed: 1 });
  assert.ok(long.steps > 8 * short.steps);
  assert.is(JSON.stringify(long.recording).length, JSON.stringify(short.recording).length + String(draw(long)).length - String(draw(short)).length);
  assert.is(runScenario(s, { seed: "other", replay: JSON.parse(JSON.stringify(long.recording)) }).traceHash, long.traceHash);
});
const draw = (r: { recording: Record<string, unknown> }) => (r.recording.sched as { draws: number }).draws;

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
