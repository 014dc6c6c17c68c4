#!/usr/bin/env node
// Launcher: TypeScript is compiled at load time by tsx; everything else is src/cli/main.ts.
import { createRequire } from "node:module";
import { register } from "tsx/cjs/api";

register();
const { main } = createRequire(import.meta.url)("../src/cli/main.ts");
const io = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") || text.startsWith("\r") ? text : text + "\n"),
  exit: (code) => {
    process.exitCode = code;
  },
};
const code = main(process.argv.slice(2), io);
if (code !== "pending") process.exitCode = code;
