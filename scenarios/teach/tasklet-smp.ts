// Scenario 5: a NIC's interrupts arrive on two CPUs in turn and both schedule the same tasklet.
// The tasklet never runs on two CPUs at once, and it runs on the CPU that scheduled it.
import { defineScenario } from "../../src/harness/scenario.ts";
import { IRQ_HANDLED, nic, request_irq, smp_processor_id, tasklet_init, tasklet_schedule, udelay } from "../../src/kernel/index.ts";

const NIC_IRQ = 11;

export default defineScenario({
  name: "tasklet-smp",
  description: "a tasklet scheduled from interrupts on two CPUs never runs on both at once",
  machine: { cpus: 2, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 50000, cpus: [0, 1], delivery: "round-robin" }] },
  duration_ms: 10,
  setup() {
    const st = { running: 0, overlaps: 0, runs: 0, wrong_cpu: 0, scheduled_on: -1, packets: 0 };
    function* rx_action(_data: unknown) {
      st.running++;
      if (st.running > 1) st.overlaps++;
      if (smp_processor_id() !== st.scheduled_on) st.wrong_cpu++;
      st.runs++;
      yield* udelay(30); // long enough that the other CPU's interrupt comes in meanwhile
      st.packets += nic("eth0").reap().length;
      st.running--;
    }
    const rx_tasklet = tasklet_init(rx_action, null);
    function* eth0_interrupt(_irq: number, _dev: unknown) {
      // Only a schedule that sets TASKLET_STATE_SCHED queues it, on this CPU.
      if ((rx_tasklet.state & 1) === 0) st.scheduled_on = smp_processor_id();
      yield* tasklet_schedule(rx_tasklet);
      return IRQ_HANDLED;
    }
    request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);
    return st;
  },
  check(st, expect) {
    expect.equal(st.overlaps, 0, "tasklet runs overlapping on two CPUs");
    expect.equal(st.wrong_cpu, 0, "tasklet runs on a CPU other than the scheduling one");
    expect.that(st.runs > 50, `tasklet ran only ${st.runs} times`);
  },
});
