// The `mmsim` command with every module loaded: main(argv, io) runs any command (the tests call
// it in-process). The launcher, bin/mmsim.js, loads only the modules a command needs
// (commands.ts) and calls the same command functions.
import { UsageError } from "./args.ts";
import { guard, type Io } from "./io.ts";
import { cmdList, useScenarios } from "./load.ts";
import { cmdRun, cmdReplay } from "./run.ts";
import { cmdSweep } from "./sweep.ts";
import { cmdMerge } from "./merge.ts";
import { cmdShrink } from "./shrink.ts";
import { cmdProc } from "./proc.ts";
import { PROC_FILES } from "../harness/proc.ts";
import { DEFAULT_SCENARIO, scenarios } from "../../scenarios/index.ts";

export type { Io } from "./io.ts";

useScenarios(scenarios, DEFAULT_SCENARIO);

const RUN_USAGE = "[--cpus N] [--machine FILE] [--failslab ATTRS] [--fail-page-alloc ATTRS] [--lockdep] [--kmemleak] [--kasan] [--detect LIST] [--no-detect LIST] [--swarm] [--strategy random|pct|pb [--depth D] [--pct-steps K] [--preemptions P]]";

export const USAGE = `usage:
  mmsim run [<scenario name or file>] [--seed N] ${RUN_USAGE} [--proc F] [--verify] [--check-determinism] [--json] [--schedule FILE] [--steps N] [--trace-tail N] [--trace FILE]
  mmsim sweep <scenario> --seeds A..B [--jobs N] [--all] ${RUN_USAGE} [--shard I/N] [--verify] [--json]
  mmsim merge <shard files> [--json]
  mmsim shrink <scenario> --seed N [--budget RUNS] [--out FILE] ${RUN_USAGE} [--steps N] [--json]
  mmsim replay <schedule file> [--json]
  mmsim proc <${PROC_FILES.join("|")}> [--machine FILE]
  mmsim list`;

const COMMANDS: Readonly<Record<string, (argv: readonly string[], io: Io) => number | "pending">> = {
  run: cmdRun,
  replay: cmdReplay,
  sweep: cmdSweep,
  merge: cmdMerge,
  shrink: cmdShrink,
  proc: cmdProc,
  list: cmdList,
};

export function main(argv: readonly string[], io: Io): number | "pending" {
  const [cmd, ...rest] = argv;
  return guard(io, () => {
    const command = cmd !== undefined ? COMMANDS[cmd] : undefined;
    if (command !== undefined) return command(rest, io);
    if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
      io.out(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${cmd}" (accepted: run, sweep, merge, shrink, replay, proc, list, help)`);
  });
}
