// Test helper, preloaded with `node --import` into a spawned mmsim: writes every module the
// process loads to the file $MMSIM_RECORD, one a line: "esm URL" for each ES module the loader
// loads (from a load hook, which sees every import, tsx's included), and at exit "cjs esm PATH" or
// "cjs cjs PATH" for each entry of the CommonJS cache (an ES module required from CommonJS shows
// as "cjs esm": the one instance; "cjs cjs" is a CommonJS module, such as a compiled copy).
import { register, createRequire } from "node:module";
import { appendFileSync } from "node:fs";

const file = process.env.MMSIM_RECORD;
if (file) {
  register("data:text/javascript," + encodeURIComponent(`
    import { appendFileSync } from "node:fs";
    export async function load(url, context, next) {
      appendFileSync(${JSON.stringify(file)}, "esm " + url + "\\n");
      return next(url, context);
    }`));
  process.on("exit", () => {
    const cache = createRequire(import.meta.url).cache;
    const lines = Object.entries(cache).map(([path, m]) => `cjs ${m.exports?.[Symbol.toStringTag] === "Module" ? "esm" : "cjs"} ${path}\n`);
    appendFileSync(file, lines.join(""));
  });
}
