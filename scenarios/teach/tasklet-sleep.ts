// Sleeping in a tasklet, and the usual fix: hand the work to process context (64 MiB i386, kernel
// 2.6, 2 CPUs). A NIC's interrupt handler schedules a receive tasklet; each packet needs a
// 2 KiB buffer, and the driver keeps the last 64 (freeing the oldest).
// - tasklet-sleep: the tasklet allocates each buffer with kmalloc(2048, GFP_KERNEL), a mask that
//   may sleep, in softirq context: "BUG: sleeping function called from invalid context at
//   mm/slab.c:3101" with in_atomic(): 1 (expected). Nothing had to sleep here, so every packet
//   still got its buffer: the kind of bug that waits for memory pressure to show.
// - tasklet-sleep-fixed: the tasklet takes buffers from a small pool under a spinlock and, when
//   the pool runs low, schedule_work()s the refill; the work item allocates with GFP_KERNEL in
//   process context (the events/N worker thread, where it may sleep) and fills the pool under
//   spin_lock_bh. A packet that finds the pool empty is dropped (counted). Clean.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SPINLOCK, GFP_KERNEL, INIT_WORK, IRQ_HANDLED, kfree, kmalloc, kthread_run, nic, printk, request_irq, schedule_work, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh, tasklet_init, tasklet_schedule, type work_struct,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
const BUF_SIZE = 2048;
/** Buffers the driver keeps (the receive ring). */
const KEEP = 64;
/** The refill pool: the work fills it up to POOL; the tasklet asks for a refill below LOW. */
const POOL = 16;
const LOW = 8;

interface State {
  packets: number;
  buffers: number;
  dropped: number;
  refills: number;
  /** The receive ring and the refill pool: the buffers the driver holds. */
  readonly ring: number[];
  readonly pool: number[];
}

function tasklet_sleep(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the tasklet takes buffers from a pool that a work item refills with GFP_KERNEL in process context: clean"
      : "a tasklet allocates with kmalloc(GFP_KERNEL): might_sleep report from softirq context",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 }, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 20000, cpus: [0] }] },
    duration_ms: 20,
    expected_reports: fixed ? [] : ["might_sleep"],
    setup() {
      const st: State = { packets: 0, buffers: 0, dropped: 0, refills: 0, ring: [], pool: [] };
      const { ring, pool } = st;
      const pool_lock = DEFINE_SPINLOCK("&priv->pool_lock");

      /** The work item: process context, may sleep. */
      function* rx_refill(_work: work_struct) {
        st.refills++;
        for (;;) {
          const buf = yield* kmalloc(BUF_SIZE, GFP_KERNEL);
          if (buf === 0) return;
          yield* spin_lock_bh(pool_lock); // the tasklet takes it too: bottom halves off
          pool.push(buf);
          const full = pool.length >= POOL;
          yield* spin_unlock_bh(pool_lock);
          if (full) return;
        }
      }
      const refill_work = INIT_WORK(rx_refill, "&priv->refill_work");

      /** A buffer for one packet, or 0: from the pool (fixed) or from kmalloc (the bug). */
      function* get_buffer() {
        if (!fixed) return yield* kmalloc(BUF_SIZE, GFP_KERNEL); // wrong: may sleep in softirq
        yield* spin_lock(pool_lock);
        const buf = pool.pop() ?? 0;
        const low = pool.length < LOW;
        yield* spin_unlock(pool_lock);
        if (low) schedule_work(refill_work); // does nothing while the refill is pending
        return buf;
      }

      function* rx_action(_data: unknown) {
        for (const _pkt of nic("eth0").reap()) {
          st.packets++;
          const buf = yield* get_buffer();
          if (buf === 0) {
            st.dropped++;
            continue;
          }
          st.buffers++;
          ring.push(buf);
          if (ring.length > KEEP) yield* kfree(ring.shift()!);
        }
      }
      const rx_tasklet = tasklet_init(rx_action, null);
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        yield* tasklet_schedule(rx_tasklet);
        return IRQ_HANDLED;
      }
      kthread_run(
        function* driver_open(_: null) {
          if (fixed) yield* rx_refill(refill_work); // fill the pool before the first packet
          request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);
        },
        null,
        "driver",
      );
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.packets} packets, ${st.buffers} buffers, ${st.dropped} dropped, ${st.refills} refills`);
      expect.that(st.packets > 200, `only ${st.packets} packets arrived`);
      expect.equal(st.buffers + st.dropped, st.packets, "packets with a buffer or dropped");
      if (fixed) expect.that(st.refills > 1, "the work item refilled the pool");
      else expect.equal(st.dropped, 0, "packets dropped");
    },
  });
}

export const taskletSleep = tasklet_sleep("tasklet-sleep", false);
export const taskletSleepFixed = tasklet_sleep("tasklet-sleep-fixed", true);
