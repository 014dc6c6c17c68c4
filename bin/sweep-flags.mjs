// A sweep whose worker threads fill the machine's cores (--jobs N >= the cores) runs in a node
// started with V8 flags that keep each isolate's garbage collection and JIT compilation on its
// own thread: --single-threaded-gc --no-concurrent-recompilation. Otherwise V8's helper threads
// do a quarter of each worker's work on the same cores the workers need. Measured on the 2-core
// machine (demo, seeds 1..400, rounds where other processes used no CPU): a worker thread got 68%
// of a core without the flags and 99% with them; --jobs 2 went from 83-92 seeds/s (1.4-1.6x
// --jobs 1's 57-65) to 97-116 (1.5-1.9x, median 1.7x). --jobs 1 keeps V8's defaults: there the
// helpers run on the idle core (with the flags it drops to 53-55 seeds/s). V8 flags cannot be given to a worker
// thread, nor safely changed in a running process (turning GC threads off at run time crashed
// V8), so the launcher starts node again with them; the new process inherits stdio and options,
// its exit status is this one's, and signals (Ctrl-C) are passed on to it.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

export const SWEEP_V8_FLAGS = ["--single-threaded-gc", "--no-concurrent-recompilation"];

/** The --jobs value of a command line (--jobs N or --jobs=N), NaN when it is not a number; 1 without it. */
function jobsOf(argv) {
  const i = argv.findIndex((a) => a === "--jobs" || a.startsWith("--jobs="));
  if (i < 0) return 1;
  const v = argv[i].startsWith("--jobs=") ? argv[i].slice(7) : argv[i + 1];
  return /^\d+$/.test(v ?? "") ? Number(v) : NaN;
}

/** Whether this command line is a sweep whose workers fill the cores, in a process without the flags. */
export function wantsSweepFlags(argv) {
  if (argv[0] !== "sweep" || SWEEP_V8_FLAGS.every((f) => process.execArgv.includes(f))) return false;
  const jobs = jobsOf(argv);
  return jobs >= 2 && jobs >= availableParallelism();
}

/** Runs `script argv` in a new node with the flags (and this one's own options); this process ends as it ends. */
export function relaunch(script, argv) {
  const child = spawn(process.execPath, [...process.execArgv, ...SWEEP_V8_FLAGS, script, ...argv], { stdio: "inherit" });
  const forward = (signal) => child.kill(signal);
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  child.on("error", (e) => {
    process.stderr.write(`mmsim: cannot start node for the sweep: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
