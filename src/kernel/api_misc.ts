// printk, BUG/WARN and the device look-ups scenarios use; might_sleep() for scenario code; the
// machine's counters and cost table for scenarios that measure.
import type { DeviceSpec } from "../hw/devices/device.ts";
import { set_make_it_fail } from "./fault_inject.ts";
import { kmemleak_not_leak as kmemleak_not_leak_k, kmemleak_scan as kmemleak_scan_k } from "./mm/kmemleak.ts";
import * as Effect from "effect/Effect";
import { kernel } from "./kernel.ts";
import { __might_sleep } from "./sched/core.ts";
import { dump_stack } from "./dumpstack.ts";
import { ScenarioBug } from "./bug.ts";
import { trace_printk } from "./trace.ts";
import { ScenarioError } from "../sim/errors.ts";
import type { Nic } from "../hw/devices/nic.ts";
import type { Disk } from "../hw/devices/disk.ts";
import { COST_KEYS } from "../hw/costs.ts";
import { CACHE_COST_KEYS } from "../hw/mmu/cache.ts";

/** printk(): one line (or several) in the log, stamped with virtual time and CPU. */
export function printk(text: string): void {
  kernel().printk(text);
  trace_printk(text);
}
/** pr_info(text): printk(KERN_INFO text). Context: any; never sleeps. mmsim keeps no log levels: the same as printk. */
export const pr_info = printk;

/** might_sleep() called by scenario code: reported at the scenario's name. */
export function might_sleep(where = "scenario"): void {
  __might_sleep(where, 0, 0);
}

/** BUG(): prints "kernel BUG at ..." and stops the machine. */
export const BUG = (where: string): Effect.Effect<never> =>
  Effect.suspend(() => {
    const k = kernel();
    const text = [`kernel BUG at ${where}!`, ...dump_stack(k.this_ctx(), ["BUG"])].join("\n");
    k.report("bug", text);
    return Effect.die(new ScenarioBug(`kernel BUG at ${where}`));
  });

/**
 * BUG_ON(cond, where): BUG(where) if `cond` holds: "kernel BUG at WHERE!" with a backtrace (a
 * "bug" report), and the machine stops as a panic would. Context: any.
 */
export const BUG_ON = (cond: boolean, where: string): Effect.Effect<void> => (cond ? BUG(where) : Effect.void);

/** WARN_ON(): prints a warning with a backtrace once per call site name and goes on. */
export function WARN_ON(cond: boolean, where: string): boolean {
  if (!cond) return false;
  const k = kernel();
  const text = [k.config.era === "2.6" ? `WARNING: at ${where}` : `WARNING: CPU: ${k.this_cpu().id} PID: ${k.this_cpu().curr.pid} at ${where}`, ...dump_stack(k.this_ctx(), ["warn_slowpath_null"])].join("\n");
  k.report("bug", text);
  return true;
}

/** The machine's NIC named `name` (machine.nics), for a driver's interrupt handler to reap its ring; throws a ScenarioError if there is none. */
export function nic(name: string): Nic {
  const n = kernel().machine.nics.find((d) => d.config.name === name);
  if (n === undefined) throw new ScenarioError(`no NIC named "${name}" on this machine`);
  return n;
}

/** The run's instance of a scenario's own device (defineDevice; its `devices`). */
export function device<D>(spec: DeviceSpec<D>): D {
  const d = kernel().machine.devices.get(spec.name);
  if (d === undefined || d.spec !== spec) throw new ScenarioError(`no device "${spec.name}" on this machine (list it in the scenario's devices)`);
  return d.device as D;
}

/** The machine's disk named `name` (machine.disks), to submit requests and reap completions; throws a ScenarioError if there is none. */
export function disk(name: string): Disk {
  const d = kernel().machine.disks.find((x) => x.config.name === name);
  if (d === undefined) throw new ScenarioError(`no disk named "${name}" on this machine`);
  return d;
}

/** The kernel era the machine runs ("2.6" or "6"), for scenarios whose expectations differ. */
export const kernel_era = (): "2.6" | "6" => kernel().config.era;

/** CONFIG_X86_PAE on this machine (i386 with `pae`): three-level tables, one kernel PMD shared by every pgd. */
export const kernel_pae = (): boolean => kernel().mm?.dm.pae ?? false;

/** ktime_get_ns(): the current CPU's virtual time in ns. */
export const ktime_get_ns = (): number => kernel().now();

/**
 * The machine's virtual-time costs in ns, by the machine file's `costs` keys (`page_walk`,
 * `cache_hit`, `memory`, ...): what a scenario derives its expected times from.
 */
export function machine_costs(): Readonly<Record<string, number>> {
  const k = kernel();
  const out: Record<string, number> = {};
  for (const [key, field] of Object.entries(COST_KEYS)) out[key] = k.costs[field];
  for (const [key, field] of Object.entries(CACHE_COST_KEYS)) out[key] = k.machine.caches.costs[field];
  return out;
}

/** This CPU's hardware counters (as perf would read them): TLB and data cache. */
export function cpu_counters(): { readonly tlb_hits: number; readonly tlb_misses: number; readonly cache_hits: number; readonly cache_misses: number } {
  const k = kernel();
  const cpu = k.this_cpu().id;
  const t = k.machine.tlbs[cpu]!;
  const c = k.machine.caches.counters(cpu);
  return { tlb_hits: t.hits, tlb_misses: t.misses, cache_hits: c.hits, cache_misses: c.misses };
}

/** echo scan > /sys/kernel/debug/kmemleak: reports unreferenced objects now; returns how many are new. */
export function kmemleak_scan(): number {
  return kmemleak_scan_k(kernel());
}
/** kmemleak_not_leak(ptr): the object is not a leak (a reference kmemleak cannot see). */
export function kmemleak_not_leak(ptr: number): void {
  kmemleak_not_leak_k(kernel(), ptr);
}

/** /proc/self/make-it-fail: with a fault's task-filter set, only tasks that asked fail (fault_inject.ts). */
export function make_it_fail(on: boolean): void {
  set_make_it_fail(kernel(), on);
}
