// Scenario 2: the same counter without the lock. A worker's read and write are separate steps,
// so another CPU can write in between and one increment is lost: `mmsim sweep` finds such a seed
// and replaying its schedule loses the same updates.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { READ_ONCE, WRITE_ONCE, kthread_run, num_online_cpus, shared, udelay } from "../../src/kernel/index.ts";

export const ITERATIONS = 10;

export default defineScenario({
  name: "counter-nolock",
  description: "the same counter without the lock: some seeds lose updates (find one with sweep)",
  machine: { cpus: 4 },
  setup() {
    const counter = shared(0);
    const worker = (cpu: number) =>
      Effect.gen(function* () {
        for (let i = 0; i < ITERATIONS; i++) {
          // Work that takes longer on some CPUs than on others keeps them out of phase.
          yield* udelay(20 + 3 * cpu);
          const v = yield* READ_ONCE(counter);
          yield* WRITE_ONCE(counter, v + 1);
        }
      });
    const n = num_online_cpus();
    for (let cpu = 0; cpu < n; cpu++) kthread_run(worker, cpu, `worker/${cpu}`, { cpus: [cpu] });
    return { counter, n };
  },
  check({ counter, n }, expect) {
    expect.equal(counter.value, n * ITERATIONS, "counter (lost updates)");
  },
});
