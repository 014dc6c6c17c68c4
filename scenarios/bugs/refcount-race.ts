// A reference taken too late (6.1, x86_64): a lookup finds an object in a table under the
// table's lock, drops the lock, checks the object and only then takes its reference. Meanwhile
// CPU0 may remove the object from the table and drop the table's reference, the last one: the
// object is freed, and the reader's refcount_inc() is an addition on 0: "refcount_t: addition
// on 0; use-after-free." (then its put finds the saturated count: "refcount_t: underflow;
// use-after-free."). Fixed: the reference is taken under the lock, so removal and the last put
// cannot come between the lookup and the get.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SPINLOCK, GFP_KERNEL, REFCOUNT_INIT, kfree, kmalloc, kthread_run, mem_read, ndelay, refcount_dec_and_test, refcount_inc, spin_lock, spin_unlock, udelay, type refcount_t } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

interface Obj {
  readonly addr: number;
  readonly ref: refcount_t;
}

export default bug_pair("bug-refcount-late-get", "a reference taken after the lock that made the object findable is dropped", "refcount", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the lookup takes its reference under the table's lock: no get after the last put" : "a lookup takes its reference after dropping the table's lock: refcount_t addition on 0 on some seeds",
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 } },
    setup() {
      const lock = DEFINE_SPINLOCK("&table_lock");
      let table: Obj | null = null;
      const put = (o: Obj) =>
        Effect.gen(function* () {
          if (yield* refcount_dec_and_test(o.ref)) yield* kfree(o.addr);
        });
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let round = 0; round < 8; round++) {
              const o: Obj = { addr: yield* kmalloc(64, GFP_KERNEL), ref: REFCOUNT_INIT(1) }; // the table's reference
              yield* spin_lock(lock);
              table = o;
              yield* spin_unlock(lock);
              yield* udelay(40);
              yield* spin_lock(lock);
              table = null;
              yield* spin_unlock(lock);
              yield* put(o);
              yield* udelay(5);
            }
          }),
        null,
        "owner",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 60; i++) {
              yield* udelay(5);
              yield* spin_lock(lock);
              const o = table;
              if (fixed && o !== null) yield* refcount_inc(o.ref);
              yield* spin_unlock(lock);
              if (o === null) continue;
              mem_read(o.addr, 8); // o->state: is it worth a reference?
              yield* ndelay(50);
              if (!fixed) yield* refcount_inc(o.ref);
              yield* udelay(2);
              yield* put(o);
            }
          }),
        null,
        "lookup",
        { cpus: [1] },
      );
      return null;
    },
  }),
);
