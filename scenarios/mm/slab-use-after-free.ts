// A use-after-free caught by slab poisoning (2 CPUs, 64 MiB i386, kernel 2.6 built with
// CONFIG_DEBUG_SLAB). A NIC driver on CPU1 kmallocs its 64-byte statistics block; eth0's
// interrupt (CPU0) schedules a tasklet that counts each packet in it (stats->rx_packets++ at
// offset 8). Then the driver shuts down.
// - slab-use-after-free: it kfree()s the block while the interrupt path still runs, and the
//   tasklet keeps counting into freed memory. With DEBUG_SLAB the freed object was poisoned
//   (0x6b); when the driver's next kmalloc(64) gets the same object back (the CPU's array is
//   last in, first out), check_poison_obj finds bytes 8-11 written: "Slab corruption: size-64
//   start=..., len=64", the red zones, the last user (the driver's shutdown, which freed it),
//   the line "000: 6b 6b 6b 6b 6b 6b 6b 6b ?? ?? ?? ?? 6b 6b 6b 6b" and the neighbours
//   (expected). Without DEBUG_SLAB nothing would be printed: the new owner's data would just
//   change under it.
// - slab-use-after-free-fixed: the driver quiesces first (the handler stops scheduling the
//   tasklet once the device is down; tasklet_kill waits for one scheduled or running), then
//   frees: no report.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_KERNEL, IRQ_HANDLED, kfree, kmalloc, kthread_run, mem_write, msleep, nic, request_irq, tasklet_init, tasklet_kill, tasklet_schedule, type irqreturn_t } from "../../src/kernel/index.ts";

const NIC_IRQ = 11;

export interface State {
  counted: number;
  after_free: number;
  reused: boolean;
}

/**
 * The driver on a 2.6 kernel with CONFIG_DEBUG_SLAB ("debug_slab": the poison check reports the
 * write when the object is handed out again, which it is) or a 6.1 x86_64 kernel with KASAN
 * ("kasan": the write itself is reported; the quarantine keeps the object from the next kmalloc).
 */
export function use_after_free(name: string, fixed: boolean, detector: "debug_slab" | "kasan" = "debug_slab"): Scenario<State> {
  const kasan = detector === "kasan";
  const nics = [{ name: "eth0", irq: NIC_IRQ, rate: 20000, cpus: [0] }];
  return defineScenario({
    name,
    description: fixed
      ? "the driver stops its tasklet (tasklet_kill) before kfree: no use after free"
      : kasan
        ? "a tasklet writes into a kfree'd block; KASAN reports the write itself (kernel 6, x86_64)"
        : "a tasklet writes into a kfree'd block; DEBUG_SLAB's poison check reports it at the next kmalloc",
    machine: kasan ? { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 }, kasan: true, nics } : { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64, debug_slab: true }, nics },
    ...(fixed ? {} : { expected_reports: [kasan ? ("kasan" as const) : ("slab_error" as const)] }),
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
      if (kasan) expect.that(!st.reused, "the quarantine kept the freed object from the driver's next kmalloc(64)");
      else expect.that(st.reused, "the next kmalloc(64) on the driver's CPU got the freed object back");
      if (fixed) expect.equal(st.after_free, 0, "packets counted after the free");
      else expect.that(st.after_free > 0, "the tasklet counted packets into the freed block");
    },
  });
}

export const slabUseAfterFree = use_after_free("slab-use-after-free", false);
export const slabUseAfterFreeFixed = use_after_free("slab-use-after-free-fixed", true);
