// Use after free by a race (CONFIG_DEBUG_SLAB): a connection object is looked up by a reader on
// CPU1 while CPU0 tears it down. The reader takes the pointer, works a little, then updates the
// object's last-seen field; the teardown clears the pointer and kfree()s at once, with no
// reference count or grace period. When the reader's write lands after the free, the poisoned
// object shows it at its next allocation: "Slab corruption". Fixed: the reader holds a reference
// (atomic_inc_not_zero) and the last one to drop it frees.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { ATOMIC_INIT, GFP_KERNEL, atomic_dec_and_test, atomic_inc_not_zero, kfree, kmalloc, kthread_run, mem_write, shared, udelay, READ_ONCE, WRITE_ONCE, type atomic_t } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

interface Conn {
  readonly addr: number;
  readonly refs: atomic_t;
}

export default bug_pair("bug-use-after-free-race", "an object freed while another CPU still uses it (no reference count)", "slab_error", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the reader holds a reference and the last put frees: no use after free" : "a reader updates an object CPU0 has just kfree'd: Slab corruption on some seeds (CONFIG_DEBUG_SLAB)",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32, debug_slab: true } },
    setup() {
      const table = shared<Conn | null>(null);
      const put = (c: Conn) =>
        Effect.gen(function* () {
          if (yield* atomic_dec_and_test(c.refs)) yield* kfree(c.addr);
        });
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let round = 0; round < 6; round++) {
              const c: Conn = { addr: yield* kmalloc(96, GFP_KERNEL), refs: ATOMIC_INIT(1) };
              yield* WRITE_ONCE(table, c);
              yield* udelay(60);
              yield* WRITE_ONCE(table, null);
              if (fixed) yield* put(c);
              else yield* kfree(c.addr);
              yield* udelay(10);
            }
          }),
        null,
        "teardown",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 40; i++) {
              yield* udelay(9);
              const c = yield* READ_ONCE(table);
              if (c === null) continue;
              if (fixed && !(yield* atomic_inc_not_zero(c.refs))) continue; // being torn down
              yield* udelay(3);
              mem_write(c.addr + 16, 8); // conn->last_seen = jiffies
              if (fixed) yield* put(c);
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
