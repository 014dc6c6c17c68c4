// RCU's classic bug, caught by KASAN (2 CPUs, 64 MiB x86_64, kernel 6 built with CONFIG_KASAN,
// CONFIG_PREEMPT: preemptible RCU). A driver keeps its configuration in a kmalloc'd 64-byte
// block that readers reach through an RCU-protected pointer: a reader on CPU1 looks it up
// under rcu_read_lock() (rcu_dereference), works a little, then reads cfg->mtu (offset 8); an
// updater on CPU0 builds a new block, publishes it with rcu_assign_pointer() and gets rid of
// the old one.
// - rcu-use-after-free: the updater kfree()s the old block right after publishing the new one.
//   A reader that fetched the old pointer just before still uses it: on the seeds where its
//   read lands after the kfree, KASAN (which poisoned the object and keeps it in its quarantine)
//   reports "BUG: KASAN: use-after-free in cfg_reader", "Read of size 4 at addr ... by task
//   cfg_reader/4", with the updater's kmalloc and kfree tracks (expected). Other seeds miss the
//   window; `mmsim sweep rcu-use-after-free --seeds 1..50` shows how many hit it.
// - rcu-use-after-free-fixed: the updater waits for a grace period (synchronize_rcu()) before
//   kfree(): every reader that could have fetched the old pointer has left its read-side
//   section by then, so no seed reports (kfree_rcu(old) would do the same without waiting).
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import {
  GFP_KERNEL,
  kfree,
  kmalloc,
  kthread_run,
  mem_read,
  memset,
  rcu_assign_pointer,
  rcu_dereference,
  rcu_dereference_protected,
  rcu_read_lock,
  rcu_read_unlock,
  shared,
  synchronize_rcu,
  udelay,
} from "../../src/kernel/index.ts";

export interface State {
  /** Lookups done and configurations replaced. */
  reads: number;
  updates: number;
}

const UPDATES = 5;
const READS = 40;

export function rcu_use_after_free(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the updater waits for a grace period (synchronize_rcu) before kfree: no reader sees freed memory"
      : "an RCU updater kfree()s the old object at once after rcu_assign_pointer: KASAN use-after-free in the reader on some seeds",
    machine: { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 }, kasan: true },
    ...(fixed ? {} : { expected_reports: ["kasan" as const] }),
    setup() {
      const st: State = { reads: 0, updates: 0 };
      const gp_cfg = shared(0); // struct drv_cfg __rcu *gp_cfg
      kthread_run(
        function* cfg_update(_: null) {
          const first = yield* kmalloc(64, GFP_KERNEL);
          memset(first, 0, 64);
          yield* rcu_assign_pointer(gp_cfg, first);
          for (let i = 0; i < UPDATES; i++) {
            yield* udelay(40);
            const cfg = yield* kmalloc(64, GFP_KERNEL);
            memset(cfg, 0, 64); // the new configuration, filled in before it is published
            const old = rcu_dereference_protected(gp_cfg, true); // the updater's own view (one updater)
            yield* rcu_assign_pointer(gp_cfg, cfg);
            if (fixed) yield* synchronize_rcu();
            yield* kfree(old);
            st.updates++;
          }
        },
        null,
        "cfg_update",
        { cpus: [0] },
      );
      kthread_run(
        function* cfg_reader(_: null) {
          for (let i = 0; i < READS; i++) {
            rcu_read_lock();
            const cfg = yield* rcu_dereference(gp_cfg);
            if (cfg !== 0) {
              yield* udelay(1); // parse a little before using it
              mem_read(cfg + 8, 4); // cfg->mtu
              st.reads++;
            }
            yield* rcu_read_unlock();
            yield* udelay(6);
          }
        },
        null,
        "cfg_reader",
        { cpus: [1] },
      );
      return st;
    },
    check(st, expect) {
      expect.equal(st.updates, UPDATES, "configurations replaced");
      expect.that(st.reads > READS / 2, `only ${st.reads} lookups found a configuration`);
    },
  });
}

export const rcuUseAfterFree = rcu_use_after_free("rcu-use-after-free", false);
export const rcuUseAfterFreeFixed = rcu_use_after_free("rcu-use-after-free-fixed", true);
