// Sleep in atomic context behind a rare branch: a driver refills its receive ring under its
// spinlock; normally a buffer is recycled, but when a burst has used them all (rare, depending on
// how packets arrive) it allocates a new one with GFP_KERNEL while holding the lock. The
// allocation rarely sleeps, so the bug hides, but might_sleep reports it each time the branch
// runs. Fixed: GFP_ATOMIC in the branch.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, GFP_ATOMIC, GFP_KERNEL, kfree, kmalloc, kthread_run, nic, spin_lock, spin_unlock, udelay } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

const RING = 6;

export default bug_pair("bug-sleep-in-atomic-rare", "GFP_KERNEL under a spinlock on a rarely taken path", "might_sleep", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the burst path allocates with GFP_ATOMIC under the lock: clean" : "a refill path taken only after bursts allocates with GFP_KERNEL under a spinlock: might_sleep on some seeds",
    machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 32 }, nics: [{ name: "eth0", irq: 11, rate: 3000, cpus: [0] }] },
    // --swarm: each seed its own machine; bursts that empty the ring are common at high rates.
    swarm: { cpus: [1, 4], mb: [16, 128], pcp: "both", nics: { eth0: { rate: [1000, 20000] } } },
    duration_ms: 8,
    setup() {
      const lock = DEFINE_SPINLOCK("&ring->lock");
      const st = { free: RING, allocated: 0 };
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (;;) {
              yield* udelay(500);
              const burst = nic("eth0").reap().length;
              yield* spin_lock(lock);
              for (let i = 0; i < burst; i++) {
                if (st.free > 0) st.free--;
                else {
                  const buf = yield* kmalloc(2048, fixed ? GFP_ATOMIC : GFP_KERNEL);
                  if (buf !== 0) {
                    st.allocated++;
                    yield* kfree(buf);
                  }
                }
              }
              st.free = RING; // the packets were consumed: their buffers come back
              yield* spin_unlock(lock);
            }
          }),
        null,
        "rx_refill",
        { cpus: [0] },
      );
      return st;
    },
  }),
);
