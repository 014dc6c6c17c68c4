// kernel/lockdep.c (2.6.34; kernel/locking/lockdep.c in 6.1), CONFIG_PROVE_LOCKING: lock
// classes, each task's held-lock stack, the dependency graph, irq-usage state, and three of its
// reports in each era's words:
// - "possible circular locking dependency detected" when taking B while holding A and a chain
//   B -> ... -> A was recorded before (check_prev_add / check_noncircular, breadth first): the
//   chain "in reverse order" with where each dependency was made, 6.1's "Possible unsafe locking
//   scenario", the held locks, the backtrace. It is printed before anything deadlocks.
// - "possible recursive locking detected": a class taken again while held (check_deadlock).
// - "inconsistent lock state": a class used in hardirq (softirq) context and also taken with
//   hardirqs (softirqs) enabled, "{HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage." or the reverse, with
//   the [HC:SC:HE:SE] state, where the first usage was registered and (6.1) the scenario.
// The first report turns lockdep off (debug_locks = 0), as in Linux, and so the spinlock debug
// checks too. A class is a lock's name (Linux keys a class by its init site, and names it so).
// A dependency is added from the nearest held lock of the same irq context (process, softirq,
// hardirq) to the new one, as check_prevs_add does after its first non-trylock entry; trylocks
// add none; held locks print with their usage characters ({+.+...} in 2.6.34: hardirq, softirq,
// reclaim-fs, each write and read; 6.1's {+.+.}-{2:2} with the wait types: 2 a spinlock, 3 a
// mutex), "at:" the function that took the lock.
// Simplified: no read locks, nesting annotations (spin_lock_nested) or lock chains cache; usage
// is marked when a lock is taken (not again when interrupts are re-enabled under it, which
// mark_held_locks does); the irq-safe -> irq-unsafe order check (check_irq_usage), the irq event
// stamps (print_irqtrace_events) and RECLAIM_FS usage are not modelled; traces are function
// names; 6.1's lock instance addresses are assumed .data addresses, a lock's index apart.
import type { Kernel } from "../kernel.ts";
import type { Task } from "../sched/task.ts";
import { dump_stack, uts_release } from "../dumpstack.ts";
import { HARDIRQ_SHIFT, SOFTIRQ_OFFSET, SOFTIRQ_SHIFT, hardirq_count, softirq_count } from "../preempt.ts";

/** Usage bits (LOCK_USED_IN_HARDIRQ ...), write only: mmsim has no read locks. */
const USED_IN_HARDIRQ = 0;
const ENABLED_HARDIRQ = 1;
const USED_IN_SOFTIRQ = 2;
const ENABLED_SOFTIRQ = 3;
const USAGE_STR = ["IN-HARDIRQ-W", "HARDIRQ-ON-W", "IN-SOFTIRQ-W", "SOFTIRQ-ON-W"];
/** The bit a new usage excludes: USED_IN x <-> ENABLED x. */
const EXCLUSIVE = [ENABLED_HARDIRQ, USED_IN_HARDIRQ, ENABLED_SOFTIRQ, USED_IN_SOFTIRQ];

export type LockKind = "spin" | "mutex";

interface lock_class {
  readonly name: string;
  readonly kind: LockKind;
  usage_mask: number;
  /** Where each usage bit was first set. */
  readonly usage_traces: (readonly string[] | undefined)[];
  /** Forward dependencies: the class taken after this one, with the trace of that acquisition. */
  readonly after: Map<lock_class, readonly string[]>;
}

interface held_lock {
  readonly class: lock_class;
  /** 0 process, 1 softirq, 2 hardirq (task_irq_context). */
  readonly irq_context: number;
  /** The function that took it (acquire_ip). */
  readonly at: string;
  readonly trylock: boolean;
  readonly instance: number;
}

interface LockdepState {
  readonly classes: Map<string, lock_class>;
  readonly held: WeakMap<Task, held_lock[]>;
  readonly instances: Map<object, number>;
}
// The module's state, kept in the kernel's own field (a property load on the hot paths).
const states = {
  get: (o: Kernel): LockdepState | undefined => o.ext_lockdep as LockdepState | undefined,
  set: (o: Kernel, v: LockdepState): void => {
    o.ext_lockdep = v;
  },
  has: (o: Kernel): boolean => o.ext_lockdep !== undefined,
};

