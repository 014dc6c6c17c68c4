// Cost per step as the machine grows: the spinlock model with the same total work (TOTAL loop
// iterations split evenly) on 2 to 64 CPUs, two CPUs to each lock so contention is alike at every
// size (bench/index.ts runs each size in a process of its own). What grows with the CPU count is
// the engine's and the kernel's per-CPU work per step, and the caches' reach over more contexts.
export const TOTAL = 64_000;
export const SIZES = [2, 4, 8, 16, 32, 64];
