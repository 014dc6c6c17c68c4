// Scenario 3: a driver lock taken by a task with plain spin_lock and by the device's interrupt
// handler. When the interrupt lands on the CPU while its task holds the lock, the handler spins
// on a lock its own CPU's interrupted task holds: a deadlock, reported by the lockup detector with
// both contexts. The twin takes the lock with spin_lock_irqsave and never deadlocks.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SPINLOCK,
  IRQ_HANDLED,
  kthread_run,
  nic,
  request_irq,
  spin_lock,
  spin_lock_irqsave,
  spin_unlock,
  spin_unlock_irqrestore,
  udelay,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
export const ITERATIONS = 50;

function make(irqsafe: boolean) {
  return defineScenario({
    name: irqsafe ? "irq-lock-irqsave" : "irq-lock-deadlock",
    description: irqsafe
      ? "the same driver lock taken with spin_lock_irqsave: no seed deadlocks"
      : "a lock taken with spin_lock in a task and in its CPU's IRQ handler: some seeds deadlock",
    machine: { cpus: 2, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 2000, cpus: [0] }] },
    setup() {
      const dev_lock = DEFINE_SPINLOCK("dev_lock");
      const stats = { packets: 0, updates: 0 };
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        yield* spin_lock(dev_lock);
        stats.packets += nic("eth0").reap().length;
        yield* spin_unlock(dev_lock);
        return IRQ_HANDLED;
      }
      request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", stats);
      const update_stats = (_: unknown) =>
        Effect.gen(function* () {
          for (let i = 0; i < ITERATIONS; i++) {
            if (irqsafe) {
              const flags = yield* spin_lock_irqsave(dev_lock);
              yield* udelay(2);
              stats.updates++;
              yield* spin_unlock_irqrestore(dev_lock, flags);
            } else {
              yield* spin_lock(dev_lock);
              yield* udelay(2);
              stats.updates++;
              yield* spin_unlock(dev_lock);
            }
            yield* udelay(18);
          }
        });
      kthread_run(update_stats, null, "update_stats", { cpus: [0] });
      return stats;
    },
    check(stats, expect) {
      expect.equal(stats.updates, ITERATIONS, "updates");
    },
  });
}

export const irqLockDeadlock = make(false);
export const irqLockIrqsave = make(true);