/** CONFIG_PROVE_LOCKING on this kernel. */
export function lockdep_init(k: Kernel): void {
  states.set(k, { classes: new Map(), held: new WeakMap(), instances: new Map() });
}
const lockdep_on = (k: Kernel): LockdepState | undefined => (k.debug_locks ? states.get(k) : undefined);
export const lockdep_enabled = (k: Kernel): boolean => states.has(k);

function class_of(s: LockdepState, name: string, kind: LockKind): lock_class {
  let c = s.classes.get(name);
  if (c === undefined) {
    c = { name, kind, usage_mask: 0, usage_traces: [], after: new Map() };
    s.classes.set(name, c);
  }
  return c;
}

const held_of = (s: LockdepState, t: Task): held_lock[] => {
  let h = s.held.get(t);
  if (h === undefined) {
    h = [];
    s.held.set(t, h);
  }
  return h;
};

/** get_usage_chars(): '.' unused, '+' irqs-on only, '-' in-irq only, '?' both; per state, write then read. */
function usage_chars(k: Kernel, c: lock_class): string {
  const ch = (used_in: number, enabled: number): string => {
    const u = (c.usage_mask >> used_in) & 1;
    const e = (c.usage_mask >> enabled) & 1;
    return u && e ? "?" : u ? "-" : e ? "+" : ".";
  };
  const s = `${ch(USED_IN_HARDIRQ, ENABLED_HARDIRQ)}.${ch(USED_IN_SOFTIRQ, ENABLED_SOFTIRQ)}.`;
  return k.config.era === "2.6" ? `${s}..` : s; // 2.6.34 adds RECLAIM_FS (write, read)
}

/** print_lock_name(): " (name){usage}" (6.1: and "-{outer:inner}"). */
function lock_name(k: Kernel, c: lock_class): string {
  const wait = c.kind === "mutex" ? 3 : 2;
  return k.config.era === "2.6" ? ` (${c.name}){${usage_chars(k, c)}}` : ` (${c.name}){${usage_chars(k, c)}}-{${wait}:${wait}}`;
}

/** An assumed .data address for 6.1's %px of the lock instance. */
function instance_address(k: Kernel, i: number): string {
  const base = k.mm?.arch === "x86_64" || k.mm === null ? 0xffffffff82800000n : 0xc1800000n;
  const v = base + BigInt(i * 64);
  return v.toString(16).padStart(k.mm?.arch === "i386" ? 8 : 16, "0");
}

/** print_lock(): the class, and where the lock was taken. */
function print_lock(k: Kernel, h: held_lock): string {
  return k.config.era === "2.6" ? `${lock_name(k, h.class)}, at: ${h.at}` : `${instance_address(k, h.instance)}${lock_name(k, h.class)}, at: ${h.at}`;
}

/** lockdep_print_held_locks(). */
export function lockdep_print_held_locks(k: Kernel, t: Task): string[] {
  const s = states.get(k);
  const held = s?.held.get(t) ?? [];
  if (held.length === 0) return [`no locks held by ${t.comm}/${t.pid}.`];
  return [`${held.length} lock${held.length > 1 ? "s" : ""} held by ${t.comm}/${t.pid}:`, ...held.map((h, i) => ` #${i}: ${print_lock(k, h)}`)];
}

/** The header's banner: the title between lines of '=' and '-' as long as it, and the kernel. */
function banner(k: Kernel, title26: string, title6: string): string[] {
  const title = k.config.era === "2.6" ? `[ INFO: ${title26} ]` : `WARNING: ${title6}`;
  const ident = k.config.era === "2.6" ? `${uts_release("2.6")} #1` : `${uts_release("6")} #1 Not tainted`;
  return ["=".repeat(title.length), title, ident, "-".repeat(title.length)];
}

/** The stack of an acquisition by `lockfn` from the current context: innermost first. */
function acquire_trace(k: Kernel, lockfn: string): string[] {
  return [lockfn, ...[...k.this_ctx().frames].reverse()];
}
/** save_trace() in mark_lock, as "state was registered at" prints it (2.6.34 from __lock_acquire, 6.1 from lock_acquire). */
const usage_trace = (k: Kernel, t: readonly string[]): string[] => (k.config.era === "2.6" ? ["__lock_acquire", "lock_acquire", ...t] : ["lock_acquire", ...t]);
const trace_lines = (t: readonly string[]): string[] => t.map((f) => `       ${f}`);

function report(k: Kernel, lockfn: string, lines: string[]): void {
  k.debug_locks = false; // debug_locks_off()
  k.report("lockdep", [...lines, "", "stack backtrace:", ...dump_stack(k.this_ctx(), [lockfn, "lock_acquire", "__lock_acquire"])].join("\n"), undefined, lines[1]);
}

