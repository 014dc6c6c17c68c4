// npm run test:slow: every shipped scenario, seeds 1 to 3, gives the same trace hash and step
// count on the engine's fast path, on the fibers path (Effect fibers parked with Effect.callback,
// src/sim/effect_internals.ts) and with verify mode's checks on (the lane queue checked against
// every lane each turn, the memory manager's structures checked): the fast path's ops, the lane
// queue and the kernel's change reports alter no run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");

function hashes(preload: string[], verify: boolean): { fast: boolean; hashes: Record<string, string> } {
  const r = spawnSync(process.execPath, [...preload, "--import", "tsx", join(FIXTURES, "hashes.ts"), "all", "1,2,3", verify ? "verify" : ""], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { fast: boolean; hashes: Record<string, string> };
}

test("every shipped scenario: the fast path, the fibers path and verify mode give the same runs", () => {
  const fast = hashes([], false);
  const fibers = hashes(["--import", join(FIXTURES, "force-fibers.mjs")], false);
  const verified = hashes([], true);
  assert.is(fast.fast, true);
  assert.is(fibers.fast, false);
  assert.ok(Object.keys(fast.hashes).length >= 3 * 50, "every scenario ran");
  assert.equal(fibers.hashes, fast.hashes);
  assert.equal(verified.hashes, fast.hashes);
});

test.run();
