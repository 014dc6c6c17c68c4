// The simulated kernel's configuration: the CONFIG_ options and sysctls that change behaviour.
export interface KernelConfig {
  /** CONFIG_HZ: timer ticks per second. */
  readonly hz: number;
  /** CONFIG_PREEMPT: preempt kernel code at preempt points and on return from interrupts. */
  readonly preempt: boolean;
  /** CONFIG_DEBUG_SPINLOCK: recursion / wrong owner / already unlocked checks. */
  readonly debug_spinlock: boolean;
  /** CONFIG_DEBUG_ATOMIC_SLEEP: might_sleep()'s "sleeping function called from invalid context". */
  readonly debug_atomic_sleep: boolean;
  /**
   * CONFIG_DEBUG_LIST: list_add/list_del check their neighbours' links (lib/list_debug.c) and
   * warn ("list_del corruption. ..."). Absent (an older caller): on.
   */
  readonly debug_list?: boolean;
  /**
   * CONFIG_DEBUG_PREEMPT: smp_processor_id() (and this_cpu_ptr(), 6.1's __this_cpu_*()) in
   * preemptible code of a task that may migrate reports "BUG: using smp_processor_id() in
   * preemptible [00000000] code" (lib/smp_processor_id.c). Needs CONFIG_PREEMPT. Absent: on.
   */
  readonly debug_preempt?: boolean;
  /** kernel.watchdog: the soft- and hard-lockup detectors. */
  readonly watchdog: boolean;
  /** Scheduler time slice in ms (round-robin between runnable tasks of a CPU). */
  readonly timeslice_ms: number;
  /** kernel.watchdog_thresh (s); a soft lockup is reported after twice this. */
  readonly watchdog_thresh: number;
  /** kernel.hung_task_timeout_secs (0: the hung-task detector is off). */
  readonly hung_task_timeout_secs: number;
  /** The kernel era the machine's memory description names: report headers follow it. */
  readonly era: "2.6" | "6";
  /** Spinlocks write their lock word through the CPU's cache (machine.mmu.detail "locks" or "all"). */
  readonly lock_words?: boolean;
  /** The allocator touches its list heads and struct pages through the cache (machine.mmu.detail "all"). */
  readonly page_touches?: boolean;
}

export const DEFAULT_KERNEL_CONFIG: KernelConfig = {
  hz: 250,
  preempt: true,
  debug_spinlock: true,
  debug_atomic_sleep: true,
  debug_list: true,
  debug_preempt: true,
  watchdog: true,
  timeslice_ms: 100,
  watchdog_thresh: 10,
  hung_task_timeout_secs: 120,
  era: "2.6",
};
