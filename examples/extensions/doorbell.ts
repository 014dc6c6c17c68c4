// A device of your own: a doorbell that rings at random, on average every `mean_us` microseconds
// (exponential gaps drawn from its own seeded stream, "dev/doorbell"), counting its rings in a
// register the driver reads and clears. Its driver: an interrupt handler that takes the count
// under a spinlock, and a task that reads the total. `mmsim run examples/extensions/doorbell.ts`.
import { defineDevice, defineScenario, device, DEFINE_SPINLOCK, IRQ_HANDLED, kthread_run, msleep, printk, request_irq, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore } from "mmsim";

/** The device's state in a run: its ring counter, and how often it rang. */
interface Doorbell {
  pending: number;
  rang: number;
}

export const doorbell = defineDevice({
  name: "doorbell",
  irq: 12,
  cpus: [1],
  create(api): Doorbell & { ring(): void } {
    const mean_ns = 200_000;
    const dev = {
      pending: 0,
      rang: 0,
      ring() {
        dev.pending++;
        dev.rang++;
        api.raise();
        // The next ring: an exponential gap from the device's own stream.
        api.at(api.now() + Math.max(1, Math.round(-Math.log(1 - api.random()) * mean_ns)), dev.ring);
      },
    };
    return dev;
  },
  start(dev) {
    dev.ring();
  },
});

export default defineScenario({
  name: "doorbell",
  description: "a device of its own: a doorbell's rings counted by its interrupt handler",
  machine: { cpus: 2 },
  devices: [doorbell],
  setup() {
    const lock = DEFINE_SPINLOCK("bell_lock");
    const st = { counted: 0, seen: 0, rang: 0 };
    function* bell_interrupt(_irq: number, _dev: unknown) {
      const d = device(doorbell);
      yield* spin_lock(lock);
      st.counted += d.pending; // read and clear the device's register
      d.pending = 0;
      st.rang = d.rang;
      yield* spin_unlock(lock);
      return IRQ_HANDLED;
    }
    request_irq(doorbell.irq, bell_interrupt, 0, "doorbell", null);
    kthread_run(function* reader(_: null) {
      for (let i = 0; i < 4; i++) {
        yield* msleep(1);
        const flags = yield* spin_lock_irqsave(lock);
        st.seen = st.counted;
        yield* spin_unlock_irqrestore(lock, flags);
      }
      printk(`doorbell: ${st.seen} rings counted`);
    }, null, "reader");
    return st;
  },
  check(st, expect) {
    expect.that(st.seen > 0, "the doorbell rang");
    expect.that(st.counted <= st.rang, "no ring counted twice");
  },
});
