// An irq-unsafe lock: a driver's task takes its stats lock with spin_lock, and the NIC's
// interrupt handler takes the same lock. Only when an interrupt arrives on that CPU inside the
// task's short critical section does the handler take a lock its own CPU holds: with
// CONFIG_DEBUG_SPINLOCK "BUG: spinlock cpu recursion" (without it the handler would spin for
// ever, a hard lockup). lockdep reports the inconsistent usage on any seed. Fixed:
// spin_lock_irqsave in the task.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, IRQ_HANDLED, kthread_run, nic, request_irq, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, udelay } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

export default bug_pair("bug-irq-unsafe-lock", "a lock shared with an interrupt handler taken with interrupts on", "spinlock", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the task takes the lock with spin_lock_irqsave: the handler never finds it held on its CPU" : "a task takes the lock its CPU's interrupt handler takes with plain spin_lock: rare hard lockup",
    machine: { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 2000, cpus: [0] }] },
    setup() {
      const lock = DEFINE_SPINLOCK("&priv->stats_lock");
      request_irq(
        11,
        function* () {
          nic("eth0").reap();
          yield* spin_lock(lock);
          yield* spin_unlock(lock);
          return IRQ_HANDLED;
        },
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 40; i++) {
              yield* udelay(50);
              if (fixed) {
                const flags = yield* spin_lock_irqsave(lock);
                yield* udelay(2);
                yield* spin_unlock_irqrestore(lock, flags);
              } else {
                yield* spin_lock(lock);
                yield* udelay(2);
                yield* spin_unlock(lock);
              }
            }
          }),
        null,
        "stats",
        { cpus: [0] },
      );
      return null;
    },
  }),
);
