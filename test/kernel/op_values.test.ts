// Ops made once and yielded by every context (src/sim/op.ts: an op keeps its state in the
// yielding context's activation): a lock's locking calls and the short delays.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inline, run } from "../helpers.ts";
import { DEFINE_SPINLOCK, kthread_run, ndelay, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, spinlock_t } from "../../src/kernel/index.ts";

test("a lock's spin_lock/spin_unlock and a short ndelay are one value each; long delays and irqrestore's flags are not shared", () => {
  const lock = new spinlock_t("l");
  assert.is(spin_lock(lock), spin_lock(lock));
  assert.is(spin_unlock(lock), spin_unlock(lock));
  assert.is(spin_lock_irqsave(lock), spin_lock_irqsave(lock));
  assert.is.not(spin_lock(lock), spin_unlock(lock));
  assert.is.not(spin_unlock_irqrestore(lock, 0), spin_unlock_irqrestore(lock, 0));
  assert.is(ndelay(10), ndelay(10));
  assert.is.not(ndelay(10), ndelay(5));
  assert.is.not(ndelay(5000), ndelay(5000));
});

test("three CPUs contending through the one op value of a lock each keep their own place in it", () => {
  const st = { count: 0, inside: 0, overlap: 0, lock: null as spinlock_t | null };
  const scn = inline(
    () => {
      const lock = (st.lock = DEFINE_SPINLOCK("shared"));
      for (let c = 0; c < 3; c++)
        kthread_run(
          () =>
            Effect.gen(function* () {
              for (let i = 0; i < 50; i++) {
                yield* spin_lock(lock);
                if (st.inside++ !== 0) st.overlap++;
                yield* ndelay(10);
                st.count++;
                st.inside--;
                yield* spin_unlock(lock);
                yield* ndelay(5);
              }
            }),
          null,
          `w/${c}`,
          { cpus: [c] },
        );
      return {};
    },
    { cpus: 3 },
  );
  const r = run(scn);
  assert.is(r.failed, false);
  assert.is(st.count, 150);
  assert.is(st.overlap, 0, "mutual exclusion held");
  assert.is(st.lock!.acquisitions, 150);
  // Spinners were parked inside the shared spin_lock op while its holder yielded it again.
  assert.ok(st.lock!.contentions > 0);
});

test.run();
