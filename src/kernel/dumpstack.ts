// dump_stack() and lockdep's held-locks listing, over the simulator's call frames: function
// names only (no addresses or offsets), innermost first, an interrupt's frames above the
// interrupted context's. The header is 2.6's "Pid: N, comm: C Not tainted R #1" or, for kernel
// 6, "CPU: N PID: N Comm: C Not tainted R #1" (no "Hardware name:" line). 2.6.34 (x86_64's
// dump_trace) prints " <EOI>" where the trace leaves an interrupt's frames for the interrupted
// ones; 6.1's show_trace_log_lvl() names each stack it walks: the interrupt frames (every
// interrupt context on the CPU, the softirqs run at irq_exit included) between " <IRQ>" and
// " </IRQ>", then the task's between " <TASK>" and " </TASK>". Simplified: 6.1's x86_64 layout
// is used on i386 too (i386 runs softirqs on a separate stack, " <SOFTIRQ>", and its entry
// frames on the task stack); the pt_regs an interrupt saved (the RIP:/register lines 6.1
// prints inside <TASK>) are not modelled.
import type { ExecContext } from "./context.ts";
import { kernel, type Kernel } from "./kernel.ts";
import type { Task } from "./sched/task.ts";
import { lockdep_enabled, lockdep_print_held_locks } from "./locking/lockdep.ts";

export const UTS_RELEASE = "2.6.34-mmsim";
export const uts_release = (era: "2.6" | "6"): string => (era === "2.6" ? UTS_RELEASE : "6.1.0-mmsim");

export function dump_stack(ctx: ExecContext, inner: readonly string[]): string[] {
  const cur = ctx.cpu.curr;
  const era = kernel_era();
  const out =
    era === "2.6"
      ? [`Pid: ${cur.pid}, comm: ${cur.comm} Not tainted ${UTS_RELEASE} #1`, "Call Trace:"]
      : [`CPU: ${ctx.cpu.id} PID: ${cur.pid} Comm: ${cur.comm} Not tainted ${uts_release(era)} #1`, "Call Trace:"];
  // The contexts from `ctx` down to the bottom of the CPU's stack, each innermost frame first.
  const stack = ctx.cpu.stack;
  const contexts: { kind: string; frames: readonly string[] }[] = [{ kind: ctx.kind, frames: [...ctx.frames, ...inner] }];
  for (let i = stack.indexOf(ctx) - 1; i >= 0; i--) contexts.push(stack[i]!);
  const push = (frames: readonly string[]) => {
    for (let f = frames.length - 1; f >= 0; f--) out.push(` ${frames[f]}`);
  };
  if (era === "2.6") {
    contexts.forEach((c, n) => {
      if (n > 0) out.push(" <EOI>");
      push(c.frames);
    });
    return out;
  }
  const irqs = contexts.filter((c) => c.kind === "irq");
  if (irqs.length > 0) {
    out.push(" <IRQ>");
    for (const c of irqs) push(c.frames);
    out.push(" </IRQ>");
  }
  const task = contexts.find((c) => c.kind === "task");
  if (task !== undefined) {
    out.push(" <TASK>");
    push(task.frames);
    out.push(" </TASK>");
  }
  return out;
}

const kernel_era = (): "2.6" | "6" => kernel().config.era;

/**
 * The first line of a WARN(): 2.6.34's "WARNING: at FILE FUNC()" or 6.1's "WARNING: CPU: N PID:
 * P at FILE FUNC" (both without the :line and +offset/size Linux has, which mmsim does not know).
 */
export function warn_header(ctx: ExecContext, file: string, func: string): string {
  return kernel_era() === "2.6" ? `WARNING: at ${file} ${func}()` : `WARNING: CPU: ${ctx.cpu.id} PID: ${ctx.cpu.curr.pid} at ${file} ${func}`;
}

/** A WARN() report: the header, any message lines, and the backtrace through `func`. */
export function warn_text(ctx: ExecContext, file: string, func: string, message: readonly string[] = []): string {
  return [warn_header(ctx, file, func), ...message, ...dump_stack(ctx, [func, message.length > 0 ? "warn_slowpath_fmt" : "warn_slowpath_null"])].join("\n");
}

/** Contexts whose locks lockdep attributes to `p`: all contexts on its CPU if it is running there. */
function contexts_of(k: Kernel, p: Task): ExecContext[] {
  const pc = k.percpu[p.cpu]!;
  if (pc.curr === p) return pc.stack;
  return p.ctx !== undefined ? [p.ctx] : [];
}

/** The held-lock listing of `p`'s locks (lockdep's, or the spinlocks its contexts hold). */
function held_locks_listing(k: Kernel, p: Task): string[] {
  if (lockdep_enabled(k)) return lockdep_print_held_locks(k, p);
  const held = contexts_of(k, p).flatMap((c) => c.held);
  if (held.length === 0) return [`no locks held by ${p.comm}/${p.pid}.`];
  const out = [`${held.length} lock${held.length > 1 ? "s" : ""} held by ${p.comm}/${p.pid}:`];
  held.forEach((l, i) => out.push(` #${i}:  (${l.name}){....}, at: ${l.acquired_by}`));
  return out;
}

/** How many locks `p` holds as its held-lock listing counts them (rcu_read_lock()s aside). */
export function held_lock_count(k: Kernel, p: Task): number {
  if (lockdep_enabled(k)) {
    const lines = lockdep_print_held_locks(k, p);
    return lines.length - 1;
  }
  let n = 0;
  for (const c of contexts_of(k, p)) n += c.held.length;
  return n;
}

/**
 * lockdep_print_held_locks(): "N locks held by comm/pid:" and one line per lock, the task's
 * rcu_read_lock()s (lockdep's rcu_lock_map) among them where it took them: 2.6.34
 * "(rcu_read_lock){.+.+..}", 6.1 "ADDR (rcu_read_lock){....}-{1:2}" (rcu_lock_map at an assumed
 * address, just below lockdep's lock instances), at the function that took it; without lockdep,
 * as the spinlocks, at the locking call.
 */
export function print_held_locks(k: Kernel, p: Task): string[] {
  const lines = held_locks_listing(k, p);
  const n = p.rcu_read_lock_nesting;
  if (n === 0 || p.rcu_lock_at === undefined || p.rcu_lock_pos === undefined) return lines;
  const entries = lines[0]!.startsWith("no locks held") ? [] : lines.slice(1).map((l) => l.replace(/^ #\d+: /, ""));
  for (let i = 0; i < n && i < p.rcu_lock_at.length; i++) {
    entries.splice(Math.min(p.rcu_lock_pos[i]! + i, entries.length), 0, rcu_lock_entry(k, p.rcu_lock_at[i]!));
  }
  return [`${entries.length} lock${entries.length > 1 ? "s" : ""} held by ${p.comm}/${p.pid}:`, ...entries.map((e, i) => ` #${i}: ${e}`)];
}

function rcu_lock_entry(k: Kernel, at: string): string {
  if (!lockdep_enabled(k)) return " (rcu_read_lock){....}, at: rcu_read_lock";
  if (k.config.era === "2.6") return ` (rcu_read_lock){.+.+..}, at: ${at}`;
  const addr = k.mm?.arch === "i386" ? "c17fffc0" : "ffffffff827fffc0";
  return `${addr} (rcu_read_lock){....}-{1:2}, at: ${at}`;
}
