// A planted bug and its fixed twin: one scenario definition with a `fixed` switch, so the two
// differ only where the fix is. The twin must never report on any seed.
import type { Scenario } from "../../src/harness/scenario.ts";

export interface BugPair {
  /** The bug scenario's name; the twin is NAME-fixed. */
  readonly name: string;
  /** The real kernel bug pattern, in a line. */
  readonly pattern: string;
  /** What reports it: a report kind or "expectation". */
  readonly detected_by: string;
  readonly bug: Scenario<any>;
  readonly fixed: Scenario<any>;
}

export function bug_pair(name: string, pattern: string, detected_by: string, make: (name: string, fixed: boolean) => Scenario<any>): BugPair {
  return { name, pattern, detected_by, bug: make(name, false), fixed: make(`${name}-fixed`, true) };
}
