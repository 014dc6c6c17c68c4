// The decision labeller on whole runs: the labels read exactly as they did when the labeller
// matched trace text with regular expressions (before trace events became numbers). The
// fingerprints are SHA-256 of every label (time, kind, CPU, device, span, text, in time order)
// as that version wrote them into the runs' schedule files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

function labels(name: string, seed: number) {
  const r = runScenario(findScenario(name)!, { seed, record: "labels" });
  return [...r.decisions!].sort((a, b) => a.time - b.time);
}
const fingerprint = (ds: ReturnType<typeof labels>) =>
  createHash("sha256")
    .update(ds.map((d) => `${d.time} ${d.kind} ${d.cpu} ${d.device ?? "-"} ${d.span ?? "-"} ${d.text}`).join("\n"))
    .digest("hex");

test("demo seed 2: 1857 labels (tie-breaks, delays, interrupts with the locks held and packets counted), as before", () => {
  const ds = labels("demo", 2);
  assert.is(ds.length, 1857);
  const first = (f: (d: (typeof ds)[number]) => boolean) => ds.find(f)!.text;
  assert.is(first((d) => d.kind === "pick"), "CPU3 [swapper/3-0] goes before CPU1, CPU2: switches to ksoftirqd/3-4 (CPU2 then switches to ksoftirqd/2-3; CPU1 then switches to ksoftirqd/1-2)");
  assert.is(first((d) => d.kind === "delay"), "CPU2 [swapper/2-0] held back 818 ns, then switches to ksoftirqd/2-3");
  assert.is(first((d) => d.kind === "irq"), "CPU0 takes IRQ 11 (eth0) in stats/0-5 holding stats_lock after it takes stats_lock, before it releases stats_lock");
  assert.is(first((d) => d.text.includes("packets)")), "CPU2 takes IRQ 11 (eth0) in swapper/2-0 (2 packets), before it switches to stats/2-7");
  assert.is(fingerprint(ds), "9f47353d3f5aab5fdd38bcd3d9051a5bb52d9a3d7f46b55b7b64c25403c92098");
});

test("bug-sleep-in-atomic-rare seed 2 (a packet no handler ran for) and tasklet-smp seed 2: the same labels as before", () => {
  const rare = labels("bug-sleep-in-atomic-rare", 2);
  assert.equal(rare.find((d) => d.cpu === -1), { time: 519936, kind: "irq", cpu: -1, device: "nic/eth0", text: "eth0 receives a packet (IRQ 11 raised, no handler ran for it)" });
  assert.is(fingerprint(rare), "58c873242b6caf2465ea7a219ceafebc4aa84e70581a5438e48d6a1e820a6682");
  const smp = labels("tasklet-smp", 2);
  assert.is(smp.length, 3271);
  assert.is(fingerprint(smp), "7406ad21ca0f75e23f0c5cde708843f889970612586ad19aa99f3c33d1a192f0");
});

test.run();
