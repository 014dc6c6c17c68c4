// Fault injection (lib/fault-inject.c, mm/failslab.c, mm/page_alloc.c's fail_page_alloc), with the
// attributes of Documentation/fault-injection: probability (percent), interval, times (-1: no
// limit), space (bytes to let through first), verbose, task-filter; failslab's ignore-gfp-wait
// (default Y: only allocations that cannot sleep fail); fail_page_alloc's ignore-gfp-wait (Y),
// ignore-gfp-highmem (Y) and min-order (1: order-0 pages never fail). FAULT_ATTR_INITIALIZER
// gives interval 1, times 1, verbose 2, probability 0 (off).
// should_fail() as each era has it: 2.6.34 checks probability, the task filter, times, space,
// interval, then draws (random32() % 100 < probability); 6.x checks the stack filter before
// space (no stack filter here, so the same order). The draw comes from the run's "fault" stream,
// so a seed replays the same failures and nothing else shifts. A forced failure logs 2.6.34's
// "FAULT_INJECTION: forcing a failure" (and a backtrace with verbose 2), or 6.x's
// "FAULT_INJECTION: forcing a failure." with "name NAME, interval I, probability P, space S,
// times T", rate-limited (5 s, burst 10), and none for a __GFP_NOWARN allocation (6.2's
// FAULT_NOWARN, as 6.1's stable kernels have it; 6.1.0's no_warn stayed set once any __GFP_NOWARN
// allocation passed through, which is not modelled).
// Where the hooks are: failslab in __cache_alloc (2.6.34: before might_sleep; 6.1: after it) and
// 6.1's kmalloc_large goes through fail_page_alloc; fail_page_alloc after might_sleep in
// __alloc_pages_nodemask. Neither applies to the slab allocator's own caches (cache_cache), which
// mmsim does not simulate. Not modelled: fail_nth (per-task systematic failure), the stack
// filter (require-start/end, stacktrace-depth), failslab's cache-filter, reject-start/end.
import { ScenarioError } from "../sim/errors.ts";
import type { Kernel } from "./kernel.ts";
import { dump_stack } from "./dumpstack.ts";
import { ___ratelimit, ratelimit_state, type RatelimitState } from "./printk.ts";
import { in_interrupt } from "./sched/core.ts";
import { __GFP_HIGHMEM, __GFP_NOFAIL, gfp_nowarn, gfpflags_allow_blocking, type gfp_t } from "./mm/gfp.ts";
import type { Rng } from "../sim/rng.ts";
import { trace_fault_inject } from "./mm/trace.ts";

/** A fault's attributes as a scenario, a machine file or the command line gives them (Linux's debugfs names). */
export type FaultSpec = Readonly<Record<string, number | boolean>>;

/** The faults a machine is booted with (failslab= and fail_page_alloc=, or debugfs). */
export interface FaultInjectionSpec {
  readonly failslab?: FaultSpec;
  readonly fail_page_alloc?: FaultSpec;
}

/** struct fault_attr. */
export interface fault_attr {
  readonly name: string;
  probability: number;
  interval: number;
  times: number;
  space: number;
  verbose: number;
  task_filter: boolean;
  count: number;
  readonly ratelimit_state: RatelimitState;
}

interface FailSlab {
  readonly attr: fault_attr;
  ignore_gfp_wait: boolean;
}
interface FailPageAlloc {
  readonly attr: fault_attr;
  ignore_gfp_wait: boolean;
  ignore_gfp_highmem: boolean;
  min_order: number;
}

const COMMON = ["probability", "interval", "times", "space", "verbose", "task-filter"] as const;
const ACCEPTED: Record<keyof FaultInjectionSpec, readonly string[]> = {
  failslab: [...COMMON, "ignore-gfp-wait"],
  fail_page_alloc: [...COMMON, "ignore-gfp-wait", "ignore-gfp-highmem", "min-order"],
};
const BOOLEAN = new Set(["task-filter", "ignore-gfp-wait", "ignore-gfp-highmem"]);
const RANGE: Record<string, readonly [number, number]> = {
  probability: [0, 100],
  interval: [1, 2 ** 31 - 1],
  times: [-1, 2 ** 31 - 1],
  space: [0, 2 ** 31 - 1],
  verbose: [0, 2],
  "min-order": [0, 10],
};

