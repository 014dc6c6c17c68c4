// kernel/signal.c reduced to the one signal memory pressure sends: SIGKILL from the OOM killer,
// acted on when the process returns to user space (after a page fault or at signal_check()).
import * as Effect from "effect/Effect";
import { current } from "./sched/core.ts";
import type { Task } from "./sched/task.ts";

/** The exit a SIGKILL causes, caught by the process's top level (process_run). */
export class SigKill extends Error {
  override readonly name = "SigKill";
}

/** The exit a SIGSEGV causes (a user access no mapping covers). */
export class SigSegv extends Error {
  override readonly name = "SigSegv";
}

/** fatal_signal_pending(current). */
export const fatal_signal_pending = (p: Task = current()): boolean => p.sigkill;

/** Returning to user space: a pending SIGKILL ends the process here. */
export const return_to_user = (): Effect.Effect<void> => (current().sigkill ? Effect.die(new SigKill("SIGKILL")) : Effect.void);

/** Returns to user space between steps of a process's work: exits if SIGKILL is pending. */
export const signal_check = return_to_user;
