// kernel/watchdog.c and kernel/hung_task.c, plus a deadlock finder the simulator can afford:
// - When a context starts spinning, the chain "spinner -> lock holder -> what stops the holder"
//   is followed; a cycle is a deadlock no event can break, reported at the virtual time Linux's
//   watchdog would report it (a soft lockup after 2*watchdog_thresh s on a CPU with interrupts on,
//   a hard LOCKUP after watchdog_thresh s on one with interrupts off) and the run ends.
// - The tick's soft-lockup check covers CPUs stuck without a cycle.
// - When nothing at all is left to run or to happen, tasks asleep in D state are reported as hung
//   tasks (at hung_task_timeout_secs), and a run whose tasks can never wake is a stall.
import type { ExecContext } from "./context.ts";
import type { Kernel } from "./kernel.ts";
import type { PerCpu } from "./percpu.ts";
import { TASK_DEAD, TASK_UNINTERRUPTIBLE, task_state_char, type Task } from "./sched/task.ts";
import { HARDIRQ_OFFSET, context_kind } from "./preempt.ts";

const NSEC_PER_SEC = 1e9;

/**
 * What keeps `c` from running: the holder of the lock it spins on; the context above it on its
 * CPU; or, for a runnable task waiting on a run queue, its CPU's running context if that cannot
 * be preempted (preempt_count above 0 or interrupts off).
 */
function blocker(c: ExecContext): ExecContext | null {
  if (c.spinning !== null) return c.spinning.holder;
  const pc = c.cpu;
  const top = pc.top();
  if (pc.stack.includes(c)) return top === c ? null : top!;
  const t = c.task;
  if (t === null || !t.on_rq || top === undefined) return null; // asleep: something may wake it
  return pc.preempt_count !== 0 || !pc.hw.irqs_enabled ? top : null;
}

export function check_spin_deadlock(k: Kernel, start: ExecContext): void {
  const seen: ExecContext[] = [];
  let c: ExecContext | null = start;
  while (c !== null && !seen.includes(c)) {
    seen.push(c);
    c = blocker(c);
  }
  if (c === null) return;
  const cycle = seen.slice(seen.indexOf(c));
  report_lockup(k, cycle);
}

function describe(ctx: ExecContext): string {
  const pc = ctx.cpu;
  const who = ctx.kind === "task" ? `${ctx.task!.comm}/${ctx.task!.pid}` : `${ctx.name} (interrupting ${pc.curr.comm}/${pc.curr.pid})`;
  const held = ctx.held.length > 0 ? `holding ${ctx.held.map((l) => `${l.name} (${l.acquired_by})`).join(", ")}` : "holding no spinlock";
  const spin = ctx.spinning !== null ? `, spinning in ${ctx.spin_by} on ${ctx.spinning.name}` : "";
  return `${who}: ${held}${spin}`;
}

/** Each CPU's contexts, innermost first, with the locks they hold and wait for. */
export function show_cpu_contexts(cpus: readonly PerCpu[]): string[] {
  const out: string[] = [];
  for (const pc of cpus) {
    const kind = context_kind(pc.preempt_count);
    out.push(`CPU#${pc.id} (${kind} context, preempt_count ${pc.preempt_count.toString(16).padStart(8, "0")}, irqs ${pc.hw.irqs_enabled ? "on" : "off"}):`);
    if (pc.stack.length === 0) out.push("  idle");
    for (let i = pc.stack.length - 1; i >= 0; i--) {
      const c = pc.stack[i]!;
      out.push(`  #${pc.stack.length - 1 - i} ${c.kind === "irq" ? "interrupt" : "task"} ${describe(c)}`);
      out.push(`     at ${[...c.frames].reverse().join(" <- ")}`);
    }
  }
  return out;
}

