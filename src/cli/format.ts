// Text and JSON renderings of a run's result.
import type { RunResult } from "../harness/run.ts";
import { format_trace_record } from "../sim/trace.ts";
import { format_swarm } from "../harness/swarm.ts";
import type { LabelledDecision } from "../harness/decisions.ts";

const ms = (ns: number): string => (ns / 1e6).toFixed(3);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd());
}

export function formatSummary(r: RunResult): string[] {
  const out: string[] = [];
  out.push("", `--- summary: ${r.scenario}, seed ${String(r.seed)}, ${r.cpus} CPUs ---`);
  if (r.swarm !== undefined) out.push(`swarm: ${format_swarm(r.swarm)}`);
  out.push(`end: ${r.stop} at ${(r.virtualTimeNs / 1e9).toFixed(6)} s virtual, ${r.steps} steps`);
  out.push("", "time per CPU (ms):");
  out.push(
    ...table([
      ["CPU", "task", "softirq", "hardirq", "spin", "idle", "irqs", "softirqs", "ctxsw"],
      ...r.stats.cpus.map((c) => [
        `CPU${c.cpu}`,
        ms(c.task_ns),
        ms(c.softirq_ns),
        ms(c.hardirq_ns),
        ms(c.spin_ns),
        ms(c.idle_ns),
        String(c.irqs),
        String(c.softirqs),
        String(c.context_switches),
      ]),
    ]).map((l) => `  ${l}`),
  );
  if (r.stats.locks.length > 0) {
    out.push("", "lock statistics (as /proc/lock_stat, times in ns):");
    out.push(
      ...table([
        ["class name", "contentions", "waittime-max", "waittime-total", "acquisitions", "holdtime-max", "holdtime-total"],
        ...r.stats.locks.map((l) => [
          l.name,
          String(l.contentions),
          String(l.wait_max_ns),
          String(l.wait_total_ns),
          String(l.acquisitions),
          String(l.hold_max_ns),
          String(l.hold_total_ns),
        ]),
      ]).map((l) => `  ${l}`),
    );
  }
  if (r.stats.irqs.length > 0) {
    out.push("", "interrupts:");
    for (const i of r.stats.irqs) out.push(`  ${String(i.irq).padStart(3)}: ${String(i.count).padStart(8)}  ${i.name}`);
  }
  if (r.stats.cpus.some((c) => c.tlb.hits + c.tlb.misses + c.cache.hits + c.cache.misses > 0)) {
    out.push("", "memory accesses per CPU:");
    out.push(
      ...table([
        ["CPU", "tlb-hits", "tlb-misses", "tlb-flushes", "cache-hits", "cache-misses", "invalidations", "bounces", "false-sharing"],
        ...r.stats.cpus.map((c) => [`CPU${c.cpu}`, ...[c.tlb.hits, c.tlb.misses, c.tlb.flushes, c.cache.hits, c.cache.misses, c.cache.invalidations, c.cache.bounces, c.cache.false_sharing].map(String)]),
      ]),
    );
  }
  const mm = r.stats.mm;
  if (mm !== undefined) {
    const v = mm.vmstat;
    const sum = (prefix: string) => Object.entries(v).filter(([n]) => n.startsWith(prefix)).reduce((a, [, x]) => a + x, 0);
    out.push("", "memory:");
    out.push(`  free pages: ${Object.entries(mm.free).map(([z, n]) => `${z} ${n}`).join(", ")}`);
    out.push(
      `  pgalloc ${sum("pgalloc_")}, pgfree ${v.pgfree}, pgscan ${sum("pgscan_kswapd") + sum("pgscan_direct")}, pgsteal ${v.pgsteal_kswapd !== undefined ? v.pgsteal_kswapd + v.pgsteal_direct! : sum("pgsteal_")}, allocstall ${sum("allocstall")},` +
        ` kswapd woken ${mm.kswapd_wakeups} times, allocation failures ${mm.alloc_failures}, OOM kills ${mm.oom_kills}`,
    );
  }
  out.push("", r.reports.length === 0 ? "reports: none" : `reports: ${r.reports.length}`);
  for (const rep of r.reports) out.push(`  [${rep.kind}] ${rep.title}`);
  if (r.expectations.length > 0) {
    out.push("expectations failed:");
    for (const e of r.expectations) out.push(`  ${e}`);
  }
  return out;
}

/** The last `tail` trace events, as ftrace prints them. */
export function formatTrace(r: RunResult, tail: number): string[] {
  if (tail <= 0) return [];
  const shown = r.trace.slice(-tail);
  return ["", `--- trace: last ${shown.length} of ${r.traceEvents} events ---`, ...shown.map(format_trace_record)];
}

export function formatRun(r: RunResult, traceTail = 0): string {
  return [...r.log, ...formatTrace(r, traceTail), ...formatSummary(r), `trace-hash: ${r.traceHash}`].join("\n");
}

export function runJson(r: RunResult): object {
  return {
    scenario: r.scenario,
    seed: r.seed,
    cpus: r.cpus,
    traceHash: r.traceHash,
    steps: r.steps,
    virtualTimeNs: r.virtualTimeNs,
    stop: r.stop,
    failed: r.failed,
    reports: r.reports.map((x) => ({ kind: x.kind, title: x.title, text: x.text, cpu: x.cpu, ts: x.ts })),
    expectations: r.expectations,
    stats: r.stats,
    log: r.log,
    ...(r.swarm !== undefined ? { swarm: r.swarm } : {}),
  };
}

/** The labelled decisions of a run, in time order, as lines ("  0.000085  CPU1 takes IRQ 11 ..."). */
export function decision_lines(ds: readonly LabelledDecision[]): string[] {
  return [...ds].sort((a, b) => a.time - b.time).map((d) => `  ${(d.time / 1e9).toFixed(6)}  ${d.text}`);
}
