// --machine FILE over a scenario's machine: memory fields lie over the scenario's memory; a file
// without memory fields leaves it alone; without a scenario, i386, kernel 2.6, 128 MiB.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { parseMachineFile } from "../../src/harness/machine_file.ts";
import { procOfFreshMachine, runScenario } from "../../src/harness/run.ts";
import { inline } from "../helpers.ts";
import { kernel } from "../../src/kernel/kernel.ts";
import { kthread_run } from "../../src/kernel/index.ts";

const seen: unknown[] = [];
const scn = inline(() => void kthread_run(() => Effect.sync(() => seen.push(kernel().mm!.zones.filter((z) => z.managed_pages > 0).map((z) => `${z.name}:${z.managed_pages}`), kernel().mm!.pcp)), null, "t"), {
  cpus: 1,
  memory: { arch: "x86_64", kernel: "2.6", mb: 64 },
});

test("a file with only mmu fields keeps the scenario's memory; memory fields lie over it", () => {
  assert.equal(parseMachineFile({ mmu_detail: "all" }), { mmu: { tlb: undefined, cache: undefined, detail: "all" } });
  seen.length = 0;
  runScenario(scn, { seed: 1, machine: parseMachineFile({ mmu_detail: "all" }) });
  runScenario(scn, { seed: 1, machine: parseMachineFile({ pcp: false }) });
  runScenario(scn, { seed: 1, machine: parseMachineFile({ mb: 32 }) }); // a new layout, same arch
  // 64 MiB on x86_64: DMA 4096 pages (16 MiB), DMA32 the other 12288; 32 MiB: 4096 + 4096.
  assert.equal(seen, [["DMA:4096", "DMA32:12288"], true, ["DMA:4096", "DMA32:12288"], false, ["DMA:4096", "DMA32:4096"], true]);
});

test("without a scenario (mmsim proc), the file's fields lie over i386, kernel 2.6, 128 MiB", () => {
  const lines = (m: object) => procOfFreshMachine(m, "buddyinfo").trim().split("\n").map((l) => l.slice(0, 22));
  assert.equal(lines({ memory: {} }), ["Node 0, zone      DMA ", "Node 0, zone   Normal "]);
  assert.equal(lines(parseMachineFile({ arch: "x86_64" })), ["Node 0, zone      DMA ", "Node 0, zone    DMA32 "]);
});

test.run();
