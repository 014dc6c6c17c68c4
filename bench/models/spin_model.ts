// The bench's spinlock model, as SimPy runs it too (bench/simpy_spinlock.py): CPUs contending on a
// spinlock, each loop spin_lock, ndelay(10), spin_unlock, ndelay(5). `cpusPerLock` CPUs share each
// lock (default: all of them one lock).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, kthread_run, ndelay, spin_lock, spin_unlock } from "../../src/kernel/index.ts";

export const spinModel = (cpus: number, iterations: number, cpusPerLock = cpus) =>
  defineScenario({
    name: "bench-spin-model",
    description: "CPUs contending on a spinlock",
    machine: { cpus },
    setup() {
      const locks = Array.from({ length: Math.ceil(cpus / cpusPerLock) }, (_, i) => DEFINE_SPINLOCK(`lock${i}`));
      const n = { count: 0 };
      for (let c = 0; c < cpus; c++) {
        const lock = locks[Math.floor(c / cpusPerLock)]!;
        kthread_run(
          () =>
            Effect.gen(function* () {
              for (let i = 0; i < iterations; i++) {
                yield* spin_lock(lock);
                yield* ndelay(10);
                n.count++;
                yield* spin_unlock(lock);
                yield* ndelay(5);
              }
            }),
          null,
          `w/${c}`,
          { cpus: [c] },
        );
      }
      return n;
    },
    check(n, expect) {
      expect.equal(n.count, cpus * iterations, "iterations");
    },
  });
