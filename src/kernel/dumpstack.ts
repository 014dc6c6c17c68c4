// dump_stack() and lockdep's held-locks listing, over the simulator's call frames: function
// names only (no addresses or offsets), innermost first, an interrupt's frames above the
// interrupted context's with "<EOI>" between them as on x86.
import type { ExecContext } from "./context.ts";
import type { Kernel } from "./kernel.ts";
import type { Task } from "./sched/task.ts";

export const UTS_RELEASE = "2.6.34-mmsim";

export function dump_stack(ctx: ExecContext, inner: readonly string[]): string[] {
  const cur = ctx.cpu.curr;
  const out = [`Pid: ${cur.pid}, comm: ${cur.comm} Not tainted ${UTS_RELEASE} #1`, "Call Trace:"];
  const stack = ctx.cpu.stack;
  let i = stack.indexOf(ctx);
  const frames = [...ctx.frames, ...inner];
  for (let f = frames.length - 1; f >= 0; f--) out.push(` ${frames[f]}`);
  while (--i >= 0) {
    out.push(" <EOI>");
    const below = stack[i]!.frames;
    for (let f = below.length - 1; f >= 0; f--) out.push(` ${below[f]}`);
  }
  return out;
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
