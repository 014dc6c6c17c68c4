// What a command writes to, and how its errors become exit codes: 0 no report and expectations
// met, 1 a report, a failed expectation or a run that hit a limit, 2 bad input (one line naming
// what was wrong, never a stack trace).
import { UsageError } from "./args.ts";
import { ScenarioError, SimError } from "../sim/errors.ts";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Set the exit code once an asynchronous command (sweep) finishes. */
  exit(code: number): void;
}

/** Runs a command, turning bad input into exit 2 and a simulator bug into exit 1, each with one line. */
export function guard(io: Io, command: () => number | "pending"): number | "pending" {
  try {
    return command();
  } catch (e) {
    if (e instanceof UsageError || e instanceof ScenarioError) {
      io.err(`mmsim: ${e.message}`);
      return 2;
    }
    if (e instanceof SimError) {
      io.err(`mmsim: simulator error (a bug in mmsim, please report it with this line): ${e.message}`);
      return 1;
    }
    throw e;
  }
}
