#!/usr/bin/env node
// Launcher: compiles TypeScript at load time (tsx), imports any scenario module file the command
// line names (importing is asynchronous; the command itself is not), then runs src/cli/main.ts.
import "tsx";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const { main, scenarioFiles } = await import("../src/cli/main.ts");
const { preload } = await import("../src/cli/load.ts");
const argv = process.argv.slice(2);
for (const file of scenarioFiles(argv)) {
  try {
    preload(file, await import(pathToFileURL(resolve(file)).href));
  } catch (e) {
    preload(file, e instanceof Error ? e : new Error(String(e)));
  }
}
// A reader that stops early (mmsim run | head) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const io = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") || text.startsWith("\r") ? text : text + "\n"),
  exit: (code) => {
    process.exitCode = code;
  },
};
const code = main(argv, io);
if (code !== "pending") process.exitCode = code;
