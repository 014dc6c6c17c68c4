#!/usr/bin/env node
// Launcher: runs the compiled mmsim (dist/, which `npm install` builds). It loads only what the
// command needs (src/cli/commands.ts): `list` reads the build's scenario manifest and loads no
// simulator, a command naming a shipped scenario imports that scenario's module, one naming a
// scenario file imports the file (TypeScript through tsx, bin/scenario-file.mjs); then it calls
// the command, which is synchronous (a sweep finishes later and sets the exit code then).
import { fileURLToPath } from "node:url";
import { built, cli, prepareScenarios } from "./launch.mjs";
import { relaunch, wantsSweepFlags } from "./sweep-flags.mjs";

const argv = process.argv.slice(2);
if (!built()) {
  process.stderr.write("mmsim: the compiled simulator (dist/) is missing: run npm install (or npm run build) first\n");
  process.exit(2);
}
// mmsim runs on effect 4.1 (its peer dependency): another major is one line, not a stack trace.
// (`mmsim list` of the shipped scenarios reads the manifest and loads no effect at all.)
if (!(argv[0] === "list" && argv.length === 1)) {
  try {
    await import("../dist/src/sim/effect_check.js");
  } catch (e) {
    process.stderr.write(`mmsim: ${(e instanceof Error ? e.message : String(e)).replace(/^mmsim /, "")}\n`);
    process.exit(2);
  }
}
// A sweep whose workers fill the cores runs in a node with V8 flags (bin/sweep-flags.mjs).
if (wantsSweepFlags(argv)) relaunch(fileURLToPath(import.meta.url), argv);
else await runCommand();

async function runCommand() {
  const [load, { COMMANDS, scenarioRef }] = await Promise.all([cli("load.js"), cli("commands.js")]);
  const lazy = await prepareScenarios(load, () => scenarioRef(argv, load.isScenarioPath, load.defaultScenario()));
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
  const command = Object.hasOwn(COMMANDS, argv[0] ?? "") ? COMMANDS[argv[0]] : undefined;
  let code;
  if (lazy && command !== undefined) {
    const [mod, { guard }] = await Promise.all([cli(command.module), cli("io.js")]);
    code = guard(io, () => mod[command.fn](argv.slice(1), io));
  } else {
    const { main } = await cli("main.js");
    code = main(argv, io);
  }
  if (code !== "pending") process.exitCode = code;
}
