// Every scenario shipped with mmsim, in the order `mmsim list` shows them.
import type { Scenario } from "../src/harness/scenario.ts";
import demo from "./teach/demo.ts";
import counterSpinlock from "./teach/counter-spinlock.ts";
import counterNolock from "./teach/counter-nolock.ts";
import { irqLockDeadlock, irqLockIrqsave } from "./teach/irq-lock.ts";
import { sleepInAtomic, msleepInAtomic, kmallocInAtomic, kmallocAtomicOk } from "./teach/sleep-in-atomic.ts";
import taskletSmp from "./teach/tasklet-smp.ts";
import { rcuSleepInReader, rcuSleepInReaderFixed } from "./teach/rcu-sleep.ts";
import { taskletSleep, taskletSleepFixed } from "./teach/tasklet-sleep.ts";
import { delTimerSyncLock, delTimerSyncLockFixed } from "./teach/timer-lock.ts";
import { semaphoreTasklet, semaphoreTaskletTrylock } from "./teach/semaphore-tasklet.ts";
import { rwlockIrqDeadlock, rwlockIrqIrqsave } from "./teach/rwlock-irq.ts";
import { completionTwoWaiters, completionTwoWaitersFixed } from "./teach/completion-waiters.ts";
import { atomicCheckThenAct, atomicDecAndTest } from "./teach/atomic-put.ts";
import atomicStorm from "./mm/atomic-storm.ts";
import fragmentation from "./mm/fragmentation.ts";
import { zoneLock, zoneLockNopcp } from "./mm/zone-lock.ts";
import oomKiller from "./mm/oom-killer.ts";
import { falseSharing, falseSharingPadded } from "./mm/false-sharing.ts";
import { percpuCounter, percpuCounterGetCpu } from "./teach/percpu-counter.ts";
import { listRace, listRaceLocked } from "./teach/list-race.ts";
import { staleTlb, staleTlbFixed } from "./mm/stale-tlb.ts";
import kmapPressure from "./mm/kmap-pressure.ts";
import { kmapAtomicIrq, kmapAtomicIrqFixed } from "./mm/kmap-atomic-irq.ts";
import tlbReach from "./mm/tlb-reach.ts";
import vfreeShootdown from "./mm/vfree-shootdown.ts";
import vmallocFault from "./mm/vmalloc-fault.ts";
import { mempoolIo, mempoolIoNopool } from "./mm/mempool-io.ts";
import { slabTasklet, slabTaskletKernel } from "./mm/slab-tasklet.ts";
import { slabUseAfterFree, slabUseAfterFreeFixed } from "./mm/slab-use-after-free.ts";
import { kasanUseAfterFree, kasanUseAfterFreeFixed } from "./mm/kasan-use-after-free.ts";
import { rcuUseAfterFree, rcuUseAfterFreeFixed } from "./mm/rcu-use-after-free.ts";
import { BUGS } from "./bugs/index.ts";
import kmallocVmalloc from "./mm/kmalloc-vmalloc.ts";
import { slabColour, slabColourOff } from "./mm/slab-colour.ts";

export const scenarios: readonly Scenario<any>[] = [
  demo,
  counterSpinlock,
  counterNolock,
  irqLockDeadlock,
  irqLockIrqsave,
  sleepInAtomic,
  msleepInAtomic,
  kmallocInAtomic,
  kmallocAtomicOk,
  rcuSleepInReader,
  rcuSleepInReaderFixed,
  taskletSmp,
  atomicStorm,
  fragmentation,
  zoneLock,
  zoneLockNopcp,
  oomKiller,
  falseSharing,
  falseSharingPadded,
  percpuCounter,
  percpuCounterGetCpu,
  listRace,
  listRaceLocked,
  staleTlb,
  staleTlbFixed,
  kmapPressure,
  kmapAtomicIrq,
  kmapAtomicIrqFixed,
  tlbReach,
  vfreeShootdown,
  vmallocFault,
  mempoolIo,
  mempoolIoNopool,
  slabTasklet,
  slabTaskletKernel,
  kmallocVmalloc,
  slabColour,
  slabColourOff,
  slabUseAfterFree,
  slabUseAfterFreeFixed,
  kasanUseAfterFree,
  kasanUseAfterFreeFixed,
  rcuUseAfterFree,
  rcuUseAfterFreeFixed,
  taskletSleep,
  taskletSleepFixed,
  delTimerSyncLock,
  delTimerSyncLockFixed,
  semaphoreTasklet,
  semaphoreTaskletTrylock,
  rwlockIrqDeadlock,
  rwlockIrqIrqsave,
  completionTwoWaiters,
  completionTwoWaitersFixed,
  atomicCheckThenAct,
  atomicDecAndTest,
  ...BUGS.flatMap((b) => [b.bug, b.fixed]),
];

export const DEFAULT_SCENARIO = "demo";

export function findScenario(name: string): Scenario<any> | undefined {
  return scenarios.find((s) => s.name === name);
}
