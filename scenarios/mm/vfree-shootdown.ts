// TLB shootdowns (64 MiB i386, 4 CPUs by default; try --cpus 16): one task vmallocs and vfrees a
// buffer 20 times while a worker on every other CPU keeps busy. Each vfree flushes every CPU's
// TLB through a call-function IPI and waits for all of them, so its cost grows with the CPU
// count; the per-CPU tlb-flushes and the time per vfree show it.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { cond_resched, ktime_get_ns, kthread_run, num_online_cpus, printk, udelay, vfree, vmalloc } from "../../src/kernel/index.ts";

const ROUNDS = 20;

export default defineScenario({
  name: "vfree-shootdown",
  description: "vfree's TLB shootdown IPIs cost more with more CPUs (compare --cpus 4 and --cpus 16)",
  machine: { cpus: 4, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
  setup() {
    const st = { ns_per_vfree: 0, done: false };
    const n = num_online_cpus();
    for (let c = 1; c < n; c++) {
      kthread_run(
        () =>
          Effect.gen(function* () {
            while (!st.done) {
              yield* udelay(1);
              yield* cond_resched();
            }
          }),
        null,
        `busy/${c}`,
        { cpus: [c] },
      );
    }
    kthread_run(
      () =>
        Effect.gen(function* () {
          let total = 0;
          for (let i = 0; i < ROUNDS; i++) {
            const a = yield* vmalloc(16 * 4096);
            const t0 = ktime_get_ns();
            yield* vfree(a);
            total += ktime_get_ns() - t0;
          }
          st.ns_per_vfree = total / ROUNDS;
          st.done = true;
          printk(`vfree on ${n} CPUs: ${(st.ns_per_vfree / 1000).toFixed(2)} us each`);
        }),
      null,
      "freer",
      { cpus: [0] },
    );
    return st;
  },
  check(st, expect) {
    expect.that(st.done, "the vfree loop did not finish");
  },
});
