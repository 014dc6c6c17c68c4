// AB-BA deadlock: the usual path takes dev->lock then queue->lock; a rarely taken reconfigure
// path (every 4th round) takes them the other way round. If the two CPUs are in those sections
// at the same moment, each holds the lock the other wants: the lockup detector reports the
// cycle. With lockdep (--lockdep) every seed reports the inversion at once. Fixed: the
// reconfigure path takes dev->lock first too.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, kthread_run, spin_lock, spin_unlock, udelay } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

export default bug_pair("bug-abba", "two locks taken in opposite orders on a rare path", "soft_lockup", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "both paths take dev->lock before queue->lock: no deadlock" : "a rare reconfigure path takes queue->lock before dev->lock: an AB-BA deadlock on some seeds",
    machine: { cpus: 2 },
    setup() {
      const dev = DEFINE_SPINLOCK("&dev->lock");
      const queue = DEFINE_SPINLOCK("&queue->lock");
      const xmit = () =>
        Effect.gen(function* () {
          for (let i = 0; i < 12; i++) {
            yield* udelay(30);
            yield* spin_lock(dev);
            yield* udelay(1);
            yield* spin_lock(queue);
            yield* spin_unlock(queue);
            yield* spin_unlock(dev);
          }
        });
      const reconfigure = () =>
        Effect.gen(function* () {
          for (let i = 0; i < 12; i++) {
            yield* udelay(33);
            if (i % 4 !== 3) continue;
            const [first, second] = fixed ? [dev, queue] : [queue, dev];
            yield* spin_lock(first);
            yield* udelay(1);
            yield* spin_lock(second);
            yield* spin_unlock(second);
            yield* spin_unlock(first);
          }
        });
      kthread_run(xmit, null, "xmit", { cpus: [0] });
      kthread_run(reconfigure, null, "reconfig", { cpus: [1] });
      return null;
    },
  }),
);
