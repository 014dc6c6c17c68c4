// Scenario 1: every CPU's worker increments a shared counter under a spinlock. No interleaving
// can lose an update, so the final count is always workers * iterations.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, READ_ONCE, WRITE_ONCE, kthread_run, num_online_cpus, shared, spin_lock, spin_unlock, udelay } from "../../src/kernel/index.ts";

export const ITERATIONS = 200;

export default defineScenario({
  name: "counter-spinlock",
  description: "4 CPUs increment a counter under a spinlock: never a lost update",
  machine: { cpus: 4 },
  setup() {
    const counter_lock = DEFINE_SPINLOCK("counter_lock");
    const counter = shared(0);
    const worker = (_: number) =>
      Effect.gen(function* () {
        for (let i = 0; i < ITERATIONS; i++) {
          yield* spin_lock(counter_lock);
          const v = yield* READ_ONCE(counter);
          yield* WRITE_ONCE(counter, v + 1);
          yield* spin_unlock(counter_lock);
          yield* udelay(1);
        }
      });
    const n = num_online_cpus();
    for (let cpu = 0; cpu < n; cpu++) kthread_run(worker, cpu, `worker/${cpu}`, { cpus: [cpu] });
    return { counter, n };
  },
  check({ counter, n }, expect) {
    expect.equal(counter.value, n * ITERATIONS, "counter");
  },
});
