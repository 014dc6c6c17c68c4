// A per-CPU counter updated with preemption enabled: two tasks on one CPU count events in the
// CPU's slot with a load and a store (__this_cpu_inc without the preempt_disable() that
// this_cpu_inc's callers rely on). When the timer tick ends a time slice between the load and
// the store, the other task runs, counts, and then the first one stores its stale value: a lost
// count. Fixed: preempt_disable() around the update (get_cpu_var / put_cpu_var).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { IRQ_HANDLED, READ_ONCE, WRITE_ONCE, complete_all, init_completion, kthread_run, nic, preempt_disable, preempt_enable, request_irq, shared, udelay, wait_for_completion } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

const N = 100;

export default bug_pair("bug-percpu-preempt", "a per-CPU variable read-modify-written with preemption enabled", "expectation", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the per-CPU update under preempt_disable(): no lost counts" : "two tasks on one CPU update its per-CPU counter with preemption on: a time slice ending mid-update loses a count",
    machine: { cpus: 1, timeslice_ms: 1, nics: [{ name: "eth0", irq: 11, rate: 2000, cpus: [0] }] },
    setup() {
      const slot = shared(0); // per_cpu(events, 0)
      // The counters start counting at the first packet, so where the timer ticks fall in their
      // loop depends on when it came.
      const link_up = init_completion();
      request_irq(
        11,
        () =>
          Effect.sync(() => {
            nic("eth0").reap();
            complete_all(link_up);
            return IRQ_HANDLED;
          }),
        0,
        "eth0",
        null,
      );
      const counter = () =>
        Effect.gen(function* () {
          yield* wait_for_completion(link_up);
          for (let i = 0; i < N; i++) {
            yield* udelay(98);
            if (fixed) preempt_disable();
            const v = yield* READ_ONCE(slot);
            yield* udelay(2); // the work between the load and the store
            yield* WRITE_ONCE(slot, v + 1);
            if (fixed) yield* preempt_enable();
          }
        });
      kthread_run(counter, null, "events/a", { cpus: [0] });
      kthread_run(counter, null, "events/b", { cpus: [0] });
      return slot;
    },
    check(slot, expect) {
      expect.equal(slot.value, 2 * N, "per-CPU event count (lost counts)");
    },
  }),
);
