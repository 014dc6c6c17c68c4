// kmap_atomic slot reuse by a nested interrupt (1 CPU, 1 GiB i386, kernel 2.6): a task copies
// HighMem pages through the KM_USER0 slot, a few microseconds each; the NIC's handler also maps a
// page, wrongly in KM_USER0. Only an interrupt that lands while the task's mapping is live finds
// the slot taken: "kernel BUG at arch/x86/mm/highmem_32.c" (BUG_ON(!pte_none())). Fixed: the
// handler uses KM_IRQ0, the slot interrupts own.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_ATOMIC, GFP_HIGHUSER, IRQ_HANDLED, __GFP_HIGHMEM, alloc_page, kmap_atomic, kthread_run, kunmap_atomic, mem_read, mem_write, nic, request_irq, udelay } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

export default bug_pair("bug-kmap-atomic-nested", "an interrupt handler using the task's kmap_atomic slot", "bug", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "the handler maps with KM_IRQ0: no slot conflict" : "a handler maps with KM_USER0 while the task may be inside its own KM_USER0 mapping: kernel BUG on some seeds",
    machine: { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 1024 }, nics: [{ name: "eth0", irq: 11, rate: 1000, cpus: [0] }] },
    duration_ms: 10,
    setup() {
      let page = -1;
      request_irq(
        11,
        function* () {
          nic("eth0").reap();
          if (page < 0) page = (yield* alloc_page(GFP_ATOMIC | __GFP_HIGHMEM)) ?? -1;
          if (page >= 0) {
            const slot = fixed ? "KM_IRQ0" : "KM_USER0";
            const a = yield* kmap_atomic(page, slot);
            mem_read(a, 64);
            yield* kunmap_atomic(a, slot);
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
            for (;;) {
              const a = yield* kmap_atomic(p, "KM_USER0");
              mem_write(a, 256);
              yield* udelay(4);
              yield* kunmap_atomic(a, "KM_USER0");
              yield* udelay(150);
            }
          }),
        null,
        "copier",
        { cpus: [0] },
      );
      return null;
    },
  }),
);
