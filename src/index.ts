// The package's root export ("mmsim"): the whole kernel API that scenario code calls, under
// Linux's names, and the scenario API (defineScenario, runScenario, shrink, ...). Narrower entry
// points: mmsim/kernel, mmsim/harness, mmsim/testing.
import "./sim/effect_check.ts";
export * from "./kernel/index.ts";
export * from "./harness/index.ts";
export { EFFECT_RANGE } from "./sim/effect_check.ts";
