// The holdtime detector on a driver that does slow work under its spinlock, with the fix: the
// work moved out of the critical section. `mmsim run examples/extensions/slow-path.ts#slow-path`.
import { defineScenario, DEFINE_SPINLOCK, kthread_run, ndelay, spin_lock, spin_unlock } from "mmsim";
import { holdtime } from "./holdtime.ts";

const path = (name: string, inside: boolean) =>
  defineScenario({
    name,
    description: inside ? "20 us of work under a spinlock (holdtime reports it)" : "the same work outside the lock",
    machine: { cpus: 2 },
    detectors: [holdtime(10_000)],
    setup() {
      const lock = DEFINE_SPINLOCK("dev_lock");
      for (const cpu of [0, 1]) {
        kthread_run(function* worker(_: null) {
          for (let i = 0; i < 3; i++) {
            if (!inside) yield* ndelay(20_000);
            yield* spin_lock(lock);
            if (inside) yield* ndelay(20_000);
            yield* spin_unlock(lock);
          }
        }, null, `worker${cpu}`, { cpus: [cpu] });
      }
      return {};
    },
  });

export const slowPath = path("slow-path", true);
export const slowPathFixed = path("slow-path-fixed", false);
