// Cost per step as the machine grows: the spinlock model with the same total work (TOTAL loop
// iterations split evenly) on 2 to 64 CPUs, two CPUs to each lock so contention is alike at every
// size. What grows with the CPU count is the engine's and the kernel's per-CPU work per step.
import { mmsimSpin } from "./spin.ts";

export const TOTAL = 64_000;
export const SIZES = [2, 4, 8, 16, 32, 64];

/** ns per step at each size (best of 3). */
export function costPerStep(): { cpus: number; ns: number }[] {
  return SIZES.map((cpus) => {
    const r = mmsimSpin(cpus, TOTAL / cpus, 3, 2);
    return { cpus, ns: (r.seconds * 1e9) / r.steps };
  });
}