function report_lockup(k: Kernel, cycle: readonly ExecContext[]): void {
  // kernel.watchdog=0: nobody notices; the machine hangs (the run ends at its time limit).
  if (!k.config.watchdog) return;
  const thresh = k.config.watchdog_thresh;
  const cpus = [...new Set(cycle.map((c) => c.cpu))].sort((a, b) => a.id - b.id);
  const now = k.now();
  let last = now;
  for (const pc of cpus) {
    const top = pc.top()!;
    // Stuck since the CPU last scheduled (touch_ts). The soft-lockup watchdog samples every
    // 2*thresh/5 s and reports past 2*thresh s; the NMI watchdog reports past thresh s.
    const soft = pc.hw.irqs_enabled;
    const period = ((2 * thresh) / 5) * NSEC_PER_SEC;
    const limit = (soft ? 2 * thresh : thresh) * NSEC_PER_SEC;
    const at = Math.max(now, (Math.floor((pc.touch_ts + limit) / period) + 1) * period);
    last = Math.max(last, at);
    const secs = Math.floor((at - pc.touch_ts) / NSEC_PER_SEC);
    const cur = pc.curr;
    const title = soft
      ? `watchdog: BUG: soft lockup - CPU#${pc.id} stuck for ${secs}s! [${cur.comm}:${cur.pid}]`
      : `NMI watchdog: Watchdog detected hard LOCKUP on cpu ${pc.id}`;
    const text = [
      title,
      `deadlock: ${cycle.map((c) => (c.spinning ? `${c.name} waits for ${c.spinning.name}` : `${c.name} cannot run`)).join(", ")}`,
      ...show_cpu_contexts(cpus),
      "Call Trace:",
      ...[...top.frames].reverse().map((f) => ` ${f}`),
    ].join("\n");
    k.report(soft ? "soft_lockup" : "hard_lockup", text, { ts: at, cpu: pc.id });
  }
  k.halt(last, `lockup on CPU${cpus.map((c) => c.id).join(",")}`);
}

/**
 * The tick's soft-lockup check (watchdog_timer_fn): the CPU is "touched" when it idles or when
 * the watchdog thread could run (the interrupted task is preemptible); a CPU untouched for
 * 2*watchdog_thresh s is reported, and the run ends.
 */
export function softlockup_tick(k: Kernel, pc: PerCpu): void {
  if (pc.softlockup_reported || !k.config.watchdog) return;
  const below = pc.stack.length >= 2 ? pc.stack[pc.stack.length - 2]! : undefined;
  const preemptible =
    below === undefined ||
    (pc.stack.length === 2 && below.kind === "task" && below.spinning === null && k.config.preempt && pc.preempt_count === HARDIRQ_OFFSET);
  if (preemptible) {
    pc.touch_ts = pc.hw.clock;
    return;
  }
  const stuck = pc.hw.clock - pc.touch_ts;
  if (stuck <= 2 * k.config.watchdog_thresh * NSEC_PER_SEC) return;
  pc.softlockup_reported = true;
  const cur = pc.curr;
  const text = [
    `watchdog: BUG: soft lockup - CPU#${pc.id} stuck for ${Math.floor(stuck / NSEC_PER_SEC)}s! [${cur.comm}:${cur.pid}]`,
    ...show_cpu_contexts([pc]),
  ].join("\n");
  k.report("soft_lockup", text);
  k.halt(pc.hw.clock, `soft lockup on CPU${pc.id}`);
}

/**
 * Nothing is runnable and no event is pending: report tasks hung in D state (at the time the
 * hung-task detector would), spinners that can never get their lock, or a stall.
 */
