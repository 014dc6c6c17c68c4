// Error channel 3 of 3: a detector's finding, printed in Linux's own report format. Reports never
// change what the simulated kernel does next (a lockup report does end the run, as the machine
// can make no progress).

/** A report's kind: one of the built-in detectors', or a scenario's own detector's name (src/kernel/detector.ts). */
export type ReportKind = BuiltinReportKind | DetectorName;

/** A detector's name as a report kind (any string; the built-in kinds keep their completions). */
export type DetectorName = string & { readonly __detector?: never };

/**
 * The kinds of the built-in detectors' reports: the might_sleep and scheduling-while-atomic
 * checks, spinlock debugging, the soft- and hard-lockup and hung-task watchdogs, "stall" (mmsim's:
 * a run with nothing left to wake or release it, the watchdog off), allocation failures, bad
 * pages, the OOM killer, stale TLB entries, slab errors, lockdep, kmemleak, refcount_t warnings,
 * KASAN, panics and BUG / WARN; "expectation" names a failed expectation among failure kinds.
 */
export type BuiltinReportKind =
  | "might_sleep"
  | "scheduling_while_atomic"
  | "spinlock"
  | "soft_lockup"
  | "hard_lockup"
  | "hung_task"
  | "stall"
  | "expectation"
  | "alloc_failure"
  | "bad_page"
  | "oom"
  | "stale_tlb"
  | "slab_error"
  | "lockdep"
  | "kmemleak"
  | "refcount"
  | "list_corruption"
  | "debug_preempt"
  | "kasan"
  | "panic"
  | "bug";

/** A report a detector filed: its kind, its first line (title), the whole text as printed to the log, and the CPU and virtual time (ns) it was filed at. */
export interface BugReport {
  readonly kind: ReportKind;
  /** The report's first line, e.g. "BUG: scheduling while atomic: worker/0/3/0x00000002". */
  readonly title: string;
  /** The whole report as printed to the log. */
  readonly text: string;
  readonly cpu: number;
  readonly ts: number;
}
