// mm/slab.c cache_reap() (2.6.34; the same in 6.1 under REAPTIMEOUT_AC / REAPTIMEOUT_NODE): each
// CPU's delayed work, first after round_jiffies(HZ) skewed 3 jiffies a CPU (start_cpu_timer),
// then every round_jiffies_relative(REAPTIMEOUT_CPUC = 2 s). For every cache, under
// mutex_trylock(&cache_chain_mutex) (skipped this round if busy): the CPU's array gives back
// (limit + 4) / 5 objects unless it was touched since the last pass (then only the mark is
// cleared); every REAPTIMEOUT_LIST3 (4 s) the node's shared array likewise, and unless the free
// list was touched, (free_limit + 5 * num - 1) / (5 * num) free slabs are destroyed.
// Not modelled: alien caches (reap_alien), next_reap_node's NUMA round robin.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { cond_resched } from "../sched/core.ts";
import { jiffies } from "../time/tick.ts";
import { mutex_trylock, mutex_unlock } from "../locking/mutex.ts";
import { INIT_DELAYED_WORK, schedule_delayed_work_on_event, type delayed_work } from "../workqueue.ts";
import type { MmState } from "./mm_state.ts";
import { mm_of } from "./page_alloc.ts";
import { slab_state } from "./slab.ts";
import { drain_array, drain_freelist } from "./slab_shrink.ts";
import { trace_cache_reap } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

/** round_jiffies_common(): to a whole second, skewed 3 jiffies per CPU; a target just past one rounds down. */
export function round_jiffies(j: number, cpu: number, hz: number, now: number): number {
  const original = j;
  j += cpu * 3;
  const rem = j % hz;
  j = rem < Math.floor(hz / 4) ? j - rem : j - rem + hz;
  j -= cpu * 3;
  return j <= now ? original : j;
}

/** __round_jiffies_relative(delta, cpu). */
export const round_jiffies_relative = (delta: number, cpu: number, hz: number, now: number): number => round_jiffies(delta + now, cpu, hz, now) - now;

const reap_works = new WeakMap<MmState, delayed_work[]>();

/** cache_reap(): one pass over cache_chain for this CPU, then the next one armed. Context: a worker thread. */
const cache_reap = gen_fn(function* cache_reap(): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  const s = slab_state(mm);
  const cpu = k.this_cpu().id;
  const node = mm.cpu_to_node[cpu] ?? 0;
  if (yield* mutex_trylock(s.cache_chain_mutex)) {
    for (const c of [...s.cache_chain]) {
      const l3 = c.nodelists[node]!;
      yield* drain_array(k, mm, c, l3, c.array[cpu]!, false);
      if (l3.next_reap <= jiffies()) {
        l3.next_reap = jiffies() + 4 * k.config.hz; // REAPTIMEOUT_LIST3
        yield* drain_array(k, mm, c, l3, l3.shared, false);
        if (l3.free_touched) l3.free_touched = false;
        else {
          const freed = yield* drain_freelist(k, mm, c, l3, Math.floor((l3.free_limit + 5 * c.num - 1) / (5 * c.num)));
          if (c.stats !== null) c.stats.reaped += freed; // STATS_ADD_REAPED
        }
      }
      yield* cond_resched();
    }
    yield* mutex_unlock(s.cache_chain_mutex);
  }
  trace_cache_reap(k, cpu);
  schedule_delayed_work_on_event(cpu, reap_works.get(mm)![cpu]!, round_jiffies_relative(2 * k.config.hz, cpu, k.config.hz, jiffies()));
});

/** start_cpu_timer() for every CPU (cpucache_init): the first pass about a second after boot. */
export function start_cache_reap(k: Kernel, mm: MmState): void {
  const works = k.percpu.map(() => INIT_DELAYED_WORK(function cache_reap_work() {
    return cache_reap();
  }));
  reap_works.set(mm, works);
  for (const pc of k.percpu) schedule_delayed_work_on_event(pc.id, works[pc.id]!, round_jiffies_relative(k.config.hz, pc.id, k.config.hz, 0));
}
