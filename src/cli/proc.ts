// `mmsim proc FILE`: a /proc file of a freshly booted machine (no scenario runs).
import { procOfFreshMachine } from "../harness/run.ts";
import { PROC_FILES, isProcFile } from "../harness/proc.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import { UsageError, intOption, parseArgs } from "./args.ts";
import { RUN_OPTIONS, machineOption } from "./options.ts";
import type { Io } from "./io.ts";

export function cmdProc(argv: readonly string[], io: Io): number {
  const p = parseArgs("proc", argv, { machine: RUN_OPTIONS.machine!, cpus: RUN_OPTIONS.cpus! });
  const [file, ...extra] = p.positional;
  if (file === undefined || extra.length > 0 || !isProcFile(file)) {
    throw new UsageError(`proc takes one file name (accepted: ${PROC_FILES.join(", ")})${file !== undefined ? `, got "${[file, ...extra].join(" ")}"` : ""}`);
  }
  const given = machineOption(p)?.spec ?? {};
  const machine = { ...given, memory: given.memory ?? {} }; // memory fields over DEFAULT_MEMORY (i386, kernel 2.6, 128 MiB)
  const cpus = intOption(p, "cpus", 1, MAX_CPUS);
  io.out(procOfFreshMachine({ ...machine, ...(cpus !== undefined ? { cpus } : {}) }, file).replace(/\n$/, ""));
  return 0;
}
