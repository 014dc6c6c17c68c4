// Per-CPU kernel state: the context stack, preempt_count, the run queue, pending softirqs and
// tasklet lists, and time accounting by context.
import type { Cpu } from "../hw/cpu.ts";
import type { ExecContext } from "./context.ts";
import type { Task } from "./sched/task.ts";
import type { mm_struct } from "./mm/mm_types.ts";
import type { tasklet_struct } from "./softirq.ts";

import type { Effect } from "effect/Effect";
import { HARDIRQ_MASK, NMI_MASK, SOFTIRQ_OFFSET } from "./preempt.ts";

/** A function queued for this CPU by smp_call_function_single(). */
export interface CallSingleData {
  readonly func: (info: unknown) => Effect<void>;
  readonly info: unknown;
  done: boolean;
}

export interface CpuTimes {
  task: number;
  softirq: number;
  hardirq: number;
  spin: number;
  idle: number;
}

export class PerCpu {
  /** Contexts on this CPU: the running task's (if any) at the bottom, interrupts above. */
  readonly stack: ExecContext[] = [];
  /** Interrupt contexts that ended cleanly (no lock held), kept for the next interrupts here. */
  readonly irq_pool: ExecContext[] = [];
  preempt_count = 0;
  need_resched = false;
  /** The task running here (the idle task when none is). */
  curr: Task;
  /** Runnable tasks waiting for this CPU, in FIFO order. */
  readonly rq: Task[] = [];
  softirq_pending = 0;
  readonly tasklet_vec: tasklet_struct[] = [];
  readonly tasklet_hi_vec: tasklet_struct[] = [];
  ksoftirqd: Task | null = null;
  readonly call_single_queue: CallSingleData[] = [];
  /** Last virtual time this CPU scheduled or idled (the soft-lockup watchdog's touch_ts). */
  touch_ts = 0;
  softlockup_reported = false;
  readonly times: CpuTimes = { task: 0, softirq: 0, hardirq: 0, spin: 0, idle: 0 };
  irqs = 0;
  softirqs = 0;
  context_switches = 0;
  /**
   * The address space whose page table CR3 holds (cpu_tlbstate.active_mm), null for init_mm's
   * swapper_pg_dir. A kernel thread keeps the previous one (lazy TLB mode).
   */
  active_mm: mm_struct | null = null;
  /** 6.1 cpu_tlbstate.ctxs[0].tlb_gen: the active mm's tlb_gen this CPU's TLB has caught up to. */
  loaded_tlb_gen = 0;

  constructor(readonly hw: Cpu, readonly idle: Task) {
    this.curr = idle;
  }

  get id(): number {
    return this.hw.id;
  }

  /** Accounts `ns` to the kind of context running here (context_kind() inlined: no property named by a string). */
  account(ns: number): void {
    const count = this.preempt_count;
    const t = this.times;
    if ((count & (HARDIRQ_MASK | NMI_MASK)) !== 0) t.hardirq += ns;
    else if ((count & SOFTIRQ_OFFSET) !== 0) t.softirq += ns;
    else t.task += ns;
  }

  top(): ExecContext | undefined {
    // Not stack[length - 1] on an empty stack: a load at index -1 is a property lookup that
    // turns the site megamorphic (slower for every later call).
    const s = this.stack;
    const n = s.length;
    return n > 0 ? s[n - 1] : undefined;
  }

  /** No context at all: the idle task is running. */
  isIdle(): boolean {
    return this.stack.length === 0;
  }
}
