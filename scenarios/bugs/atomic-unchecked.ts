// A GFP_ATOMIC allocation whose failure is not checked: a NIC handler allocates a descriptor
// with kmalloc(GFP_ATOMIC) for each packet and fills it in at once. GFP_ATOMIC cannot sleep or
// reclaim, so it fails under pressure; here failslab fails 2 % of such allocations. The unchecked
// NULL is written through: "BUG: unable to handle kernel NULL pointer dereference". Fixed: a
// NULL descriptor drops the packet.
import { defineScenario } from "../../src/harness/scenario.ts";
import { GFP_ATOMIC, IRQ_HANDLED, kfree, kmalloc, mem_write, nic, request_irq } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

export default bug_pair("bug-atomic-unchecked", "a GFP_ATOMIC allocation used without a NULL check", "bug", (name, fixed) =>
  defineScenario({
    name,
    description: fixed ? "a failed GFP_ATOMIC allocation drops the packet: clean" : "a handler writes through an unchecked kmalloc(GFP_ATOMIC): NULL pointer dereference when it fails",
    machine: {
      cpus: 1,
      memory: { arch: "i386", kernel: "2.6", mb: 32 },
      nics: [{ name: "eth0", irq: 11, rate: 5000, cpus: [0] }],
      fault_injection: { failslab: { probability: 2, times: -1, verbose: 0 } },
    },
    duration_ms: 6,
    setup() {
      const st = { dropped: 0 };
      request_irq(
        11,
        function* () {
          for (const _ of nic("eth0").reap()) {
            const desc = yield* kmalloc(32, GFP_ATOMIC);
            if (fixed && desc === 0) {
              st.dropped++;
              continue;
            }
            mem_write(desc + 8, 4); // desc->len = skb->len
            yield* kfree(desc);
          }
          return IRQ_HANDLED;
        },
        0,
        "eth0",
        null,
      );
      return st;
    },
  }),
);
