// A NIC interrupt storm against sleeping allocators (64 MiB i386, kernel 2.6). The page cache
// fills most of memory first, all of it dirty. Then eth0's handler refills its receive ring
// with one GFP_ATOMIC page per packet and wakes a slower "netrx" task, which frees them (60 a
// millisecond against the storm's 150, and the rest once it is over), and two workers allocate
// with GFP_KERNEL. The atomic allocations may dig below the Normal zone's min watermark
// (192 pages), down to 3/8 of it (72: min - min/2 for __GFP_HIGH, - a quarter for not sleeping),
// less the pcp batch (3) that a refill takes after its check: never below 70. The workers wake
// kswapd, reclaim directly, sleep in congestion_wait while dirty pages are written back, and all
// finish. When the reserve runs out the handler drops packets ("page allocation failure").
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  GFP_ATOMIC,
  GFP_KERNEL,
  IRQ_HANDLED,
  __free_page,
  alloc_page,
  current,
  for_each_populated_zone,
  init_waitqueue_head,
  kthread_run,
  ktime_get_ns,
  msleep,
  nic,
  page_cache_fill,
  printk,
  request_irq,
  vm_events,
  wait_event,
  wake_up,
  type page,
} from "../../src/kernel/index.ts";

const WORKER_PAGES = 1500;

export default defineScenario({
  name: "atomic-storm",
  description: "GFP_ATOMIC interrupt storm digs into the reserves while GFP_KERNEL tasks reclaim and wait",
  machine: {
    cpus: 2,
    nics: [{ name: "eth0", irq: 11, rate: 150_000, cpus: [1] }],
    memory: { arch: "i386", kernel: "2.6", mb: 64 },
  },
  expected_reports: ["alloc_failure"],
  setup() {
    const st = { storm: false, over: false, backlog: [] as page[], rx: 0, dropped: 0, freed: 0, freed_in_storm: 0, lowest_normal: Infinity, normal_min: 0, normal_batch: 0, done: 0, slept: 0, stalls: 0, kswapd_wakeups: 0 };
    const rx_wait = init_waitqueue_head("netrx");

    // eth0: one GFP_ATOMIC page per received packet while the storm lasts.
    function* eth0_interrupt(_irq: number, _dev: unknown) {
      for (const _pkt of nic("eth0").reap()) {
        if (!st.storm) continue;
        const p = yield* alloc_page(GFP_ATOMIC);
        if (p === null) {
          st.dropped++;
          continue;
        }
        st.rx++;
        st.backlog.push(p);
        wake_up(rx_wait);
        // The zone GFP_ATOMIC comes from first: the highest lowmem zone (Normal on this machine).
        let top = "";
        for_each_populated_zone((z) => {
          if (!z.is_highmem) top = z.name;
        });
        for_each_populated_zone((z) => {
          if (z.name === top && z.node === 0) {
            st.lowest_normal = Math.min(st.lowest_normal, z.free_pages);
            st.normal_min = z.watermark.min;
            st.normal_batch = z.pageset[0]!.batch;
          }
        });
      }
      return IRQ_HANDLED;
    }
    request_irq(11, eth0_interrupt, 0, "eth0", null);

    // netrx: the protocol stack. Woken by eth0, it frees 60 buffers for each millisecond since
    // its last batch (the storm brings 150), sleeping msleep(1) between batches; once the storm
    // is over it frees the rest.
    kthread_run(
      () =>
        Effect.gen(function* () {
          let last = 0;
          for (;;) {
            if (st.backlog.length === 0 && !st.over) {
              yield* wait_event(rx_wait, () => st.backlog.length > 0 || st.over);
              last = ktime_get_ns();
            }
            if (st.backlog.length === 0) return;
            yield* msleep(1);
            const now = ktime_get_ns();
            let budget = st.over ? st.backlog.length : Math.floor(((now - last) * 60) / 1e6);
            last = now;
            for (; budget > 0 && st.backlog.length > 0; budget--) {
              yield* __free_page(st.backlog.shift()!);
              st.freed++;
              if (!st.over) st.freed_in_storm++;
            }
          }
        }),
      null,
      "netrx",
      { cpus: [1] },
    );

    // The page cache takes memory first; then the storm starts and the workers allocate.
    kthread_run(
      () =>
        Effect.gen(function* () {
          yield* page_cache_fill(13500, { dirty: true });
          st.storm = true;
          yield* msleep(5);
          const worker = (_: null) =>
            Effect.gen(function* () {
              const held: page[] = [];
              for (let i = 0; i < WORKER_PAGES; i++) {
                const p = yield* alloc_page(GFP_KERNEL);
                if (p !== null) held.push(p);
              }
              printk(`${current().comm}: got ${held.length} pages after sleeping ${current().nvcsw} times`);
              if (current().nvcsw > 0) st.slept++;
              for (const p of held) yield* __free_page(p);
              st.done++;
            });
          kthread_run(worker, null, "worker/0", { cpus: [0] });
          kthread_run(worker, null, "worker/1", { cpus: [0] });
          yield* msleep(35);
          st.storm = false;
          st.over = true;
          wake_up(rx_wait);
          const ev = vm_events();
          st.stalls = ev.allocstall;
          st.kswapd_wakeups = ev.kswapd_wakeups;
          printk(`storm over: ${st.rx} packets buffered (${st.freed_in_storm} freed by netrx meanwhile), ${st.dropped} dropped; the first zone's free pages fell to ${st.lowest_normal} (min ${st.normal_min}); allocstall ${st.stalls}, kswapd woken ${st.kswapd_wakeups} times`);
        }),
      null,
      "storm",
      { cpus: [0] },
    );
    return st;
  },
  check(st, expect) {
    expect.that(st.lowest_normal < st.normal_min, `GFP_ATOMIC did not dig below the min watermark (lowest free ${st.lowest_normal}, min ${st.normal_min})`);
    // GFP_ATOMIC passes while free > min - min/2 - (min - min/2)/4; a pcp refill then takes a batch.
    const half = st.normal_min - Math.floor(st.normal_min / 2);
    const floor = half - Math.floor(half / 4) + 1 - st.normal_batch;
    expect.that(st.lowest_normal >= floor, `free pages fell to ${st.lowest_normal}, below the atomic reserve (${floor} with a pcp batch of ${st.normal_batch})`);
    expect.equal(st.done, 2, "workers that finished");
    expect.that(st.slept > 0, "no worker had to sleep for memory");
    expect.that(st.kswapd_wakeups > 0, "kswapd was never woken");
    expect.that(st.freed_in_storm > 0, "netrx freed no buffer while the storm lasted");
    expect.equal(st.freed, st.rx, "buffers netrx freed (every one buffered)");
  },
});
