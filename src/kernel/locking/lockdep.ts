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
// checks too. A class is a lock's name and subclass (Linux keys a class by its init site and
// the subclass spin_lock_nested gives, and prints a subclass as "name/1"); a subclass of
// MAX_LOCKDEP_SUBCLASSES (8) or more is "BUG: looking up invalid subclass". A dependency is added
// from the nearest held lock of the same irq context (process, softirq, hardirq) to the new one,
// as check_prevs_add does after its first non-trylock entry; trylocks add none; held locks
// print with their usage characters ({+.+...} in 2.6.34: hardirq, softirq, reclaim-fs, each
// write and read; 6.1's {+.+.}-{2:2} with the wait types: 2 a spinlock or rwlock, 3 a mutex, 0
// a seqcount), "at:" the function that took the lock.
// Read acquisitions (rwlock readers, seqcount readers) as each era has them: `read` 2 is a
// recursive read, 1 a non-recursive one. Usage bits are kept per write and read, and a read
// usage conflicts only with the opposite write usage (mark_lock_irq's valid_state). 2.6.34:
// read-after-read of a held class is allowed (and adds no dependency), held recursive readers
// are jumped over when adding dependencies and a recursive read adds none (it is still checked
// for a cycle). 6.1: read-after-read is allowed only for a recursive read, every dependency is
// kept with its kind (-(SR)->, -(ER)->, -(SN)->, -(EN)->), and a cycle counts only along a
// strong path, one where no -(*R)-> is followed by -(S*)-> (__bfs, hlock_conflict).
// Simplified: no lock chains cache (a dependency is checked when it is new, or in 6.1 when it
// is new of its kind); usage is marked when a lock is taken (not again when interrupts are
// re-enabled under it, which mark_held_locks does); the irq-safe -> irq-unsafe order check
// (check_irq_usage), the irq event stamps (print_irqtrace_events) and RECLAIM_FS usage are not
// modelled; traces are function names; 6.1's lock instance addresses are assumed .data
// addresses, a lock's index apart.
import type { Kernel } from "../kernel.ts";
import type { Task } from "../sched/task.ts";
import { dump_stack, uts_release } from "../dumpstack.ts";
import { HARDIRQ_SHIFT, SOFTIRQ_OFFSET, SOFTIRQ_SHIFT, hardirq_count, softirq_count } from "../preempt.ts";

/**
 * Usage bits as Linux numbers them (LOCK_USED_IN_HARDIRQ, LOCK_USED_IN_HARDIRQ_READ,
 * LOCK_ENABLED_HARDIRQ, ...): state * 4 + direction (2: enabled) + read (1).
 */
const USED_IN_HARDIRQ = 0;
const ENABLED_HARDIRQ = 2;
const USED_IN_SOFTIRQ = 4;
const ENABLED_SOFTIRQ = 6;
const READ = 1;
const USAGE_STR = ["IN-HARDIRQ-W", "IN-HARDIRQ-R", "HARDIRQ-ON-W", "HARDIRQ-ON-R", "IN-SOFTIRQ-W", "IN-SOFTIRQ-R", "SOFTIRQ-ON-W", "SOFTIRQ-ON-R"];
/** exclusive_bit(): the write bit of the opposite direction (USED_IN x <-> ENABLED x). */
const exclusive_bit = (bit: number): number => (bit & ~3) | ((bit & 2) ^ 2);

/** MAX_LOCKDEP_SUBCLASSES: spin_lock_nested's subclass must be below it. */
export const MAX_LOCKDEP_SUBCLASSES = 8;
/** SINGLE_DEPTH_NESTING: the subclass for taking a second lock of a class. */
export const SINGLE_DEPTH_NESTING = 1;

/** What a class is: a lock, a seqcount, or a bare lockdep_map (a timer's, a work's: lockdep_map.ts). */
export type LockKind = "spin" | "mutex" | "rwlock" | "seqcount" | "map";

/** 6.1's dependency kinds (DEP_SR_BIT ...): bit (prev a writer) + 2 * (next not a recursive reader). */
const DEP_SR = 1;
const DEP_ER = 2;
const DEP_SN = 4;
const DEP_EN = 8;

interface lock_dep {
  /** The trace of the acquisition that made the dependency. */
  readonly trace: readonly string[];
  /** 6.1: the kinds seen (DEP_* bits). */
  dep: number;
}

