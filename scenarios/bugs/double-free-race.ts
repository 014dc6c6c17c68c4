// Double free by a race (CONFIG_DEBUG_SLAB): a connection can be closed from two paths, the
// user's close (a task on CPU0) and a reset arriving from the NIC (its interrupt, on CPU1, closes
// the connection in use). Each checks a plain "closed" flag, and if it is not set, sets it and
// frees the connection's buffer. When both check before either sets it (the check and the set
// are 2 us apart), both kfree the buffer: "double free detected". Fixed: test_and_set_bit()
// (here atomic_add_unless(closed, 1, 1)), so one path wins.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { ATOMIC_INIT, GFP_KERNEL, IRQ_HANDLED, READ_ONCE, WRITE_ONCE, atomic_add_unless, kfree, kmalloc, kthread_run, nic, request_irq, shared, udelay, type Shared, type atomic_t } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

interface Conn {
  readonly buf: number;
  readonly closed: Shared<boolean>;
  readonly closed_bit: atomic_t;
}

export default bug_pair("bug-double-free-race", "check-then-act on a plain flag from two paths", "slab_error", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the close paths race on test_and_set_bit: one frees" : "close and timeout both see the connection open and both kfree its buffer: double free on some seeds (CONFIG_DEBUG_SLAB)",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32, debug_slab: true }, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [1] }] },
    setup() {
      const conns: Conn[] = [];
      const st = { freed: 0 };
      const close = (c: Conn) =>
        Effect.gen(function* () {
          let mine: boolean;
          if (fixed) mine = yield* atomic_add_unless(c.closed_bit, 1, 1);
          else {
            mine = !(yield* READ_ONCE(c.closed));
            if (mine) {
              yield* udelay(2); // tear down the rest of the connection first
              yield* WRITE_ONCE(c.closed, true);
            }
          }
          if (mine) {
            st.freed++;
            yield* kfree(c.buf);
          }
        });
      let cur = -1;
      request_irq(
        11,
        function* () {
          nic("eth0").reap();
          if (cur >= 0) yield* close(conns[cur]!);
          return IRQ_HANDLED;
        },
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 8; i++) conns.push({ buf: yield* kmalloc(256, GFP_KERNEL), closed: shared(false), closed_bit: ATOMIC_INIT(0) });
            for (let i = 0; i < conns.length; i++) {
              cur = i;
              yield* udelay(18); // the connection's last requests
              yield* close(conns[i]!);
            }
            cur = -1;
          }),
        null,
        "close",
        { cpus: [0] },
      );
      return st;
    },
    check(st, expect) {
      expect.equal(st.freed, 8, "connection buffers freed (one each)");
    },
  }),
);
