// Lost update: two CPUs bump a shared statistics counter with a plain read and write
// (stats->rx++ compiled to a load and a store). Most of the time the CPUs are busy elsewhere and
// the increments do not overlap; when one CPU's store lands between the other's load and store,
// an increment is lost. Fixed: atomic_inc().
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { ATOMIC_INIT, READ_ONCE, WRITE_ONCE, atomic_inc, atomic_read, kthread_run, shared, udelay } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

const N = 8;

export default bug_pair("bug-lost-update", "a counter updated with a plain load and store on two CPUs", "expectation", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the statistics counter with atomic_inc(): no update is lost" : "a statistics counter bumped with a plain load and store on two CPUs: rare lost updates",
    machine: { cpus: 2 },
    setup() {
      const plain = shared(0);
      const atomic = ATOMIC_INIT(0);
      const worker = (cpu: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < N; i++) {
            yield* udelay(40 + 7 * cpu); // the rest of the packet's processing
            if (fixed) yield* atomic_inc(atomic);
            else yield* WRITE_ONCE(plain, (yield* READ_ONCE(plain)) + 1);
          }
        });
      kthread_run(worker, 0, "rx/0", { cpus: [0] });
      kthread_run(worker, 1, "rx/1", { cpus: [1] });
      return { plain, atomic };
    },
    check(st, expect) {
      expect.equal(fixed ? atomic_read(st.atomic) : st.plain.value, 2 * N, "rx counter (lost updates)");
    },
  }),
);
