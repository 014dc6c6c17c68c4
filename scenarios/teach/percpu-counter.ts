// A per-CPU packet counter updated from preemptible code that migrates. Three receive threads
// share two CPUs and may run on either; each takes this CPU's counter (this_cpu_ptr, as 2.6's
// `__get_cpu_var(rx_packets)++` does), then waits for a packet (the NIC's interrupt wakes it, on
// whichever CPU is free), processes it and bumps the counter with a load and a store. A thread
// that woke on the other CPU bumps the first CPU's counter while the thread now running there
// bumps it too (or the tick preempts a thread between its load and its store): a lost count.
// CONFIG_DEBUG_PREEMPT reports the first calls: "BUG: using smp_processor_id() in preemptible
// [00000000] code: rx/0/N", "caller is rx_thread". The fix, percpu-counter-get-cpu, takes the
// counter with get_cpu_var() right where it is updated and gives it back with put_cpu_var():
// preemption is off in between, so the thread stays on that CPU and no other thread runs there.
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  DECLARE_WAIT_QUEUE_HEAD, DEFINE_PER_CPU, IRQ_HANDLED, READ_ONCE, WRITE_ONCE, get_cpu_var, kthread_run, nic, per_cpu, printk, put_cpu_var,
  raw_smp_processor_id, request_irq, this_cpu_ptr, udelay, wait_event, wake_up, type PerCpuVar,
} from "../../src/kernel/index.ts";

export const PACKETS = 300;
const THREADS = 3;

interface State {
  readonly rx_packets: PerCpuVar<number>;
  /** Packets the NIC delivered and no thread has taken yet; packets taken. */
  backlog: number;
  taken: number;
  /** Threads that finished; times a thread counted on another CPU than it started the packet on. */
  done: number;
  moved: number;
}

const make = (name: string, fixed: boolean) =>
  defineScenario({
    name,
    description: fixed
      ? "the same per-CPU counter taken with get_cpu_var() where it is updated: every packet counted, nothing reported"
      : "receive threads take this CPU's counter, sleep, wake on the other CPU and update the first one's: lost counts and DEBUG_PREEMPT's report",
    machine: { cpus: 2, nics: [{ name: "eth0", irq: 11, rate: 20000 }] },
    setup(): State {
      const st: State = { rx_packets: DEFINE_PER_CPU(0, "rx_packets"), backlog: 0, taken: 0, done: 0, moved: 0 };
      const rx_wait = DECLARE_WAIT_QUEUE_HEAD();
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        st.backlog += nic("eth0").reap().length;
        wake_up(rx_wait);
        return IRQ_HANDLED;
      }
      request_irq(11, eth0_interrupt, 0, "eth0", null);
      function* rx_thread(_t: number) {
        for (;;) {
          const started_on = raw_smp_processor_id();
          // The bug: which CPU's counter is decided before the thread sleeps.
          let stats = fixed ? null : this_cpu_ptr(st.rx_packets);
          yield* wait_event(rx_wait, () => st.backlog > 0 || st.taken >= PACKETS);
          if (st.taken >= PACKETS) break;
          st.backlog--;
          st.taken++;
          yield* udelay(20); // process the packet
          if (raw_smp_processor_id() !== started_on) st.moved++;
          if (stats === null) stats = get_cpu_var(st.rx_packets); // the fix: preemption off, this CPU's counter
          const n = yield* READ_ONCE(stats);
          yield* udelay(2); // the rest of the accounting (bytes, a timestamp)
          yield* WRITE_ONCE(stats, n + 1);
          if (fixed) yield* put_cpu_var(st.rx_packets);
        }
        if (++st.done === THREADS) printk(`rx: ${PACKETS} packets, counted ${per_cpu(st.rx_packets, 0)} on CPU0 and ${per_cpu(st.rx_packets, 1)} on CPU1; ${st.moved} counted after moving CPU`);
      }
      for (let t = 0; t < THREADS; t++) kthread_run(rx_thread, t, `rx/${t}`);
      return st;
    },
    check(st, expect) {
      expect.equal(per_cpu(st.rx_packets, 0) + per_cpu(st.rx_packets, 1), PACKETS, "packets counted over both CPUs (lost counts)");
    },
  });

export const percpuCounter = make("percpu-counter", false);
export const percpuCounterGetCpu = make("percpu-counter-get-cpu", true);
