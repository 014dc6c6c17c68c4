// Scheduling strategies of your own, for runScenario and mmsim/testing (the command line runs
// the built-in ones). `make` is called once a run with the run's "sched" stream: draw every choice
// from it and a seed replays the run. pick() chooses among the lanes (CPUs) tied at the earliest
// clock, in id order; delay() gives a lane extra virtual time before its step.
import { defineStrategy } from "mmsim";

/** Ties to the highest CPU id, never a delay: the mirror image of a fixed order. */
export const highestFirst = defineStrategy({
  name: "highest-first",
  make: () => ({
    name: "highest-first",
    pick: (tied) => tied.length - 1,
    delay: () => 0,
  }),
});

/**
 * A random walk with wide windows: ties at random, and one step in `every` (on average) held back
 * by up to `max_ns` — long enough to land inside a critical section the default walk's 1 us
 * delays step over.
 */
export const wideWindows = (every: number, max_ns: number) =>
  defineStrategy({
    name: `wide-windows-${every}-${max_ns}`,
    make: (rng) => ({
      name: "wide-windows",
      pick: (tied) => (tied.length === 1 ? 0 : rng.int(tied.length)),
      delay: () => (rng.int(every) === 0 ? 1 + rng.int(max_ns) : 0),
    }),
  });
