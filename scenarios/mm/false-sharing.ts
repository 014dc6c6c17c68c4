// False sharing (4 CPUs, 64 MiB i386): each CPU increments its own per-CPU counter 2000 times.
// In `false-sharing` the four 8-byte counters sit side by side in one 64-byte cache line, so
// every increment must take the line from the CPU that wrote it last (a bounce and an
// invalidation); in `false-sharing-padded` each counter has a line of its own and stays
// Modified in its CPU's cache. The counters are `mem_read` + `mem_write` through the simulated
// MMU, TLB and MESI caches; compare the cache statistics and the CPU time.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, __get_free_page, cond_resched, free_page, kthread_run, mem_read, mem_write, printk, smp_processor_id } from "../../src/kernel/index.ts";

const CPUS = 4;
const INCREMENTS = 2000;

interface State {
  done: number;
}

function counters(name: string, stride: number): Scenario<State> {
  return defineScenario({
    name,
    description: stride < 64 ? "4 CPUs update per-CPU counters in one cache line: false sharing" : "the same counters padded to a line each: no sharing",
    machine: { cpus: CPUS, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
    setup() {
      const st: State = { done: 0 };
      const buf = { addr: 0 };
      kthread_run(
        () =>
          Effect.gen(function* () {
            buf.addr = yield* __get_free_page(GFP_KERNEL);
            for (let c = 0; c < CPUS; c++) {
              kthread_run(
                () =>
                  Effect.gen(function* () {
                    const mine = buf.addr + smp_processor_id() * stride;
                    for (let i = 0; i < INCREMENTS; i++) {
                      mem_read(mine, 8);
                      mem_write(mine, 8);
                      // Real CPUs run these loops at the same time: let the others run between increments.
                      yield* cond_resched();
                    }
                    if (++st.done === CPUS) {
                      printk(`${name}: ${CPUS} x ${INCREMENTS} increments done`);
                      yield* free_page(buf.addr);
                    }
                  }),
                null,
                `counter/${c}`,
                { cpus: [c] },
              );
            }
          }),
        null,
        "setup",
        { cpus: [0] },
      );
      return st;
    },
    check(st, expect) {
      expect.equal(st.done, CPUS, "CPUs that finished");
    },
  });
}

export const falseSharing = counters("false-sharing", 8);
export const falseSharingPadded = counters("false-sharing-padded", 64);
