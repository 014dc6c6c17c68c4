// The scenario API: a scenario names its machine, sets up its kernel objects and tasks at boot
// (as a module_init would), and says what must hold at the end.
import type { NicConfig } from "../hw/devices/nic.ts";
import type { DiskConfig } from "../hw/devices/disk.ts";
import type { MemorySpec } from "../kernel/mm/mmzone.ts";
import type { TlbConfig } from "../hw/mmu/tlb.ts";
import type { CacheConfig } from "../hw/mmu/cache.ts";
import type { ReportKind } from "../kernel/report.ts";
import type { Detector } from "../kernel/detector.ts";
import type { DeviceSpec } from "../hw/devices/device.ts";
import type { FaultInjectionSpec } from "../kernel/fault_inject.ts";

/**
 * A NIC on the machine: packets arrive at `rate` per virtual second (a seeded Poisson process,
 * stream "nic/NAME") into a receive ring, each raising IRQ `irq`; the driver's handler reaps the
 * ring (nic(name)).
 */
export interface NicSpec extends NicConfig {
  /** CPUs the line is routed to and how; without it, all CPUs for round-robin, else CPU0. */
  readonly cpus?: readonly number[];
  readonly delivery?: "fixed" | "round-robin";
}

/**
 * A disk on the machine: a submitted request completes after a latency drawn uniformly from
 * [minNs, maxNs] (stream "disk/NAME") and raises IRQ `irq`; the driver's handler reaps the
 * completed tags (disk(name)). `cpus` and `delivery` route the line as NicSpec's do.
 */
export interface DiskSpec extends DiskConfig {
  readonly cpus?: readonly number[];
  readonly delivery?: "fixed" | "round-robin";
}

/** The CPUs' TLB and data-cache geometry, and how much of kernel code's memory traffic goes through them (MachineSpec.mmu). */
export interface MmuSpec {
  /** TLB entries and ways (4 KiB and large pages); defaults 64 / 4 and 32 / 4. */
  readonly tlb?: Partial<TlbConfig>;
  /** Data cache size, ways, line size and policy; defaults 32 KiB, 8, 64, write-back. */
  readonly cache?: Partial<CacheConfig>;
  /**
   * What kernel code touches through the caches besides explicit mem_read/mem_write: "off"
   * (default, plain runs stay fast), "locks" (spinlocks write their lock word, so a contended
   * lock's line bounces between CPUs) or "all" (also the allocator's free-list heads, pcp list
   * heads and struct pages).
   */
  readonly detail?: "off" | "locks" | "all";
}

/**
 * The simulated machine: CPUs, kernel configuration (HZ, preemption, debug options, watchdogs),
 * devices, physical memory and the page allocator (`memory`, which also picks the arch and the
 * kernel era), the MMU, virtual-time costs and fault injection. Every field is optional.
 */
export interface MachineSpec {
  /** 1..64 CPUs (default 2). */
  readonly cpus?: number;
  /** CONFIG_HZ: 100, 250 (default), 300 or 1000. */
  readonly hz?: number;
  /** CONFIG_PREEMPT (default true). */
  readonly preempt?: boolean;
  /** CONFIG_DEBUG_SPINLOCK (default true): "BUG: spinlock recursion" and the other spinlock checks. */
  readonly debug_spinlock?: boolean;
  /** CONFIG_DEBUG_ATOMIC_SLEEP (default true): might_sleep()'s report. */
  readonly debug_atomic_sleep?: boolean;
  /** CONFIG_DEBUG_LIST (default true): list_add/list_del's link checks and "list_del corruption" warnings. */
  readonly debug_list?: boolean;
  /** CONFIG_DEBUG_PREEMPT (default true; only with `preempt`): "BUG: using smp_processor_id() in preemptible [00000000] code". */
  readonly debug_preempt?: boolean;
  /** kernel.watchdog (default true): the soft- and hard-lockup detectors; off, a deadlock hangs the machine until the time limit. */
  readonly watchdog?: boolean;
  readonly timeslice_ms?: number;
  readonly watchdog_thresh?: number;
  /** kernel.hung_task_timeout_secs (default 120; 0 turns the hung-task detector off). */
  readonly hung_task_timeout_secs?: number;
  readonly nics?: readonly NicSpec[];
  readonly disks?: readonly DiskSpec[];
  /** Physical memory and the page allocator; without it the machine has no allocator. */
  readonly memory?: MemorySpec;
  /** The CPUs' TLB and cache geometry, and what kernel code touches through them. */
  readonly mmu?: MmuSpec;
  /**
   * Virtual-time costs in ns, overriding src/hw/costs.ts and the cache model's defaults: step,
   * atomic, line_transfer, irq_entry, softirq_entry, context_switch, wakeup, buddy_op, pcp_op,
   * ipi_send, page_walk; cache_hit, memory, cache_transfer, invalidate, llc_hit.
   */
  readonly costs?: Readonly<Record<string, number>>;
  /**
   * Fault injection at boot (failslab=, fail_page_alloc=): each fault's attributes by their
   * debugfs names, e.g. { failslab: { probability: 10, times: 5 } } (src/kernel/fault_inject.ts).
   */
  readonly fault_injection?: FaultInjectionSpec;
  /** CONFIG_PROVE_LOCKING: lockdep's dependency and irq-usage checks (src/kernel/locking/lockdep.ts). Default off. */
  readonly lockdep?: boolean;
  /** CONFIG_DEBUG_KMEMLEAK: unreferenced objects reported at the end of the run (src/kernel/mm/kmemleak.ts). Default off. */
  readonly kmemleak?: boolean;
  /**
   * CONFIG_KASAN (generic, 6.1): shadow memory, redzones and a quarantine catch out-of-bounds
   * and use-after-free accesses and bad frees (src/kernel/mm/kasan.ts). Needs kernel "6" on
   * x86_64. Default off.
   */
  readonly kasan?: boolean;
}

