// The run's statistics: per-CPU time by context, per-lock statistics (after /proc/lock_stat),
// interrupts per line and per-task switch counts.
import type { Kernel } from "../kernel/kernel.ts";
import { task_state_char } from "../kernel/sched/task.ts";
import { vmstat_items } from "../kernel/mm/vmstat.ts";

/**
 * Per lock class, as /proc/lock_stat counts them: every lock of one name (lockdep's class, the
 * spin_lock_init site: each zone's &zone->lock, each cache's &l3->list_lock) in one row, in the
 * order the first of each was made.
 */
function lock_classes(k: Kernel): LockStats[] {
  const rows = new Map<string, { -readonly [K in keyof LockStats]: LockStats[K] }>();
  for (const l of k.locks) {
    const r = rows.get(l.name);
    if (r === undefined) {
      rows.set(l.name, { name: l.name, acquisitions: l.acquisitions, contentions: l.contentions, wait_total_ns: l.wait_total, wait_max_ns: l.wait_max, hold_max_ns: l.hold_max, hold_total_ns: l.hold_total });
      continue;
    }
    r.acquisitions += l.acquisitions;
    r.contentions += l.contentions;
    r.wait_total_ns += l.wait_total;
    r.wait_max_ns = Math.max(r.wait_max_ns, l.wait_max);
    r.hold_max_ns = Math.max(r.hold_max_ns, l.hold_max);
    r.hold_total_ns += l.hold_total;
  }
  return [...rows.values()];
}

/**
 * One CPU's share of the run: virtual time (ns) in tasks, softirqs, hardirqs, spinning on locks
 * and idle; interrupts, softirq runs and context switches; its TLB and data-cache counters.
 */
export interface CpuStats {
  readonly cpu: number;
  readonly task_ns: number;
  readonly softirq_ns: number;
  readonly hardirq_ns: number;
  readonly spin_ns: number;
  readonly idle_ns: number;
  readonly irqs: number;
  readonly softirqs: number;
  readonly context_switches: number;
  readonly tlb: { readonly hits: number; readonly misses: number; readonly flushes: number; readonly shootdowns: number };
  readonly cache: { readonly hits: number; readonly misses: number; readonly invalidations: number; readonly bounces: number; readonly false_sharing: number };
}

/**
 * One lock class, as /proc/lock_stat counts it (every lock of that name in one row):
 * acquisitions, contentions, and the total and longest wait and hold times (ns).
 */
export interface LockStats {
  readonly name: string;
  readonly acquisitions: number;
  readonly contentions: number;
  readonly wait_total_ns: number;
  readonly wait_max_ns: number;
  readonly hold_max_ns: number;
  readonly hold_total_ns: number;
}

/** The memory manager at the end of the run (machines with memory only). */
export interface MemStats {
  /** Free pages in the buddy lists per zone, "node/zone" -> pages. */
  readonly free: Readonly<Record<string, number>>;
  /** The era's /proc/vmstat, name -> value. */
  readonly vmstat: Readonly<Record<string, number>>;
  /** Not in Linux's vmstat: times wakeup_kswapd woke a sleeping kswapd, failed allocations, OOM kills. */
  readonly kswapd_wakeups: number;
  readonly alloc_failures: number;
  readonly oom_kills: number;
}

/**
 * The run's statistics (RunResult.stats): per CPU, per lock class, per IRQ line (its handlers'
 * names and count), per task (state and voluntary / involuntary context switches), and the
 * memory manager's when the machine has memory.
 */
export interface RunStats {
  readonly cpus: readonly CpuStats[];
  readonly locks: readonly LockStats[];
  readonly irqs: ReadonlyArray<{ readonly irq: number; readonly name: string; readonly count: number }>;
  readonly tasks: ReadonlyArray<{ readonly pid: number; readonly comm: string; readonly state: string; readonly nvcsw: number; readonly nivcsw: number }>;
  readonly mm?: MemStats;
}

function mem_stats(k: Kernel): MemStats | undefined {
  const mm = k.mm;
  if (mm === null) return undefined;
  return {
    free: Object.fromEntries(mm.zones.filter((z) => z.populated).map((z) => [`${z.node}/${z.name}`, z.free_pages])),
    vmstat: Object.fromEntries(vmstat_items(mm)),
    kswapd_wakeups: mm.ev.kswapd_wakeups,
    alloc_failures: mm.ev.pgalloc_fail,
    oom_kills: mm.ev.oom_kill,
  };
}

function tlb_stats(k: Kernel, cpu: number): CpuStats["tlb"] {
  const t = k.machine.tlbs[cpu]!;
  return { hits: t.hits, misses: t.misses, flushes: t.flushes, shootdowns: t.shootdowns };
}

function cache_stats(k: Kernel, cpu: number): CpuStats["cache"] {
  const c = k.machine.caches.counters(cpu);
  return { hits: c.hits, misses: c.misses, invalidations: c.invalidations, bounces: c.bounces, false_sharing: c.false_sharing };
}

export function collect_stats(k: Kernel): RunStats {
  return {
    cpus: k.percpu.map((pc) => ({
      cpu: pc.id,
      task_ns: pc.times.task,
      softirq_ns: pc.times.softirq,
      hardirq_ns: pc.times.hardirq,
      spin_ns: pc.times.spin,
      idle_ns: pc.times.idle,
      irqs: pc.irqs,
      softirqs: pc.softirqs,
      context_switches: pc.context_switches,
      tlb: tlb_stats(k, pc.id),
      cache: cache_stats(k, pc.id),
    })),
    locks: lock_classes(k),
    irqs: [...k.irq_desc.values()]
      .sort((a, b) => a.irq - b.irq)
      .map((d) => ({ irq: d.irq, name: d.actions.map((a) => a.name).join(",") || "-", count: d.count })),
    tasks: k.tasks.map((t) => ({ pid: t.pid, comm: t.comm, state: task_state_char(t.state), nvcsw: t.nvcsw, nivcsw: t.nivcsw })),
    ...(k.mm !== null ? { mm: mem_stats(k) } : {}),
  };
}
