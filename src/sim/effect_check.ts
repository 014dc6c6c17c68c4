// mmsim runs on effect 4 (its peer dependency, "~4.1.0"): scenario code yields effect 4's values
// and the engine drives effect 4's fibers. A project that resolves another major of effect gets a
// clear error when it loads mmsim, rather than "Not a valid effect" from the middle of a run.
// Checked with the public API only (effect 3 has Effect.async where effect 4 has Effect.callback,
// and no "effect/Version" module), so the check needs no Node module and runs in a browser too.
import * as Effect from "effect/Effect";

/** The range of effect versions mmsim supports (package.json's peerDependencies). */
export const EFFECT_RANGE = "~4.1.0";

const api = Effect as unknown as Record<string, unknown>;
if (typeof api.callback !== "function" || typeof api.fnUntraced !== "function") {
  throw new Error(
    `mmsim needs effect ${EFFECT_RANGE} (its peer dependency), but the "effect" this project resolves is another major version ` +
      `(${typeof api.async === "function" ? "effect 3, which has Effect.async where effect 4 has Effect.callback" : "it has no Effect.callback"}). ` +
      `Install a supported one: npm i effect@${EFFECT_RANGE}`,
  );
}
