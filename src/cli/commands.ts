// What the launcher (bin/mmsim.js) needs to know before it loads a command: the compiled module
// that runs it, and the scenario the command line names, so that it imports only that scenario's
// module (or the user's scenario file) and the command's own modules: `mmsim list` loads no
// simulator at all, `mmsim run counter-spinlock` no other scenario and no sweep, merge or shrink.
// main() (main.ts) runs the same command functions with every module loaded.
import { existsSync, readFileSync } from "node:fs";
import { splitRef } from "./load.ts";

/** Each command's module (in dist/src/cli/) and function `(argv, io) => exit code | "pending"`. */
export const COMMANDS: Readonly<Record<string, { readonly module: string; readonly fn: string }>> = {
  run: { module: "run.js", fn: "cmdRun" },
  replay: { module: "run.js", fn: "cmdReplay" },
  sweep: { module: "sweep.js", fn: "cmdSweep" },
  shrink: { module: "shrink.js", fn: "cmdShrink" },
  merge: { module: "merge.js", fn: "cmdMerge" },
  proc: { module: "proc.js", fn: "cmdProc" },
  list: { module: "load.js", fn: "cmdList" },
};

/** The options of run, sweep and shrink that take a value: the word after one is not the scenario. */
const VALUE_OPTION = /^--(seed|cpus|schedule|steps|seeds|jobs|shard|trace-tail|trace|machine|proc|failslab|fail-page-alloc|strategy|depth|pct-steps|preemptions|budget|out|detect|no-detect|scenario)$/;

/** A shipped scenario by name, or a scenario module file to import. */
export type ScenarioRef = { readonly name: string } | { readonly file: string };

/**
 * The scenario a command line needs: run's, sweep's or shrink's first argument (run's default
 * when it names none), or the scenario a schedule given to replay was recorded from. `isPath`
 * tells a file from a name (load.ts's isScenarioPath); a file that does not exist is left to the
 * command to report.
 */
export function scenarioRef(argv: readonly string[], isPath: (ref: string) => boolean, defaultName: string): ScenarioRef | undefined {
  const [cmd, ...rest] = argv;
  const first = rest.find((a, i) => !a.startsWith("--") && (i === 0 || !VALUE_OPTION.test(rest[i - 1]!)));
  if (cmd === "run" || cmd === "sweep" || cmd === "shrink" || cmd === "list") {
    if (first === undefined) return cmd === "run" ? { name: defaultName } : undefined;
    if (!isPath(first)) return cmd === "list" ? undefined : { name: first };
    // "file.ts#name": the file is imported; the command picks the scenario.
    const { path } = splitRef(first);
    return existsSync(path) ? { file: path } : undefined;
  }
  if (cmd === "replay" && first !== undefined) {
    try {
      const { source, scenario } = JSON.parse(readFileSync(first, "utf8")) as { source?: unknown; scenario?: unknown };
      if (typeof source === "string") {
        const { path } = splitRef(source);
        return existsSync(path) ? { file: path } : undefined;
      }
      if (typeof scenario === "string") return { name: scenario };
    } catch {
      // The command reports an unreadable schedule.
    }
  }
  return undefined;
}
