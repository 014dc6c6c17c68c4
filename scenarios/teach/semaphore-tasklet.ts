// down() in a tasklet, and the fix: down_trylock() there, the rest handed to process context
// (2 CPUs, kernel 6, x86_64). A NIC's firmware takes commands through one mailbox, guarded by a
// binary semaphore, &priv->mbox_sem. A configuration thread (CPU1, process context) sends a
// command every 2 ms; the receive tasklet (CPU0) acknowledges each batch of packets to the
// firmware through the same mailbox.
// - semaphore-tasklet: the tasklet takes the mailbox with down(), which may sleep: kernel 6's
//   down() calls might_sleep(), so the first batch reports "BUG: sleeping function called from
//   invalid context at kernel/locking/semaphore.c:58" with in_atomic(): 1 from softirq context
//   (expected), whether or not the semaphore was free. On the seeds where a batch later finds the
//   configuration thread holding the mailbox (13 of 1..30, seed 6 the first), down() really
//   sleeps, in softirq run at an interrupt's exit: "BUG: scheduling while atomic:
//   swapper/0/0/0x00000101", and mmsim's panic for scheduling in interrupt context ends the run
//   (both expected too). 2.6.34's down() has no might_sleep(): there only those seeds show it.
// - semaphore-tasklet-trylock: the tasklet tries down_trylock(), which never sleeps (0 when it
//   took the semaphore, 1 when it is held: the inverse of spin_trylock); when the mailbox is busy
//   it leaves the acknowledgement to a work item (schedule_work), which takes the semaphore with
//   down() in process context (events/0), where sleeping is allowed. up() may be called from any
//   context. Clean on every seed; every batch is acknowledged.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  DEFINE_SEMAPHORE, INIT_WORK, IRQ_HANDLED, down, down_trylock, flush_work, free_irq, kthread_run, msleep, nic, printk, request_irq, schedule_work, tasklet_init, tasklet_kill, tasklet_schedule,
  udelay, up,
  type work_struct,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
/** Commands the configuration thread sends. */
export const COMMANDS = 10;
/** How long one mailbox command takes (write it, ring the doorbell, wait for the firmware). */
const MBOX_US = 30;

interface State {
  packets: number;
  /** Batches received, and acknowledged through the mailbox (from the tasklet or the work item). */
  batches: number;
  acked: number;
  /** Acknowledgements the fixed tasklet left to the work item (the mailbox was busy). */
  deferred: number;
  commands: number;
}

function semaphore_tasklet(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the tasklet tries down_trylock() and leaves a busy mailbox to a work item that down()s in process context: clean"
      : "a tasklet takes a semaphore with down(): kernel 6's might_sleep report on every seed, a sleep in softirq on some",
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 }, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 2000, cpus: [0] }] },
    expected_reports: fixed ? [] : ["might_sleep", "scheduling_while_atomic", "bug"],
    setup() {
      const st: State = { packets: 0, batches: 0, acked: 0, deferred: 0, commands: 0 };
      const mbox_sem = DEFINE_SEMAPHORE("&priv->mbox_sem");
      /** Batches received and not yet acknowledged (the work item acknowledges them all). */
      let unacked = 0;

      /** Writes one command into the mailbox and waits for the firmware (the caller holds mbox_sem). */
      function* mbox_send() {
        yield* udelay(MBOX_US);
      }

      /** The work item: process context, may sleep. */
      function* ack_work(_work: work_struct) {
        yield* down(mbox_sem);
        yield* mbox_send();
        st.acked += unacked;
        unacked = 0;
        yield* up(mbox_sem);
      }
      const ack = INIT_WORK(ack_work, "&priv->ack_work");

      function* rx_action(_data: unknown) {
        st.packets += nic("eth0").reap().length;
        st.batches++;
        unacked++;
        if (!fixed) {
          yield* down(mbox_sem); // wrong: may sleep, in softirq context
        } else if ((yield* down_trylock(mbox_sem)) !== 0) {
          st.deferred++;
          schedule_work(ack); // busy: acknowledge from process context
          return;
        }
        yield* mbox_send();
        st.acked += unacked;
        unacked = 0;
        yield* up(mbox_sem);
      }
      const rx_tasklet = tasklet_init(rx_action, null);
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        yield* tasklet_schedule(rx_tasklet);
        return IRQ_HANDLED;
      }
      request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);

      kthread_run(
        function* fw_config(_: null) {
          for (let i = 0; i < COMMANDS; i++) {
            yield* down(mbox_sem);
            yield* mbox_send();
            st.commands++;
            yield* up(mbox_sem);
            yield* msleep(2);
          }
          // The driver's close: no more interrupts, then wait for the tasklet and the work item.
          free_irq(NIC_IRQ, null);
          yield* tasklet_kill(rx_tasklet);
          yield* flush_work(ack);
        },
        null,
        "fw_config",
        { cpus: [1] },
      );
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.packets} packets in ${st.batches} batches, ${st.acked} acknowledged (${st.deferred} by the work item), ${st.commands} commands`);
      expect.equal(st.commands, COMMANDS, "commands sent");
      expect.that(st.batches > 20, `only ${st.batches} batches arrived`);
      expect.equal(st.acked, st.batches, "batches acknowledged");
    },
  });
}

export const semaphoreTasklet = semaphore_tasklet("semaphore-tasklet", false);
export const semaphoreTaskletTrylock = semaphore_tasklet("semaphore-tasklet-trylock", true);
