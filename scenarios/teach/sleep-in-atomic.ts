// Scenario 4: calls that may sleep made while holding a spinlock. mutex_lock() checks with
// might_sleep() and reports "BUG: sleeping function called from invalid context" even when it
// does not end up sleeping; msleep() does sleep, and schedule() reports "BUG: scheduling while
// atomic". (kmalloc(GFP_KERNEL) will join these once the allocator exists.)
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_MUTEX, DEFINE_SPINLOCK, kthread_run, msleep, mutex_lock, mutex_unlock, spin_lock, spin_unlock } from "../../src/kernel/index.ts";

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
