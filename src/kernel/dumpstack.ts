// dump_stack() and lockdep's held-locks listing, over the simulator's call frames: function
// names only (no addresses or offsets), innermost first, an interrupt's frames above the
// interrupted context's with "<EOI>" between them as on x86. The header is 2.6's
// "Pid: N, comm: C Not tainted R #1" or, for kernel 6, "CPU: N PID: N Comm: C Not tainted R #1"
// with the trace framed by <TASK> ... </TASK> (no "Hardware name:" line).
import type { ExecContext } from "./context.ts";
import { kernel, type Kernel } from "./kernel.ts";
import type { Task } from "./sched/task.ts";

export const UTS_RELEASE = "2.6.34-mmsim";
export const uts_release = (era: "2.6" | "6"): string => (era === "2.6" ? UTS_RELEASE : "6.1.0-mmsim");

export function dump_stack(ctx: ExecContext, inner: readonly string[]): string[] {
  const cur = ctx.cpu.curr;
  const era = kernel_era();
  const out =
    era === "2.6"
      ? [`Pid: ${cur.pid}, comm: ${cur.comm} Not tainted ${UTS_RELEASE} #1`, "Call Trace:"]
      : [`CPU: ${ctx.cpu.id} PID: ${cur.pid} Comm: ${cur.comm} Not tainted ${uts_release(era)} #1`, "Call Trace:", " <TASK>"];
  const stack = ctx.cpu.stack;
  let i = stack.indexOf(ctx);
  const frames = [...ctx.frames, ...inner];
  for (let f = frames.length - 1; f >= 0; f--) out.push(` ${frames[f]}`);
  while (--i >= 0) {
    out.push(" <EOI>");
    const below = stack[i]!.frames;
    for (let f = below.length - 1; f >= 0; f--) out.push(` ${below[f]}`);
  }
  if (era === "6") out.push(" </TASK>");
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

/** lockdep_print_held_locks(): "N locks held by comm/pid:" and one line per lock. */
export function print_held_locks(k: Kernel, p: Task): string[] {
  const held = contexts_of(k, p).flatMap((c) => c.held);
  if (held.length === 0) return [`no locks held by ${p.comm}/${p.pid}.`];
  const out = [`${held.length} lock${held.length > 1 ? "s" : ""} held by ${p.comm}/${p.pid}:`];
  held.forEach((l, i) => out.push(` #${i}:  (${l.name}){....}, at: ${l.acquired_by}`));
  return out;
}