export function on_idle(k: Kernel): void {
  const spinners = k.percpu.filter((pc) => pc.top()?.spinning != null);
  if (spinners.length > 0) {
    const pc = spinners[0]!;
    if (k.config.watchdog) return report_lockup(k, [pc.top()!]);
    const who = spinners.map((p) => `CPU${p.id} on ${p.top()!.spinning!.name}`).join(", ");
    k.report("stall", `mmsim: run stalled: ${who} spinning with nothing left to release the lock (the watchdog is off)`, { ts: k.engine.now, cpu: pc.id });
    k.halt(k.engine.now, "stalled");
    return;
  }
  const timeout = k.config.hung_task_timeout_secs * NSEC_PER_SEC;
  const hung = k.tasks.filter((t) => t.state === TASK_UNINTERRUPTIBLE && !t.has_timeout);
  if (hung.length > 0 && timeout > 0) {
    report_hung(k, hung, Math.max(k.engine.now, ...hung.map((t) => t.last_switch + timeout)));
    return;
  }
  const asleep = k.tasks.filter((t) => t.scenario && t.state !== TASK_DEAD);
  if (asleep.length > 0) {
    const names = asleep.map((t) => `${t.comm}/${t.pid} (${task_state_char(t.state)})`).join(", ");
    k.report("stall", `mmsim: run stalled: ${names} asleep with nothing left to wake them`, { ts: k.engine.now, cpu: 0 });
    k.halt(k.engine.now, "stalled");
    return;
  }
  k.engine.stop({ kind: "done" });
}

/**
 * The hard-lockup (NMI) watchdog: when a CPU clears its interrupt flag, a check is armed for
 * watchdog_thresh s later; if the flag has stayed clear since, the CPU is reported and the run
 * ends. (Linux samples hrtimer interrupts from a perf NMI every watchdog_thresh s.)
 */
export function install_nmi_watchdog(k: Kernel): void {
  if (!k.config.watchdog) return;
  const armed = k.percpu.map(() => false);
  // Called every time a CPU clears IF: the check is armed in a function of its own, as the
  // closure it schedules would otherwise cost every call a context object.
  const arm = (pc: PerCpu): void => {
    if (armed[pc.id]) return;
    armed[pc.id] = true;
    arm_check(pc, pc.hw.irqs_off_since);
  };
  const arm_check = (pc: PerCpu, since: number): void => {
    const at = Math.max(since + k.config.watchdog_thresh * NSEC_PER_SEC, k.engine.now);
    k.engine.at(at, 4, `nmi-watchdog/${pc.id}`, () => {
      armed[pc.id] = false;
      if (pc.hw.irqs_enabled || k.halted) return;
      if (pc.hw.irqs_off_since !== since) return arm(pc); // off again since: a new period
      const text = ["NMI watchdog: Watchdog detected hard LOCKUP on cpu " + pc.id, ...show_cpu_contexts([pc])];
      const top = pc.top();
      if (top !== undefined) text.push("Call Trace:", ...[...top.frames].reverse().map((f) => ` ${f}`));
      k.report("hard_lockup", text.join("\n"), { ts: at, cpu: pc.id });
      k.halt(at, `hard lockup on CPU${pc.id}`);
    }, true, true);
  };
  for (const pc of k.percpu) pc.hw.onIrqsOff = () => arm(pc);
}

/** khungtaskd: every hung_task_timeout_secs, tasks in D state that have not run since are reported. */
export function start_khungtaskd(k: Kernel): void {
  const period = k.config.hung_task_timeout_secs * NSEC_PER_SEC;
  if (period <= 0) return; // "echo 0 > /proc/sys/kernel/hung_task_timeout_secs"
  const check = (): void => {
    if (k.halted) return;
    const now = k.engine.now;
    const hung = k.tasks.filter((t) => t.state === TASK_UNINTERRUPTIBLE && !t.has_timeout && now - t.last_switch >= period);
    if (hung.length > 0) {
      report_hung(k, hung, now);
      return;
    }
    k.engine.at(now + period, 5, "khungtaskd", check, true, true);
  };
  k.engine.at(k.engine.now + period, 5, "khungtaskd", check, true, true);
}

function report_hung(k: Kernel, hung: readonly Task[], at: number): void {
  for (const t of hung) {
    const text = [
      `INFO: task ${t.comm}:${t.pid} blocked for more than ${k.config.hung_task_timeout_secs} seconds.`,
      `"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`,
      `${t.comm.padEnd(15)} ${task_state_char(t.state)} ${String(t.pid).padStart(5)}`,
      ...[...t.ctx.frames, "schedule"].reverse().map((f) => ` ${f}`),
    ].join("\n");
    k.report("hung_task", text, { ts: at, cpu: t.cpu });
  }
  k.halt(at, "hung tasks");
}
