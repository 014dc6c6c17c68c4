// include/linux/sched.h reduced to what the simulator needs of struct task_struct: pid, comm,
// state, the CPU it last ran on, its saved preempt_count and its execution context (one fiber).
import type { ExecContext } from "../context.ts";
import type { mm_struct } from "../mm/mm_types.ts";

/** TASK_RUNNING (0, both eras): running or on a run queue, ready to run. */
export const TASK_RUNNING = 0;
/**
 * TASK_INTERRUPTIBLE (1, both eras): asleep until woken or a signal comes (mmsim's only signal is
 * the OOM killer's SIGKILL, which wakes it); `ps` shows "S".
 */
export const TASK_INTERRUPTIBLE = 1;
/**
 * TASK_UNINTERRUPTIBLE (2, both eras): asleep until woken, signals or not; `ps` shows "D", and the
 * hung-task detector reports a task left in it too long (not one with a timeout).
 */
export const TASK_UNINTERRUPTIBLE = 2;
export const TASK_DEAD = 64;
/** The states wake_up_process() and wake_up() wake. */
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

export type TaskState = typeof TASK_RUNNING | typeof TASK_INTERRUPTIBLE | typeof TASK_UNINTERRUPTIBLE | typeof TASK_DEAD;

/** The letter `ps` and the sched_switch tracepoint print for a state. */
export function task_state_char(state: TaskState): string {
  switch (state) {
    case TASK_RUNNING:
      return "R";
    case TASK_INTERRUPTIBLE:
      return "S";
    case TASK_UNINTERRUPTIBLE:
      return "D";
    default:
      return "X";
  }
}

// task->flags (include/linux/sched.h, 2.6.34 values).
export const PF_EXITING = 0x00000004;
export const PF_MEMALLOC = 0x00000800;
export const PF_KSWAPD = 0x00040000;
export const PF_KTHREAD = 0x00200000;

/**
 * struct task_struct reduced: pid, comm, state, flags, the CPU it last ran on, its saved
 * preempt_count, its mm (null for a kernel thread) and its execution context; kthread_run() and the
 * scenario's processes make them. Fields past Linux's are the simulator's.
 */
export class Task {
  /** task->flags (PF_*). */
  flags = 0;
  /** The address space of a user process; null for kernel threads. */
  mm: mm_struct | null = null;
  /** TIF_MEMDIE: chosen by the OOM killer, may use the memory reserves to exit. */
  memdie = false;
  /** A SIGKILL is pending (fatal_signal_pending). */
  sigkill = false;
  /** 6.x kmap_local_page mappings (the pages), innermost last. */
  kmap_local: number[] | undefined;
  /** migrate_disable() depth: while non-zero the task stays on its CPU. */
  migrate_disabled = 0;
  /**
   * rcu_read_lock() nesting (current->rcu_read_lock_nesting under CONFIG_PREEMPT_RCU; in every
   * configuration also what lockdep's rcu_lock_map holds for the task). src/kernel/rcu/.
   */
  rcu_read_lock_nesting = 0;
  /** rcu_read_unlock_special.b.blocked: preempted inside a read-side section (on the blocked-readers list). */
  rcu_blocked = false;
  /** The blocked reader holds up the grace period in progress (rnp->gp_tasks). */
  rcu_blocks_gp = false;
  /** Where each rcu_read_lock() of the task was taken and after how many held locks (held-lock listings); made on first use. */
  rcu_lock_at: string[] | undefined;
  rcu_lock_pos: number[] | undefined;
  state: TaskState = TASK_RUNNING;
  /** CPU the task last ran on (or is queued on). */
  cpu = 0;
  /** True while the task is queued on a run queue or running. */
  on_rq = false;
  /** preempt_count saved at a context switch (x86 keeps it per CPU and swaps it). */
  saved_preempt_count = 0;
  /** Ticks left in the current time slice. */
  time_slice = 0;
  /** Virtual time the task last left the CPU (for the hung-task detector). */
  last_switch = 0;
  /** True while asleep in schedule_timeout (a timer will wake it). */
  has_timeout = false;
  nvcsw = 0;
  nivcsw = 0;
  /** Set when the task exited. */
  exit_code: number | undefined;
  ctx!: ExecContext;
  /** The run's trace ids of "comm-pid" and of comm (Kernel.who, Kernel.comm), once interned. */
  trace_who = -1;
  trace_comm = -1;

  constructor(
    readonly pid: number,
    readonly comm: string,
    /** CPUs the task may run on; empty means all. */
    readonly cpus_allowed: readonly number[],
    /** Tasks the scenario started; the run is over when all of them have exited. */
    readonly scenario: boolean,
  ) {}
}
