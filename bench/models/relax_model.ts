// The engine's own cost per step: CPUs doing nothing but cpu_relax() (an interleaving point that
// charges the step's cost and parks), no locks, no tracepoints.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { cpu_relax, kthread_run } from "../../src/kernel/index.ts";

export const relaxModel = (cpus: number, iterations: number) =>
  defineScenario({
    name: "bench-relax-model",
    description: "CPUs at interleaving points only",
    machine: { cpus },
    setup() {
      for (let c = 0; c < cpus; c++) {
        kthread_run(
          () =>
            Effect.gen(function* () {
              for (let i = 0; i < iterations; i++) yield* cpu_relax();
            }),
          null,
          `r/${c}`,
          { cpus: [c] },
        );
      }
    },
  });
