// Allocating in a tasklet (64 MiB i386, kernel 2.6, 2 CPUs). A driver thread creates a slab
// cache of 256-byte receive buffers and requests the NIC's interrupt; the handler schedules a
// tasklet that takes a buffer for every packet and keeps the last 64 (freeing the oldest).
// - slab-tasklet: kmem_cache_alloc(cache, GFP_ATOMIC), the rule for softirq context: clean.
// - slab-tasklet-kernel: GFP_KERNEL, a mask that may sleep, in softirq context: the slab
//   allocator's might_sleep_if reports "BUG: sleeping function called from invalid context at
//   mm/slab.c:3101" with in_atomic(): 1 (expected here). The buffers are still there: nothing
//   had to sleep, which is why such a bug hides until memory runs short.
import * as Effect from "effect/Effect";
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  GFP_ATOMIC, GFP_KERNEL, IRQ_HANDLED, SLAB_HWCACHE_ALIGN, kmem_cache_alloc, kmem_cache_create, kmem_cache_free, kthread_run, nic, printk, request_irq, tasklet_init, tasklet_schedule, type kmem_cache,
} from "../../src/kernel/index.ts";

const NIC_IRQ = 11;
const KEEP = 64;

interface State {
  packets: number;
  buffers: number;
  failed: number;
  /** The receive ring: the buffers the driver holds (kmemleak's handle on them). */
  readonly ring: number[];
}

function slab_tasklet(name: string, sleeping_mask: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: sleeping_mask ? "a tasklet allocates from a slab cache with GFP_KERNEL: might_sleep report" : "a tasklet allocates receive buffers from a slab cache with GFP_ATOMIC",
    machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 }, nics: [{ name: "eth0", irq: NIC_IRQ, rate: 20000, cpus: [0] }] },
    duration_ms: 20,
    expected_reports: sleeping_mask ? ["might_sleep"] : [],
    setup() {
      const st: State = { packets: 0, buffers: 0, failed: 0, ring: [] };
      const ring = st.ring;
      let cache: kmem_cache | null = null;
      function* rx_action(_data: unknown) {
        for (const _pkt of nic("eth0").reap()) {
          st.packets++;
          const buf = yield* kmem_cache_alloc(cache!, sleeping_mask ? GFP_KERNEL : GFP_ATOMIC);
          if (buf === 0) {
            st.failed++;
            continue;
          }
          st.buffers++;
          ring.push(buf);
          if (ring.length > KEEP) yield* kmem_cache_free(cache!, ring.shift()!);
        }
      }
      const rx_tasklet = tasklet_init(rx_action, null);
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        yield* tasklet_schedule(rx_tasklet);
        return IRQ_HANDLED;
      }
      kthread_run(
        function driver_init() {
          return Effect.gen(function* () {
            cache = yield* kmem_cache_create("rx_buf", 256, 0, SLAB_HWCACHE_ALIGN);
            request_irq(NIC_IRQ, eth0_interrupt, 0, "eth0", null);
          });
        },
        null,
        "driver",
      );
      return st;
    },
    check(st, expect) {
      printk(`${name}: ${st.packets} packets, ${st.buffers} buffers, ${st.failed} failures`);
      expect.that(st.packets > 200, `only ${st.packets} packets arrived`);
      expect.equal(st.buffers, st.packets, "buffers allocated, one a packet");
    },
  });
}

export const slabTasklet = slab_tasklet("slab-tasklet", false);
export const slabTaskletKernel = slab_tasklet("slab-tasklet-kernel", true);