interface lock_class {
  /** The name as printed, with "/N" for a subclass. */
  readonly name: string;
  readonly kind: LockKind;
  usage_mask: number;
  /** Where each usage bit was first set. */
  readonly usage_traces: (readonly string[] | undefined)[];
  /** Forward dependencies: the class taken after this one, with the trace of that acquisition. */
  readonly after: Map<lock_class, lock_dep>;
}

interface held_lock {
  readonly class: lock_class;
  /** The lock instance. */
  readonly lock: object;
  /** 0 process, 1 softirq, 2 hardirq (task_irq_context). */
  readonly irq_context: number;
  /** The function that took it (acquire_ip). */
  readonly at: string;
  readonly trylock: boolean;
  /** 0 a write (exclusive) acquisition, 1 a non-recursive read, 2 a recursive read. */
  readonly read: number;
  readonly instance: number;
}

interface LockdepState {
  /** Classes by name, one map per subclass. */
  readonly classes: Map<string, lock_class>[];
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
  states.set(k, { classes: [], held: new WeakMap(), instances: new Map() });
}
const lockdep_on = (k: Kernel): LockdepState | undefined => (k.debug_locks ? states.get(k) : undefined);
export const lockdep_enabled = (k: Kernel): boolean => states.has(k);

function class_of(s: LockdepState, name: string, kind: LockKind, subclass: number): lock_class {
  const classes = (s.classes[subclass] ??= new Map());
  let c = classes.get(name);
  if (c === undefined) {
    c = { name: subclass === 0 ? name : `${name}/${subclass}`, kind, usage_mask: 0, usage_traces: [], after: new Map() };
    classes.set(name, c);
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
  const ch = (used_in: number): string => {
    const u = (c.usage_mask >> used_in) & 1;
    const e = (c.usage_mask >> (used_in + 2)) & 1;
    return u && e ? "?" : u ? "-" : e ? "+" : ".";
  };
  const s = `${ch(USED_IN_HARDIRQ)}${ch(USED_IN_HARDIRQ + READ)}${ch(USED_IN_SOFTIRQ)}${ch(USED_IN_SOFTIRQ + READ)}`;
  return k.config.era === "2.6" ? `${s}..` : s; // 2.6.34 adds RECLAIM_FS (write, read)
}

/** The wait type 6.1 prints after a class ({outer:inner}): LD_WAIT_SPIN 2 (spinlock_t, rwlock_t), LD_WAIT_SLEEP 3, none (0: LD_WAIT_INV) for a seqcount or a bare lockdep_map. */
const WAIT_TYPE: Record<LockKind, number> = { spin: 2, rwlock: 2, mutex: 3, seqcount: 0, map: 0 };

/** print_lock_name(): " (name){usage}" (6.1: and "-{outer:inner}"). */
function lock_name(k: Kernel, c: lock_class): string {
  const wait = WAIT_TYPE[c.kind];
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

/** The stack of an acquisition by `lockfn` ("" for a lock function inlined into its caller) from the current context: innermost first. */
function acquire_trace(k: Kernel, lockfn: string): string[] {
  const frames = [...k.this_ctx().frames].reverse();
  return lockfn === "" ? frames : [lockfn, ...frames];
}
/** save_trace() in mark_lock, as "state was registered at" prints it (2.6.34 from __lock_acquire, 6.1 from lock_acquire). */
const usage_trace = (k: Kernel, t: readonly string[]): string[] => (k.config.era === "2.6" ? ["__lock_acquire", "lock_acquire", ...t] : ["lock_acquire", ...t]);
const trace_lines = (t: readonly string[]): string[] => t.map((f) => `       ${f}`);
/** The frames dump_stack() adds below the lock function when lockdep reports from inside __lock_acquire. */
const lockdep_frames = (lockfn: string, ...more: string[]): string[] => (lockfn === "" ? ["lock_acquire", "__lock_acquire", ...more] : [lockfn, "lock_acquire", "__lock_acquire", ...more]);

function report(k: Kernel, lockfn: string, lines: string[]): void {
  k.debug_locks = false; // debug_locks_off()
  k.report("lockdep", [...lines, "", "stack backtrace:", ...dump_stack(k.this_ctx(), lockdep_frames(lockfn))].join("\n"), undefined, lines[1]);
}

/** A step of check_noncircular's search: a class, how it was reached, and whether only -(*R)-> edges led here. */
interface bfs_entry {
  readonly class: lock_class;
  readonly parent: bfs_entry | null;
  readonly only_xr: boolean;
  /** No strong path goes on through this edge (6.1 step 2: nothing left once -(S*)-> is masked). */
  readonly dead: boolean;
}

/**
 * check_noncircular(): a path from the new lock's class to the held lock's over recorded
 * dependencies, breadth first (as __bfs: a class is visited once, the first time it is reached,
 * whether or not that edge continues a strong path), as the list of classes. 6.1 follows strong
 * paths only and matches as hlock_conflict(): the held lock taken as a writer, or the path's last
 * edge to a non-recursive locker.
 */
function find_path(k: Kernel, next: held_lock, prev: held_lock): lock_class[] | null {
  const strong = k.config.era === "6";
  const visited = new Set<lock_class>();
  const queue: bfs_entry[] = [{ class: next.class, parent: null, only_xr: strong && next.read === 2, dead: false }];
  for (let qi = 0; qi < queue.length; qi++) {
    const e = queue[qi]!;
    if (visited.has(e.class)) continue;
    visited.add(e.class);
    if (e.dead) continue;
    if (e.class === prev.class && (prev.read === 0 || !e.only_xr)) {
      const path: lock_class[] = [];
      for (let x: bfs_entry | null = e; x !== null; x = x.parent) path.unshift(x.class);
      return path;
    }
    for (const [n, d] of e.class.after) {
      let dep = d.dep;
      if (strong && e.only_xr) dep &= ~(DEP_SR | DEP_SN);
      queue.push({ class: n, parent: e, only_xr: strong && (dep & (DEP_SN | DEP_EN)) === 0, dead: strong && dep === 0 });
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
    const trace = path[d - 1]!.after.get(path[d]!)!.trace;
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

/** mark_lock(): sets a usage bit; false (and the report) if it contradicts an earlier one (mark_lock_irq's valid_state checks). */
function mark_lock(k: Kernel, t: Task, h: held_lock, bit: number, trace: readonly string[], lockfn: string): boolean {
  const c = h.class;
  if (c.usage_mask & (1 << bit)) return true;
  c.usage_mask |= 1 << bit;
  c.usage_traces[bit] = usage_trace(k, trace);
  const excl = exclusive_bit(bit);
  if (c.usage_mask & (1 << excl)) {
    print_usage_bug(k, t, h, excl, bit, lockfn);
    return false;
  }
  // A write usage conflicts with the opposite read usage too ("read in write" conflicts).
  if ((bit & READ) === 0 && c.usage_mask & (1 << (excl + READ))) {
    print_usage_bug(k, t, h, excl + READ, bit, lockfn);
    return false;
  }
  return true;
}

/** mark_irqflags() / mark_usage(): where the class is used (write or read), and with which interrupts on; false after a report. */
function mark_usage(k: Kernel, t: Task, h: held_lock, pc: number, hardirqs_on: boolean, trace: readonly string[], lockfn: string): boolean {
  const rd = h.read !== 0 ? READ : 0;
  if (!h.trylock) {
    if (hardirq_count(pc) !== 0 && !mark_lock(k, t, h, USED_IN_HARDIRQ + rd, trace, lockfn)) return false;
    if ((pc & SOFTIRQ_OFFSET) !== 0 && !mark_lock(k, t, h, USED_IN_SOFTIRQ + rd, trace, lockfn)) return false;
  }
  if (hardirqs_on) {
    if (!mark_lock(k, t, h, ENABLED_HARDIRQ + rd, trace, lockfn)) return false;
    if (softirq_count(pc) === 0 && !mark_lock(k, t, h, ENABLED_SOFTIRQ + rd, trace, lockfn)) return false;
  }
  return true;
}

/**
 * check_deadlock(): the class already held by this task. Read after read is allowed when the
 * new acquisition is a recursive read (2.6.34: and then no dependency is added at all, "2").
 * Returns 0 after a report, 1 to go on, 2 for 2.6.34's recursive read.
 */
function check_deadlock(k: Kernel, t: Task, held: readonly held_lock[], h: held_lock, lockfn: string): number {
  for (const prev of held) {
    if (prev.class !== h.class) continue;
    if (h.read === 2 && prev.read !== 0) {
      if (k.config.era === "2.6") return 2;
      continue;
    }
    print_deadlock_bug(k, t, h, prev, lockfn); // validate_chain runs before the new lock counts as held
    return 0;
  }
  return 1;
}

/**
 * check_prev_add(): the dependency prev -> next, checked for a cycle when it is new (6.1: new of
 * its kind) and recorded (2.6.34 records none made by a recursive read). False after a report.
 */
function check_prev_add(k: Kernel, t: Task, prev: held_lock, next: held_lock, trace: readonly string[], lockfn: string): boolean {
  const era6 = k.config.era === "6";
  const dep = era6 ? 1 << ((prev.read === 0 ? 1 : 0) + (next.read !== 2 ? 2 : 0)) : DEP_EN;
  const known = prev.class.after.get(next.class);
  if (known !== undefined && (known.dep & dep) !== 0) return true;
  const path = find_path(k, next, prev);
  if (path !== null) {
    print_circular_bug(k, t, next, prev, path, lockfn);
    return false;
  }
  if (!era6 && next.read === 2) return true;
  if (known !== undefined) known.dep |= dep;
  else prev.class.after.set(next.class, { trace, dep });
  return true;
}

/** check_prevs_add(): from the nearest held lock of this irq context (2.6.34 jumps over held recursive readers), up to the first non-trylock one. */
function check_prevs_add(k: Kernel, t: Task, held: readonly held_lock[], h: held_lock, trace: readonly string[], lockfn: string): void {
  const era26 = k.config.era === "2.6";
  for (let i = held.length - 1; i >= 0 && held[i]!.irq_context === h.irq_context; i--) {
    const prev = held[i]!;
    if (era26 && prev.read === 2) continue;
    if (!check_prev_add(k, t, prev, h, trace, lockfn)) return;
    if (!prev.trylock) break;
  }
}

/** look_up_lock_class()'s check of the subclass (a lockdep report of its own, then lockdep is off). */
function bad_subclass(k: Kernel, subclass: number, lockfn: string): void {
  k.debug_locks = false;
  const text = [`BUG: looking up invalid subclass: ${subclass}`, "turning off the locking correctness validator.", ...dump_stack(k.this_ctx(), lockdep_frames(lockfn, "register_lock_class", "look_up_lock_class"))];
  k.report("lockdep", text.join("\n"));
}

/**
 * lock_acquire(): lockdep's view of taking `lock` (named `name`) with `lockfn`
 * ("_raw_spin_lock", "mutex_lock_nested" ..., "" for an inlined lock function) from the current
 * context, before it spins or sleeps; `trylock` for a successful trylock; `read` 0 for a write
 * (exclusive) acquisition, 1 a non-recursive read, 2 a recursive read; `subclass` as
 * spin_lock_nested gives it; `irqs_off` when the acquisition is made with interrupts off
 * whatever the CPU's flag says (seqcount_lockdep_reader_access's local_irq_save).
 */
export function lock_acquire(k: Kernel, lock: object, name: string, kind: LockKind, lockfn: string, trylock = false, read = 0, subclass = 0, irqs_off = false): void {
  const s = lockdep_on(k);
  if (s === undefined) return;
  if (subclass >= MAX_LOCKDEP_SUBCLASSES) return bad_subclass(k, subclass, lockfn);
  const t = k.this_cpu().curr;
  const pc = k.this_cpu().preempt_count;
  const irq_context = 2 * (hardirq_count(pc) !== 0 ? 1 : 0) + ((pc & SOFTIRQ_OFFSET) !== 0 ? 1 : 0);
  let instance = s.instances.get(lock);
  if (instance === undefined) s.instances.set(lock, (instance = s.instances.size));
  const frames = k.this_ctx().frames;
  const h: held_lock = { class: class_of(s, name, kind, subclass), lock, irq_context, at: frames[frames.length - 1] ?? "?", trylock, read, instance };
  const held = held_of(s, t);
  const trace = acquire_trace(k, lockfn);
  if (mark_usage(k, t, h, pc, k.this_cpu().hw.irqs_enabled && !irqs_off, trace, lockfn) && !trylock) {
    const ret = check_deadlock(k, t, held, h, lockfn);
    if (ret === 1) check_prevs_add(k, t, held, h, trace, lockfn);
  }
  held.push(h);
}

/** lock_release(): the lock (the instance) leaves the current task's held stack. */
export function lock_release(k: Kernel, lock: object): void {
  const s = states.get(k);
  if (s === undefined) return;
  const held = s.held.get(k.this_cpu().curr);
  if (held === undefined) return;
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i]!.lock === lock) {
      held.splice(i, 1);
      return;
    }
  }
}

/** The usage characters of a lock class as held-lock listings print them ("{....}" before any use). */
export function lockdep_usage(k: Kernel, name: string, subclass = 0): string | undefined {
  const c = states.get(k)?.classes[subclass]?.get(name);
  return c === undefined ? undefined : usage_chars(k, c);
}
