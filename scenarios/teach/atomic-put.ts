// A reference count on an atomic_t, dropped with a check and then an act (2 CPUs, kernel 2.6,
// kmemleak on). A receive path hands every packet buffer to two users, the protocol stack (the rx
// thread, CPU0) and a packet tap (a capture socket's thread, CPU1), so each buffer starts with a
// count of 2 and each user drops one reference when it is done.
// - atomic-check-then-act: the put is written `if (atomic_read(&b->refcnt) == 1) kfree(b); else
//   atomic_dec(&b->refcnt);`. Each step is atomic, the two together are not: when both users
//   drop their references at about the same moment, both read 2, both decrement, the count
//   reaches 0 and neither frees the buffer. The check counts the buffers freed (seed 1:
//   "buffers freed: expected 40, got 35"), and kmemleak reports the leaked ones at the end of the
//   run ("kmemleak: 5 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", expected),
//   a few buffers in 40 on every seed.
// - atomic-dec-and-test: `if (atomic_dec_and_test(&b->refcnt)) kfree(b);` decrements and tests
//   in one atomic step, so exactly one user sees 0 and frees the buffer. Clean on every seed.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  ATOMIC_INIT, DECLARE_WAIT_QUEUE_HEAD, GFP_KERNEL, atomic_dec, atomic_dec_and_test, atomic_read, kfree, kmalloc, kthread_run, printk, udelay, wait_event, wake_up, type atomic_t,
} from "../../src/kernel/index.ts";

/** Buffers the rx thread receives. */
export const BUFFERS = 40;
/** How long each user works on a buffer (us): the stack a little longer than the tap's copy. */
const STACK_US = 12;
const TAP_US = 10;

interface Buf {
  readonly addr: number;
  readonly refcnt: atomic_t;
}

interface State {
  allocated: number;
  freed: number;
  /** Buffers whose count reached 0 without a free. */
  leaked: number;
}

function atomic_put(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the same buffers dropped with atomic_dec_and_test(): every one freed exactly once"
      : "a reference dropped with atomic_read() == 1 then atomic_dec(): both users decrement, nobody frees: leaked buffers (kmemleak) on every seed",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 }, kmemleak: true },
    expected_reports: fixed ? [] : ["kmemleak"],
    setup() {
      const st: State = { allocated: 0, freed: 0, leaked: 0 };
      /** Buffers handed to the tap and not yet taken. */
      const tap_queue: Buf[] = [];
      const tap_wait = DECLARE_WAIT_QUEUE_HEAD("tap_wait");
      let done = false;

      /** buf_put(): drops one reference; the last user frees the buffer. */
      function* buf_put(b: Buf) {
        if (fixed) {
          if (yield* atomic_dec_and_test(b.refcnt)) {
            st.freed++;
            yield* kfree(b.addr);
          }
          return;
        }
        if (atomic_read(b.refcnt) === 1) {
          // wrong: another user may drop its reference between this check and the decrement
          st.freed++;
          yield* kfree(b.addr);
          return;
        }
        yield* atomic_dec(b.refcnt);
        if (atomic_read(b.refcnt) === 0) st.leaked++; // (the simulation's bookkeeping, not the driver's)
      }

      kthread_run(
        function* rx(_: null) {
          for (let i = 0; i < BUFFERS; i++) {
            const b: Buf = { addr: yield* kmalloc(256, GFP_KERNEL), refcnt: ATOMIC_INIT(2) };
            st.allocated++;
            tap_queue.push(b);
            wake_up(tap_wait);
            yield* udelay(STACK_US); // deliver to the protocol stack
            yield* buf_put(b);
            yield* udelay(20); // wait for the next packet
          }
          done = true;
          wake_up(tap_wait);
        },
        null,
        "rx",
        { cpus: [0] },
      );
      kthread_run(
        function* tap(_: null) {
          for (;;) {
            yield* wait_event(tap_wait, () => tap_queue.length > 0 || done);
            const b = tap_queue.shift();
            if (b === undefined) return;
            yield* udelay(TAP_US); // copy the packet to the capture socket
            yield* buf_put(b);
          }
        },
        null,
        "tap",
        { cpus: [1] },
      );
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.allocated} buffers allocated, ${st.freed} freed, ${st.leaked} leaked`);
      expect.equal(st.freed, BUFFERS, "buffers freed");
    },
  });
}

export const atomicCheckThenAct = atomic_put("atomic-check-then-act", false);
export const atomicDecAndTest = atomic_put("atomic-dec-and-test", true);
