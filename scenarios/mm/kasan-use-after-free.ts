// A use-after-free caught by KASAN at the access (2 CPUs, 64 MiB x86_64, kernel 6 built with
// CONFIG_KASAN, generic). The driver and tasklet of slab-use-after-free, on a 6.1 kernel: a NIC
// driver on CPU1 kmallocs its 64-byte statistics block; eth0's interrupt (CPU0) schedules a
// tasklet that counts each packet in it (stats->rx_packets++ at offset 8). Then the driver shuts
// down.
// - kasan-use-after-free: it kfree()s the block while the interrupt path still runs. KASAN
//   poisoned the object at the free (its shadow fa fb ..., the object in the quarantine), so the
//   tasklet's very next write is "BUG: KASAN: use-after-free in rx_action", "Write of size 4 at
//   addr ... by task ...", with the trace through the softirq, where the object was allocated
//   and freed, and the shadow around it (expected). DEBUG_SLAB would only see it when the object
//   is handed out again; with KASAN the quarantine keeps it from the driver's next kmalloc(64).
// - kasan-use-after-free-fixed: the driver quiesces first (tasklet_kill), then frees: no report.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, IRQ_HANDLED, kfree, kmalloc, kthread_run, mem_write, msleep, nic, request_irq, tasklet_init, tasklet_kill, tasklet_schedule, type irqreturn_t } from "../../src/kernel/index.ts";

const NIC_IRQ = 11;

interface State {
  counted: number;
  after_free: number;
  reused: boolean;
}

function use_after_free(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed ? "the driver stops its tasklet (tasklet_kill) before kfree: no use after free" : "a tasklet writes into a kfree'd block; KASAN reports the write itself (kernel 6, x86_64)",
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 }, kasan: true, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 20000, cpus: [0] }] },
    ...(fixed ? {} : { expected_reports: ["kasan" as const] }),
    setup() {
      const st: State = { counted: 0, after_free: 0, reused: false };
      let stats = 0;
      let up = false;
      let freed = false;
      const rx_action = (_data: unknown) =>
        Effect.sync(() => {
          for (const _pkt of nic("eth0").reap()) {
            mem_write(stats + 8, 4); // stats->rx_packets++
            st.counted++;
            if (freed) st.after_free++;
          }
        });
      const rx_tasklet = tasklet_init(rx_action, null);
      function eth0_interrupt(_irq: number, _dev: unknown): Effect.Effect<irqreturn_t> {
        return Effect.gen(function* () {
          if (up) yield* tasklet_schedule(rx_tasklet);
          return IRQ_HANDLED;
        });
      }
      kthread_run(
        function driver_exit() {
          return Effect.gen(function* () {
            stats = yield* kmalloc(64, GFP_KERNEL);
            up = true;
            request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);
            yield* msleep(5);
            if (fixed) {
              up = false;
              yield* tasklet_kill(rx_tasklet);
            }
            const old = stats;
            yield* kfree(stats);
            freed = true;
            yield* msleep(1);
            const next = yield* kmalloc(64, GFP_KERNEL);
            st.reused = next === old;
            yield* kfree(next);
          });
        },
        null,
        "driver",
        { cpus: [1] },
      );
      return st;
    },
    check(st, expect) {
      expect.that(st.counted > 50, `only ${st.counted} packets were counted`);
      expect.that(!st.reused, "the quarantine kept the freed object from the driver's next kmalloc(64)");
      if (fixed) expect.equal(st.after_free, 0, "packets counted after the free");
      else expect.that(st.after_free > 0, "the tasklet counted packets into the freed block");
    },
  });
}

export const kasanUseAfterFree = use_after_free("kasan-use-after-free", false);
export const kasanUseAfterFreeFixed = use_after_free("kasan-use-after-free-fixed", true);
