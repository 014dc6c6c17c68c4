// kmap_atomic slot reuse (1 CPU, 1 GiB i386, kernel 2.6). A task maps a HighMem page in its
// CPU's KM_USER0 slot and works on it for 2 ms; NIC interrupts arrive meanwhile and their handler
// also maps a page with kmap_atomic. In kmap-atomic-irq the handler wrongly uses KM_USER0: the
// slot still holds the task's mapping, and kmap_atomic_prot's BUG_ON(!pte_none()) fires. In
// kmap-atomic-irq-fixed it uses KM_IRQ0, the slot interrupts own, and both run clean.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { GFP_ATOMIC, GFP_HIGHUSER, __GFP_HIGHMEM, IRQ_HANDLED, alloc_page, kmap_atomic, kthread_run, kunmap_atomic, mem_read, mem_write, nic, request_irq, udelay, type km_type } from "../../src/kernel/index.ts";

function variant(name: string, irq_slot: km_type): Scenario<{ irq_maps: number; page: number }> {
  return defineScenario({
    name,
    description: irq_slot === "KM_USER0" ? "an interrupt handler reuses the task's KM_USER0 kmap_atomic slot: kernel BUG" : "the handler uses its own KM_IRQ0 slot: no conflict",
    machine: { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 5000, cpus: [0] }], memory: { arch: "i386", kernel: "2.6", mb: 1024 } },
    duration_ms: 5,
    ...(irq_slot === "KM_USER0" ? { expected_reports: ["bug" as const] } : {}),
    setup() {
      const st = { irq_maps: 0, page: -1 };
      request_irq(
        11,
        function* () {
          nic("eth0").reap();
          if (st.page < 0) st.page = (yield* alloc_page(GFP_ATOMIC | __GFP_HIGHMEM)) ?? -1;
          if (st.page >= 0) {
            const a = yield* kmap_atomic(st.page, irq_slot);
            mem_read(a, 64);
            yield* kunmap_atomic(a, irq_slot);
            st.irq_maps++;
          }
          return IRQ_HANDLED;
        },
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            const p = (yield* alloc_page(GFP_HIGHUSER))!;
            const a = yield* kmap_atomic(p, "KM_USER0");
            mem_write(a, 4096);
            yield* udelay(2000);
            yield* kunmap_atomic(a, "KM_USER0");
          }),
        null,
        "copier",
        { cpus: [0] },
      );
      return st;
    },
    check(st, expect) {
      expect.that(st.irq_maps > 0, "no interrupt mapped a page");
    },
  });
}

export const kmapAtomicIrq = variant("kmap-atomic-irq", "KM_USER0");
export const kmapAtomicIrqFixed = variant("kmap-atomic-irq-fixed", "KM_IRQ0");
