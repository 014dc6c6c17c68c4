// Two scenarios in one file, importing "mmsim": a driver's receive path that allocates with
// GFP_KERNEL in a tasklet (softirq context: it must not sleep), and the same path with GFP_ATOMIC.
// Run one with `npx mmsim run scenarios.ts#rx-tasklet-kernel`; list them with `npx mmsim list scenarios.ts`.
import { defineScenario, GFP_ATOMIC, GFP_KERNEL, kfree, kmalloc, msleep, kthread_run, tasklet_init, tasklet_schedule, type gfp_t } from "mmsim";

const rx = (name: string, gfp: gfp_t) =>
  defineScenario({
    name,
    description: `a tasklet allocating its receive buffer with ${gfp === GFP_ATOMIC ? "GFP_ATOMIC" : "GFP_KERNEL"}`,
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 256 } },
    setup() {
      const st = { received: 0 };
      const t = tasklet_init(function* rx_action() {
        const buf = yield* kmalloc(1500, gfp);
        if (buf !== 0) {
          st.received++;
          yield* kfree(buf);
        }
      }, null);
      kthread_run(function* poller() {
        for (let i = 0; i < 4; i++) {
          yield* tasklet_schedule(t);
          yield* msleep(1);
        }
      }, null, "poller");
      return st;
    },
    check(st, expect) {
      expect.equal(st.received, 4, "buffers received");
    },
  });

export const rxTaskletKernel = rx("rx-tasklet-kernel", GFP_KERNEL);
export const rxTaskletAtomic = rx("rx-tasklet-atomic", GFP_ATOMIC);