/** check_noncircular(): a path from `from` to `to` over recorded dependencies (breadth first), as the list of classes. */
function find_path(from: lock_class, to: lock_class): lock_class[] | null {
  const parent = new Map<lock_class, lock_class | null>([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === to) {
      const path: lock_class[] = [];
      for (let x: lock_class | null = c; x !== null; x = parent.get(x)!) path.unshift(x);
      return path;
    }
    for (const n of c.after.keys()) {
      if (!parent.has(n)) {
        parent.set(n, c);
        queue.push(n);
      }
    }
  }
  return null;
}

function print_circular_bug(k: Kernel, t: Task, next: held_lock, prev: held_lock, path: lock_class[], lockfn: string): void {
  const era = k.config.era;
  const out = [...banner(k, "possible circular locking dependency detected", "possible circular locking dependency detected")];
  out.push(`${t.comm}/${t.pid} is trying to acquire lock:`, print_lock(k, next), "", "but task is already holding lock:", print_lock(k, prev), "", "which lock already depends on the new lock.", "", "", "the existing dependency chain (in reverse order) is:");
  // path: next = path[0] -> ... -> path[n] = prev. #n is prev with the trace of path[n-1] -> prev; #0 is next now.
  for (let d = path.length - 1; d >= 1; d--) {
    const trace = path[d - 1]!.after.get(path[d]!)!;
    out.push("", `-> #${d}${lock_name(k, path[d]!)}:`, ...trace_lines(era === "2.6" ? ["lock_acquire", ...trace] : trace));
  }
  out.push("", `-> #0${lock_name(k, path[0]!)}:`, ...trace_lines(["__lock_acquire", "lock_acquire", ...acquire_trace(k, lockfn)]));
  out.push("", "other info that might help us debug this:", "");
  if (era === "6") {
    const source = path[0]!.name;
    const target = path[path.length - 1]!.name;
    const parent = path[path.length - 2]!.name;
    if (parent !== source) out.push("Chain exists of:", `  ${source} --> ${parent} --> ${target}`, "");
    out.push(" Possible unsafe locking scenario:", "", "       CPU0                    CPU1", "       ----                    ----");
    out.push(`  lock(${target});`, `                               lock(${parent});`, `                               lock(${target});`, `  lock(${source});`, "", " *** DEADLOCK ***", "");
  }
  out.push(...lockdep_print_held_locks(k, t));
  report(k, lockfn, out);
}

function print_deadlock_bug(k: Kernel, t: Task, next: held_lock, prev: held_lock, lockfn: string): void {
  const out = [...banner(k, "possible recursive locking detected", "possible recursive locking detected")];
  out.push(`${t.comm}/${t.pid} is trying to acquire lock:`, print_lock(k, next), "", "but task is already holding lock:", print_lock(k, prev), "", "other info that might help us debug this:");
  if (k.config.era === "6") {
    out.push(" Possible unsafe locking scenario:", "", "       CPU0", "       ----", `  lock(${prev.class.name});`, `  lock(${next.class.name});`, "", " *** DEADLOCK ***", "", " May be due to missing lock nesting notation", "");
  }
  out.push(...lockdep_print_held_locks(k, t));
  report(k, lockfn, out);
}

function print_usage_bug(k: Kernel, t: Task, h: held_lock, prev_bit: number, new_bit: number, lockfn: string): void {
  const pc = k.this_cpu().preempt_count;
  const hc = hardirq_count(pc) !== 0 ? 1 : 0;
  const sc = (pc & SOFTIRQ_OFFSET) !== 0 ? 1 : 0;
  const he = k.this_cpu().hw.irqs_enabled ? 1 : 0;
  const se = softirq_count(pc) === 0 ? 1 : 0;
  const out = [...banner(k, "inconsistent lock state", "inconsistent lock state")];
  out.push(
    `inconsistent {${USAGE_STR[prev_bit]}} -> {${USAGE_STR[new_bit]}} usage.`,
    `${t.comm}/${t.pid} [HC${hc}[${hardirq_count(pc) >> HARDIRQ_SHIFT}]:SC${sc}[${softirq_count(pc) >> SOFTIRQ_SHIFT}]:HE${he}:SE${se}] takes:`,
    print_lock(k, h),
    `{${USAGE_STR[prev_bit]}} state was registered at:`,
    ...h.class.usage_traces[prev_bit]!.map((f) => `  ${f}`),
    "",
    "other info that might help us debug this:",
  );
  if (k.config.era === "6") {
    // print_usage_bug_scenario() says <Interrupt> for softirq usage too.
    out.push(" Possible unsafe locking scenario:", "", "       CPU0", "       ----", `  lock(${h.class.name});`, "  <Interrupt>", `    lock(${h.class.name});`, "", " *** DEADLOCK ***", "");
  }
  out.push(...lockdep_print_held_locks(k, t));
  report(k, lockfn, out);
}

