// A detector of your own: spinlocks held longer than a bound. It follows the lock events
// (acquire, or acquired after contention, then release, per CPU and lock), files a report through the kernel's report channel
// (its kind is the detector's name, "holdtime"), and at the end of the run prints the longest
// hold of each lock. Use it in a scenario's `detectors`, or in runScenario's options.
import { defineDetector } from "mmsim";

export const holdtime = (max_ns: number) =>
  defineDetector({
    name: "holdtime",
    create(ctx) {
      /** When each (CPU, lock) was taken. */
      const since = new Map<string, number>();
      const longest = new Map<string, number>();
      return {
        lock(e) {
          const key = `${e.cpu}/${e.lock}`;
          // Held from the acquisition, or, when it had to wait, from when it got the lock.
          if ((e.op === "acquire" && !e.try) || e.op === "acquired") since.set(key, e.ts);
          else if (e.op === "release") {
            const t0 = since.get(key);
            if (t0 === undefined) return;
            since.delete(key);
            const held = e.ts - t0;
            if (held > (longest.get(e.lock) ?? -1)) longest.set(e.lock, held);
            if (held > max_ns) ctx.report(`holdtime: ${e.lock} held ${held} ns on CPU${e.cpu} by ${e.task} (more than ${max_ns} ns)`);
          }
        },
        end() {
          for (const [lock, ns] of [...longest].sort()) ctx.printk(`holdtime: ${lock} held at most ${ns} ns`);
        },
      };
    },
  });
