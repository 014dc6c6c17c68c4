// Scenario 4: calls that may sleep made while holding a spinlock. mutex_lock() checks with
// might_sleep() and reports "BUG: sleeping function called from invalid context" even when it
// does not end up sleeping; msleep() does sleep, and schedule() reports "BUG: scheduling while
// atomic". kmalloc(GFP_KERNEL) under spin_lock_irqsave: the slab allocator's might_sleep_if
// reports it (mm/slab.c), though with memory to spare nothing sleeps; GFP_ATOMIC is the mask for
// that context (Love's table: process context that cannot sleep -> GFP_ATOMIC).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_MUTEX, DEFINE_SPINLOCK, GFP_ATOMIC, GFP_KERNEL, kfree, kmalloc, kthread_run, msleep, mutex_lock, mutex_unlock, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore } from "../../src/kernel/index.ts";

export const sleepInAtomic = defineScenario({
  name: "sleep-in-atomic",
  description: "mutex_lock() under a spinlock: the might_sleep report",
  machine: { cpus: 2 },
  setup() {
    const cfg_lock = DEFINE_SPINLOCK("cfg_lock");
    const cfg_mutex = DEFINE_MUTEX("cfg_mutex");
    const update_config = (_: unknown) =>
      Effect.gen(function* () {
        yield* spin_lock(cfg_lock);
        yield* mutex_lock(cfg_mutex); // wrong: may sleep while holding a spinlock
        yield* mutex_unlock(cfg_mutex);
        yield* spin_unlock(cfg_lock);
      });
    kthread_run(update_config, null, "cfgd");
    return {};
  },
});

export const msleepInAtomic = defineScenario({
  name: "msleep-in-atomic",
  description: "msleep() under a spinlock: BUG: scheduling while atomic",
  machine: { cpus: 2 },
  setup() {
    const poll_lock = DEFINE_SPINLOCK("poll_lock");
    const poll_device = (_: unknown) =>
      Effect.gen(function* () {
        yield* spin_lock(poll_lock);
        yield* msleep(10); // wrong: sleeps with the lock held and preemption off
        yield* spin_unlock(poll_lock);
      });
    kthread_run(poll_device, null, "polld");
    return {};
  },
});

function kmalloc_locked(name: string, gfp: number, description: string) {
  return defineScenario({
    name,
    description,
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    expected_reports: gfp === GFP_KERNEL ? ["might_sleep"] : [],
    setup() {
      const list_lock = DEFINE_SPINLOCK("list_lock");
      const add_entry = (_: unknown) =>
        Effect.gen(function* () {
          const flags = yield* spin_lock_irqsave(list_lock);
          const entry = yield* kmalloc(128, gfp); // GFP_KERNEL is wrong here: it may sleep
          yield* spin_unlock_irqrestore(list_lock, flags);
          yield* kfree(entry);
        });
      kthread_run(add_entry, null, "listd");
      return {};
    },
  });
}

export const kmallocInAtomic = kmalloc_locked("kmalloc-in-atomic", GFP_KERNEL, "kmalloc(128, GFP_KERNEL) under spin_lock_irqsave: the might_sleep report (expected)");
export const kmallocAtomicOk = kmalloc_locked("kmalloc-atomic-ok", GFP_ATOMIC, "the same with GFP_ATOMIC, the mask for a context that cannot sleep: clean");