/** mark_lock(): sets a usage bit; false (and the report) if it contradicts an earlier one. */
function mark_lock(k: Kernel, t: Task, h: held_lock, bit: number, trace: readonly string[]): boolean {
  const lockfn = trace[0]!;
  const c = h.class;
  if (c.usage_mask & (1 << bit)) return true;
  c.usage_mask |= 1 << bit;
  c.usage_traces[bit] = usage_trace(k, trace);
  const excl = EXCLUSIVE[bit]!;
  if (c.usage_mask & (1 << excl)) {
    print_usage_bug(k, t, h, excl, bit, lockfn);
    return false;
  }
  return true;
}

/**
 * lock_acquire(): lockdep's view of taking `lock` (named `name`) with `lockfn`
 * ("_raw_spin_lock", "mutex_lock_nested" ...) from the current context, before it spins or
 * sleeps; `trylock` for a successful trylock.
 */
export function lock_acquire(k: Kernel, lock: object, name: string, kind: LockKind, lockfn: string, trylock = false): void {
  const s = lockdep_on(k);
  if (s === undefined) return;
  const t = k.this_cpu().curr;
  const pc = k.this_cpu().preempt_count;
  const irq_context = 2 * (hardirq_count(pc) !== 0 ? 1 : 0) + ((pc & SOFTIRQ_OFFSET) !== 0 ? 1 : 0);
  let instance = s.instances.get(lock);
  if (instance === undefined) s.instances.set(lock, (instance = s.instances.size));
  const frames = k.this_ctx().frames;
  const h: held_lock = { class: class_of(s, name, kind), irq_context, at: frames[frames.length - 1] ?? "?", trylock, instance };
  const held = held_of(s, t);
  const trace = acquire_trace(k, lockfn);
  // mark_irqflags(): where this class is used, and with which interrupts on.
  const hardirqs_on = k.this_cpu().hw.irqs_enabled;
  const softirqs_on = softirq_count(pc) === 0;
  if (!trylock) {
    if (hardirq_count(pc) !== 0 && !mark_lock(k, t, h, USED_IN_HARDIRQ, trace)) return void held.push(h);
    if ((pc & SOFTIRQ_OFFSET) !== 0 && !mark_lock(k, t, h, USED_IN_SOFTIRQ, trace)) return void held.push(h);
  }
  if (hardirqs_on) {
    if (!mark_lock(k, t, h, ENABLED_HARDIRQ, trace)) return void held.push(h);
    if (softirqs_on && !mark_lock(k, t, h, ENABLED_SOFTIRQ, trace)) return void held.push(h);
  }
  if (!trylock) {
    // check_deadlock(): the same class already held in this context chain.
    const same = held.find((x) => x.class === h.class);
    if (same !== undefined) {
      print_deadlock_bug(k, t, h, same, lockfn); // validate_chain runs before the new lock counts as held
      held.push(h);
      return;
    }
    // check_prevs_add(): from the nearest held lock of this irq context.
    for (let i = held.length - 1; i >= 0 && held[i]!.irq_context === irq_context; i--) {
      const prev = held[i]!;
      if (!prev.class.after.has(h.class)) {
        const path = find_path(h.class, prev.class);
        if (path !== null) {
          print_circular_bug(k, t, h, prev, path, lockfn);
          held.push(h);
          return;
        }
        prev.class.after.set(h.class, trace);
      }
      if (!prev.trylock) break;
    }
  }
  held.push(h);
}

/** lock_release(): the lock leaves the current task's held stack. */
export function lock_release(k: Kernel, name: string): void {
  const s = states.get(k);
  if (s === undefined) return;
  const held = s.held.get(k.this_cpu().curr);
  if (held === undefined) return;
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i]!.class.name === name) {
      held.splice(i, 1);
      return;
    }
  }
}

/** The usage characters of a lock class as held-lock listings print them ("{....}" before any use). */
export function lockdep_usage(k: Kernel, name: string): string | undefined {
  const c = states.get(k)?.classes.get(name);
  return c === undefined ? undefined : usage_chars(k, c);
}
