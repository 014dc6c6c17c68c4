// The README's example: a NIC interrupt handler and a reader task share a counter under a
// spinlock. Run it with `mmsim run scenarios/examples/packet-counter.ts --seed 3`.
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SPINLOCK,
  IRQ_HANDLED,
  kthread_run,
  msleep,
  nic,
  printk,
  request_irq,
  spin_lock,
  spin_lock_irqsave,
  spin_unlock,
  spin_unlock_irqrestore,
} from "../../src/kernel/index.ts";

export default defineScenario({
  name: "packet-counter",
  description: "an IRQ handler and a task share a counter under a spinlock",
  machine: { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 5000, cpus: [0] }] },
  setup() {
    const lock = DEFINE_SPINLOCK("pkt_lock");
    const st = { packets: 0, seen: 0 };

    function* eth0_interrupt(_irq: number, _dev: unknown) {
      yield* spin_lock(lock); // hardirq: interrupts are already off
      st.packets += nic("eth0").reap().length;
      yield* spin_unlock(lock);
      return IRQ_HANDLED;
    }
    request_irq(11, eth0_interrupt, 0, "eth0", null);

    function* reader(_: null) {
      for (let i = 0; i < 5; i++) {
        const flags = yield* spin_lock_irqsave(lock); // the handler takes it too
        st.seen = st.packets;
        yield* spin_unlock_irqrestore(lock, flags);
        printk(`reader: ${st.seen} packets`);
        yield* msleep(2);
      }
    }
    kthread_run(reader, null, "reader", { cpus: [0] });
    return st;
  },
  check(st, expect) {
    expect.that(st.seen <= st.packets, "reader saw more packets than arrived");
  },
});
