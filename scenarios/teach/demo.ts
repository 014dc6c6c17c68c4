// The default scenario (`npm start`): four CPUs, a NIC whose interrupts rotate among them, a
// receive tasklet, and workers that read the statistics the tasklet updates. It shows hardirq,
// softirq and task contexts sharing locks the right way: the handler and the tasklet share
// rx_lock (spin_lock in the handler, spin_lock_irqsave in the tasklet), the tasklet and the
// workers share stats_lock (spin_lock in the tasklet, spin_lock_bh in the workers).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SPINLOCK,
  IRQ_HANDLED,
  kthread_run,
  msleep,
  nic,
  num_online_cpus,
  printk,
  request_irq,
  smp_processor_id,
  spin_lock,
  spin_lock_bh,
  spin_lock_irqsave,
  spin_unlock,
  spin_unlock_bh,
  spin_unlock_irqrestore,
  tasklet_init,
  tasklet_schedule,
  udelay,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
export const ROUNDS = 100;

export default defineScenario({
  name: "demo",
  description: "4 CPUs, NIC interrupts, a receive tasklet and workers contending on shared locks",
  machine: { cpus: 4, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 20000, delivery: "round-robin" }] },
  setup() {
    const rx_lock = DEFINE_SPINLOCK("rx_lock");
    const stats_lock = DEFINE_SPINLOCK("stats_lock");
    const rx_queue: number[] = [];
    const stats = { rx_packets: 0, reads: 0 };

    // Called on every interrupt and tasklet run: written as generator functions, made once
    // (faster than a function returning Effect.gen, which makes a new generator each call).
    function* rx_action(_data: unknown) {
      const flags = yield* spin_lock_irqsave(rx_lock);
      const batch = rx_queue.splice(0, rx_queue.length);
      yield* spin_unlock_irqrestore(rx_lock, flags);
      yield* udelay(batch.length); // protocol processing, 1 us a packet
      yield* spin_lock(stats_lock);
      yield* udelay(1);
      stats.rx_packets += batch.length;
      yield* spin_unlock(stats_lock);
    }
    const rx_tasklet = tasklet_init(rx_action, null);

    function* eth0_interrupt(_irq: number, _dev: unknown) {
      yield* spin_lock(rx_lock);
      rx_queue.push(...nic("eth0").reap());
      yield* spin_unlock(rx_lock);
      yield* tasklet_schedule(rx_tasklet);
      return IRQ_HANDLED;
    }
    request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);

    const stats_reader = (_: unknown) =>
      Effect.gen(function* () {
        for (let i = 1; i <= ROUNDS; i++) {
          yield* spin_lock_bh(stats_lock);
          yield* udelay(2); // summing per-queue counters
          stats.reads++;
          const seen = stats.rx_packets;
          yield* spin_unlock_bh(stats_lock);
          yield* udelay(10);
          if (i % 25 === 0) {
            printk(`stats/${smp_processor_id()}: ${seen} packets received so far`);
            yield* msleep(1);
          }
        }
      });
    for (let cpu = 0; cpu < num_online_cpus(); cpu++) kthread_run(stats_reader, null, `stats/${cpu}`, { cpus: [cpu] });
    return { stats, rx_queue, rx_tasklet, cpus: num_online_cpus() };
  },
  check({ stats, cpus }, expect) {
    expect.equal(stats.reads, ROUNDS * cpus, "stats reads");
    expect.that(stats.rx_packets > 0, "no packet was received");
  },
});