/** A swarm range: [min, max], whole numbers, both ends included, drawn uniformly. */
export type SwarmRange = readonly [min: number, max: number];
/** A number a swarm draws: uniformly from a range, or one of a list ({ one_of: [16, 64, 1024] }). */
export type SwarmNumber = SwarmRange | { readonly one_of: readonly number[] };
/** A switch a swarm draws: "both" (on or off, even odds), or one of a list ([true, false] is "both"). */
export type SwarmSwitch = "both" | readonly boolean[];

/**
 * Swarm testing (Groce et al., ISSTA 2012): with --swarm each seed draws its own machine from
 * these ranges, from the seed's "swarm" stream before boot, so configurations vary across seeds
 * and a seed always draws the same one. Each field declared draws once a seed, in this order.
 */
export interface SwarmSpec {
  /** CPUs, 1..64. */
  readonly cpus?: SwarmNumber;
  /** machine.memory.mb, 16..65536 (needs machine.memory; replaces a zones layout). */
  readonly mb?: SwarmNumber;
  /** machine.memory.pcp (needs machine.memory). */
  readonly pcp?: SwarmSwitch;
  /** CONFIG_HZ: a range draws among 100, 250, 300, 1000 inside it. */
  readonly hz?: SwarmNumber;
  /** CONFIG_PREEMPT. */
  readonly preempt?: SwarmSwitch;
  /** Per NIC of the machine, by name: its arrival rate (per virtual second), 0..10000000. */
  readonly nics?: Readonly<Record<string, { readonly rate: SwarmNumber }>>;
  /** Per disk of the machine, by name: its latency bounds in ns, 1..1000000000 (maxNs is raised to minNs if drawn below it). */
  readonly disks?: Readonly<Record<string, { readonly minNs?: SwarmNumber; readonly maxNs?: SwarmNumber }>>;
}

/** What a seed drew (only the fields its swarm declared and the command line did not set). */
export interface SwarmConfig {
  readonly cpus?: number;
  readonly mb?: number;
  readonly pcp?: boolean;
  readonly hz?: number;
  readonly preempt?: boolean;
  readonly nics?: Readonly<Record<string, { readonly rate: number }>>;
  readonly disks?: Readonly<Record<string, { readonly minNs: number; readonly maxNs: number }>>;
}

/** What --machine FILE sets: any machine fields, and memory fields laid over the scenario's. */
export type MachineOverride = Omit<MachineSpec, "memory"> & { readonly memory?: Partial<MemorySpec> };

/** What a scenario's check() records failed expectations with; any failed expectation fails the run. */
export interface Expect {
  /** Records a failed expectation unless `cond` holds. */
  that(cond: boolean, message: string): void;
  /** Records "what: expected E, got A" unless actual === expected. */
  equal<T>(actual: T, expected: T, what: string): void;
}

/**
 * A scenario: its name and machine, setup() that runs at boot (creating locks, tasks, IRQ
 * handlers) and returns state of type S, and check() that runs after a run that ended normally;
 * the report kinds it expects, its own detectors and devices.
 */
export interface Scenario<S = unknown> {
  /** Short name used on the command line (letters, digits, '-'). */
  readonly name: string;
  /** One line for `mmsim list`. */
  readonly description: string;
  readonly machine?: MachineSpec;
  /** Ranges a --swarm run draws each seed's machine from (src/harness/swarm.ts); they override `machine`. */
  readonly swarm?: SwarmSpec;
  /** Runs at boot: create locks, tasks (kthread_run), IRQ handlers, tasklets; returns state for check. */
  readonly setup: () => S;
  /** Runs after the run ends; records failed expectations. */
  readonly check?: (state: S, expect: Expect) => void;
  /**
   * Report kinds the scenario produces by design (e.g. "alloc_failure" for a storm that is meant
   * to exhaust the reserves): they are printed but do not fail the run.
   */
  readonly expected_reports?: readonly ReportKind[];
  /** Run for exactly this much virtual time (ms) instead of until every scenario task exits. */
  readonly duration_ms?: number;
  /** The scenario's own detectors (defineDetector, src/kernel/detector.ts): their reports' kinds are their names. */
  readonly detectors?: readonly Detector[];
  /** The scenario's own devices (defineDevice, src/hw/devices/device.ts): interrupt sources with seeded streams of their own. */
  readonly devices?: readonly DeviceSpec<unknown>[];
}

/** A scenario, as given, with its state type S inferred from setup (the identity). */
export function defineScenario<S>(s: Scenario<S>): Scenario<S> {
  return s;
}