/** Checks one fault's attributes; the message names the fault, the attribute and what is accepted. */
export function check_fault_spec(fault: string, spec: unknown): FaultSpec {
  if (!(fault in ACCEPTED)) throw new ScenarioError(`fault_injection: unknown fault "${fault}" (accepted: ${Object.keys(ACCEPTED).join(", ")})`);
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new ScenarioError(`fault_injection.${fault} must be an object of attributes, e.g. { "probability": 10, "times": 5 }`);
  const accepted = ACCEPTED[fault as keyof FaultInjectionSpec];
  for (const [key, v] of Object.entries(spec)) {
    if (!accepted.includes(key)) throw new ScenarioError(`${fault}: unknown attribute "${key}" (accepted: ${accepted.join(", ")})`);
    if (BOOLEAN.has(key)) {
      if (typeof v !== "boolean") throw new ScenarioError(`${fault}: ${key} must be true or false (Y or N), got ${JSON.stringify(v)}`);
    } else {
      const [lo, hi] = RANGE[key]!;
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new ScenarioError(`${fault}: ${key} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
    }
  }
  return spec as FaultSpec;
}

/** Checks a whole fault_injection object (a scenario's machine or a machine file). */
export function check_fault_injection(v: unknown): FaultInjectionSpec {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ScenarioError(`"fault_injection" must be an object: { "failslab": {...}, "fail_page_alloc": {...} }`);
  for (const [fault, spec] of Object.entries(v)) check_fault_spec(fault, spec);
  return v as FaultInjectionSpec;
}

/**
 * Parses a command line's attribute list, "probability=10,times=5,ignore-gfp-wait=N", into a
 * spec (booleans as Y/N, 1/0 or true/false, as debugfs takes them).
 */
export function parse_fault_option(fault: keyof FaultInjectionSpec, text: string): FaultSpec {
  const out: Record<string, number | boolean> = {};
  for (const part of text.split(",")) {
    const m = /^([a-z-]+)=(.+)$/.exec(part.trim());
    if (m === null) throw new ScenarioError(`${fault}: "${part}" is not attribute=value (e.g. probability=10,times=5; accepted: ${ACCEPTED[fault].join(", ")})`);
    const [, key, raw] = m as unknown as [string, string, string];
    if (BOOLEAN.has(key)) {
      const b = /^(y|1|true)$/i.test(raw) ? true : /^(n|0|false)$/i.test(raw) ? false : undefined;
      if (b === undefined) throw new ScenarioError(`${fault}: ${key} must be Y or N, got "${raw}"`);
      out[key] = b;
    } else out[key] = /^-?\d+$/.test(raw) ? Number(raw) : (raw as unknown as number);
  }
  return check_fault_spec(fault, out);
}

/** `over`'s attributes over `base`'s, fault by fault and attribute by attribute. */
export function merge_fault_injection(base: FaultInjectionSpec | undefined, over: FaultInjectionSpec | undefined): FaultInjectionSpec | undefined {
  if (over === undefined) return base;
  const out: Record<string, FaultSpec> = { ...base };
  for (const [fault, spec] of Object.entries(over)) out[fault] = { ...base?.[fault as keyof FaultInjectionSpec], ...spec };
  return out;
}

/** FAULT_ATTR_INITIALIZER with the spec's attributes over it. */
function fault_attr_of(k: Kernel, name: string, spec: FaultSpec | undefined): fault_attr {
  const g = (key: string, dflt: number): number => (spec?.[key] as number | undefined) ?? dflt;
  return {
    name,
    probability: g("probability", 0),
    interval: g("interval", 1),
    times: g("times", 1),
    space: g("space", 0),
    verbose: g("verbose", 2),
    task_filter: (spec?.["task-filter"] as boolean | undefined) ?? false,
    count: 0,
    ratelimit_state: ratelimit_state(5 * k.config.hz, 10), // DEFAULT_RATELIMIT_INTERVAL, _BURST
  };
}

interface FaultState {
  readonly failslab: FailSlab;
  readonly fail_page_alloc: FailPageAlloc;
  readonly rng: Rng;
  /** Tasks with /proc/PID/make-it-fail set (task-filter). */
  readonly make_it_fail: WeakSet<object>;
}
// The module's state, kept in the kernel's own field (a property load on the hot paths).
const states = {
  get: (o: Kernel): FaultState | undefined => o.ext_fault as FaultState | undefined,
  set: (o: Kernel, v: FaultState): void => {
    o.ext_fault = v;
  },
};

/** Boot: the faults the machine asks for (none: both probabilities 0). */
export function fault_injection_init(k: Kernel, spec: FaultInjectionSpec | undefined, rng: Rng): void {
  const b = (s: FaultSpec | undefined, key: string, dflt: boolean): boolean => (s?.[key] as boolean | undefined) ?? dflt;
  states.set(k, {
    failslab: { attr: fault_attr_of(k, "failslab", spec?.failslab), ignore_gfp_wait: b(spec?.failslab, "ignore-gfp-wait", true) },
    fail_page_alloc: {
      attr: fault_attr_of(k, "fail_page_alloc", spec?.fail_page_alloc),
      ignore_gfp_wait: b(spec?.fail_page_alloc, "ignore-gfp-wait", true),
      ignore_gfp_highmem: b(spec?.fail_page_alloc, "ignore-gfp-highmem", true),
      min_order: (spec?.fail_page_alloc?.["min-order"] as number | undefined) ?? 1,
    },
    rng,
    make_it_fail: new WeakSet(),
  });
}

/** /proc/PID/make-it-fail for the current task: with task-filter set, only such tasks fail (never in interrupt). */
export function set_make_it_fail(k: Kernel, on: boolean): void {
  const s = states.get(k);
  if (s === undefined) return;
  const t = k.this_cpu().curr;
  if (on) s.make_it_fail.add(t);
  else s.make_it_fail.delete(t);
}

/** fail_dump(). */
function fail_dump(k: Kernel, attr: fault_attr, hook: string): void {
  if (k.config.era === "2.6") {
    if (attr.verbose > 0) k.printk("FAULT_INJECTION: forcing a failure");
    if (attr.verbose > 1) k.printk(dump_stack(k.this_ctx(), [hook, "should_fail"]).join("\n"));
    return;
  }
  if (attr.verbose > 0 && ___ratelimit(attr.ratelimit_state, Math.floor(k.now() / k.tick_ns), "fail_dump", (l) => k.printk(l))) {
    k.printk(`FAULT_INJECTION: forcing a failure.\nname ${attr.name}, interval ${attr.interval}, probability ${attr.probability}, space ${attr.space}, times ${attr.times}`);
    if (attr.verbose > 1) k.printk(dump_stack(k.this_ctx(), [hook, "should_fail_ex"]).join("\n"));
  }
}

/** should_fail(attr, size): true to force this call to fail. */
function should_fail(k: Kernel, s: FaultState, attr: fault_attr, size: number, nowarn: boolean, hook: string): boolean {
  if (attr.probability === 0) return false;
  if (attr.task_filter && (in_interrupt() || !s.make_it_fail.has(k.this_cpu().curr))) return false;
  if (attr.times === 0) return false;
  if (attr.space > size) {
    attr.space -= size;
    return false;
  }
  if (attr.interval > 1) {
    attr.count++;
    if (attr.count % attr.interval !== 0) return false;
  }
  if (attr.probability <= s.rng.int(100)) return false;
  trace_fault_inject(k, attr.name, size);
  if (!(nowarn && k.config.era === "6")) fail_dump(k, attr, hook);
  if (attr.times !== -1) attr.times--;
  return true;
}

/** should_failslab(): a slab allocation of `size` bytes is to fail. */
export function should_failslab(k: Kernel, size: number, gfp: gfp_t): boolean {
  const s = states.get(k);
  if (s === undefined || s.failslab.attr.probability === 0) return false;
  if (gfp & __GFP_NOFAIL) return false;
  if (s.failslab.ignore_gfp_wait && gfpflags_allow_blocking(gfp)) return false;
  return should_fail(k, s, s.failslab.attr, size, gfp_nowarn(gfp, k.config.era), "should_failslab");
}

/** should_fail_alloc_page(): an allocation of 2^order pages is to fail. */
export function should_fail_alloc_page(k: Kernel, gfp: gfp_t, order: number): boolean {
  const s = states.get(k);
  if (s === undefined || s.fail_page_alloc.attr.probability === 0) return false;
  const f = s.fail_page_alloc;
  if (order < f.min_order) return false;
  if (gfp & __GFP_NOFAIL) return false;
  if (f.ignore_gfp_highmem && gfp & __GFP_HIGHMEM) return false;
  if (f.ignore_gfp_wait && gfpflags_allow_blocking(gfp)) return false;
  return should_fail(k, s, f.attr, 1 << order, gfp_nowarn(gfp, k.config.era), "should_fail_alloc_page");
}
