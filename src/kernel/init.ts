// init/main.c reduced: boots the simulated kernel on a machine (per-CPU state, the interrupt
// entry, softirqs and tasklets, the timer softirq, ksoftirqd/N) and makes it the running kernel.
import type { Engine } from "../sim/engine.ts";
import type { Machine } from "../hw/machine.ts";
import type { KernelConfig } from "./config.ts";
import { Kernel, set_running_kernel } from "./kernel.ts";
import { install_entry } from "./entry.ts";
import { TIMER_SOFTIRQ, open_softirq, softirq_init, spawn_ksoftirqd } from "./softirq.ts";
import { run_timer_softirq } from "./time/timer.ts";
import { install_nmi_watchdog, on_idle, start_khungtaskd } from "./watchdog.ts";
import { uts_release } from "./dumpstack.ts";

export function start_kernel(engine: Engine, machine: Machine, config: KernelConfig): Kernel {
  const k = new Kernel(engine, machine, config);
  set_running_kernel(k);
  install_entry(k);
  engine.onIdle = () => on_idle(k);
  install_nmi_watchdog(k);
  start_khungtaskd(k);
  k.printk(`Linux version ${uts_release(config.era)} (mmsim) SMP${config.preempt ? " PREEMPT" : ""}`);
  k.printk(`Brought up ${machine.cpus.length} CPUs, HZ=${config.hz}`);
  softirq_init();
  open_softirq(TIMER_SOFTIRQ, run_timer_softirq); // init_timers()
  spawn_ksoftirqd();
  return k;
}
