// Error channel 1 of 3 (DESIGN.md conventions): a simulator bug or a broken invariant. It ends
// the run with the seed and schedule; it is never a kernel failure (a return value) nor a
// detector finding (a BugReport). A ScenarioError is bad input instead: a machine description
// the simulator cannot build, or scenario code that misuses the API or throws.
export class SimError extends Error {
  override readonly name = "SimError";
}

export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new SimError(typeof message === "string" ? message : message());
}

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}
