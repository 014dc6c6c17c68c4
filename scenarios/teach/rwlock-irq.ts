// An rwlock read in process context with interrupts on and written by an interrupt handler on the
// same CPU (2 CPUs, kernel 2.6). A bridge's forwarding table: the NIC's interrupt handler (CPU0)
// learns each packet's source address under write_lock(&br->hash_lock); a forwarding thread on
// the same CPU looks addresses up under the read lock.
// - rwlock-irq-deadlock: the lookups take plain read_lock(). When the NIC interrupts CPU0 inside
//   its thread's read section, the handler's write_lock() waits for that reader, which cannot run
//   again until the handler returns: CPU0 spins for ever with interrupts off, and the NMI
//   watchdog reports "Watchdog detected hard LOCKUP on cpu 0" naming both contexts (expected), on
//   the seeds where an interrupt lands inside a read section (21 of 1..30, seed 1 among them).
//   With --lockdep every seed first reports "inconsistent {HARDIRQ-ON-R} -> {IN-HARDIRQ-W}
//   usage." (expected too) at the first write_lock in the handler, deadlock or not. A reader on
//   another CPU would be harmless: the handler would just wait for it to finish.
// - rwlock-irq-irqsave: the lookups take read_lock_irqsave(), so no interrupt comes between a
//   reader and its CPU's read_unlock; the interrupt waits until then. Clean on every seed.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_RWLOCK, IRQ_HANDLED, kthread_run, nic, printk, read_lock, read_lock_irqsave, read_unlock, read_unlock_irqrestore, request_irq, udelay, write_lock, write_unlock,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
/** Lookups the forwarding thread makes. */
export const LOOKUPS = 40;

interface State {
  learned: number;
  lookups: number;
  /** The forwarding table: a source address (64 of them) and the packet it was last seen in. */
  readonly table: Map<number, number>;
}

function rwlock_irq(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the same table, looked up with read_lock_irqsave(): no seed deadlocks"
      : "read_lock() with interrupts on, write_lock() in the same CPU's interrupt handler: a hard lockup on some seeds",
    machine: { cpus: 2, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 5000, cpus: [0] }] },
    expected_reports: fixed ? [] : ["hard_lockup", "lockdep"],
    setup() {
      const st: State = { learned: 0, lookups: 0, table: new Map() };
      const hash_lock = DEFINE_RWLOCK("&br->hash_lock");

      /** br_fdb_update(): learns each received packet's source port, in hardirq context. */
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        const n = nic("eth0").reap().length;
        yield* write_lock(hash_lock);
        for (let i = 0; i < n; i++) st.table.set(st.learned++ % 64, st.learned);
        yield* write_unlock(hash_lock);
        return IRQ_HANDLED;
      }
      request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);

      /** br_fdb_get(): a lookup under the read lock, the way the thread's version takes it. */
      function* fdb_get(addr: number) {
        if (fixed) {
          const flags = yield* read_lock_irqsave(hash_lock);
          yield* udelay(5); // hash the address, walk the chain
          const hit = st.table.has(addr);
          yield* read_unlock_irqrestore(hash_lock, flags);
          return hit;
        }
        yield* read_lock(hash_lock); // wrong: the interrupt handler on this CPU takes it for writing
        yield* udelay(5);
        const hit = st.table.has(addr);
        yield* read_unlock(hash_lock);
        return hit;
      }
      function* br_forward(_: null) {
        for (let i = 0; i < LOOKUPS; i++) {
          st.lookups++;
          yield* fdb_get((i * 7) % 64);
          yield* udelay(20); // forward the packet
        }
      }
      kthread_run(br_forward, null, "br_forward", { cpus: [0] });
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.learned} packets learned, ${st.lookups} lookups`);
      expect.equal(st.lookups, LOOKUPS, "lookups");
      expect.that(st.learned > 0, "no packet arrived");
    },
  });
}

export const rwlockIrqDeadlock = rwlock_irq("rwlock-irq-deadlock", false);
export const rwlockIrqIrqsave = rwlock_irq("rwlock-irq-irqsave", true);
