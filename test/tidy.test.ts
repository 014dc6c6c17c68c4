// Tidy rules from DESIGN.md: imports follow the layer order, only src/cli touches node:, and the
// simulator uses no source of nondeterminism (wall-clock time, Math.random, timers, async code).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const LAYERS = ["src/sim", "src/hw", "src/kernel", "src/harness", "src/entry", "scenarios", "src/cli"] as const;
/** What each layer may import (besides itself and npm packages). */
const ALLOWED: Record<(typeof LAYERS)[number], readonly string[]> = {
  "src/sim": [],
  "src/hw": ["src/sim"],
  "src/kernel": ["src/sim", "src/hw"],
  "src/harness": ["src/sim", "src/hw", "src/kernel"],
  // The package's entry points (src/index.ts "mmsim", src/testing.ts "mmsim/testing").
  "src/entry": ["src/sim", "src/hw", "src/kernel", "src/harness"],
  scenarios: ["src/harness", "src/kernel"],
  "src/cli": ["src/sim", "src/hw", "src/kernel", "src/harness", "scenarios"],
};

const layerOf = (rel: string) => (/^src\/[^/]+\.ts$/.test(rel) ? "src/entry" : LAYERS.find((l) => rel === l || rel.startsWith(`${l}/`)));
const sources = [...files(join(ROOT, "src")), ...files(join(ROOT, "scenarios"))];

function imports(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/g)].map((m) => m[1]!);
}

test("imports follow the layer order; only src/cli imports node: modules", () => {
  const bad: string[] = [];
  for (const f of sources) {
    const rel = relative(ROOT, f);
    const layer = layerOf(rel)!;
    for (const spec of imports(readFileSync(f, "utf8"))) {
      if (spec.startsWith("node:")) {
        if (layer !== "src/cli") bad.push(`${rel} imports ${spec}`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      const target = layerOf(relative(ROOT, resolve(dirname(f), spec)));
      if (target !== layer && !ALLOWED[layer].includes(target!)) bad.push(`${rel} (${layer}) imports ${spec} (${target})`);
    }
  }
  assert.equal(bad, []);
});

const BANNED: Array<[RegExp, string]> = [
  [/\bMath\.random\b/, "Math.random"],
  [/\bDate\.now\b/, "Date.now"],
  [/\bnew Date\b/, "new Date"],
  [/\bperformance\.now\b/, "performance.now"],
  [/\bsetTimeout\b/, "setTimeout"],
  [/\bsetInterval\b/, "setInterval"],
  [/\bsetImmediate\b/, "setImmediate"],
  [/\bprocess\.hrtime\b/, "process.hrtime"],
  [/\basync\s+(function\b|\(|[A-Za-z_$][\w$]*\s*=>)/, "async"],
  [/\bawait\b/, "await"],
  [/\bnew Promise\b/, "new Promise"],
];

test("no wall-clock time, Math.random, timers or async code in src/ and scenarios/", () => {
  const bad: string[] = [];
  for (const f of sources) {
    const text = readFileSync(f, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const [re, name] of BANNED) if (re.test(text)) bad.push(`${relative(ROOT, f)}: ${name}`);
  }
  assert.equal(bad, []);
});

test("the tidy checks catch what they should", () => {
  assert.ok(BANNED.some(([re]) => re.test("const t = Date.now();")));
  assert.ok(BANNED.some(([re]) => re.test("const f = async () => 1;")));
  assert.ok(BANNED.some(([re]) => re.test("x = await y;")));
  assert.equal(imports('import * as E from "effect/Effect";\nimport { a } from "../sim/x.ts";'), ["effect/Effect", "../sim/x.ts"]);
});

test.run();
