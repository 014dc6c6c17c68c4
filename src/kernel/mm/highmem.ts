// mm/highmem.c kmap / kunmap (i386): a lowmem page just returns its address; a HighMem page
// gets a permanent kmap slot (highmem_pkmap.ts) under kmap_lock, a PTE in init_mm's pkmap page
// table and an entry in page_address_htable (set_page_address). With every slot in use the
// caller sleeps on pkmap_map_wait until a kunmap leaves a slot unused; a scan that wraps flushes
// the unused slots and the whole kmap range from every CPU's TLB (flush_tlb_kernel_range).
// kmap may sleep (might_sleep); kunmap in interrupt context is a BUG (2.6).
// Simplified: the pkmap page table is allocated from the page allocator on the first kmap
// (Linux takes it from boot memory); page_address_htable is a map, not 128 hashed buckets.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { __might_sleep, current, in_interrupt, schedule } from "../sched/core.ts";
import { TASK_UNINTERRUPTIBLE } from "../sched/task.ts";
import { DEFINE_WAIT, finish_wait, init_waitqueue_head, prepare_to_wait, wake_up, type wait_queue_head_t } from "../sched/wait.ts";
import { spin_lock, spin_lock_init, spin_unlock, type spinlock_t } from "../locking/spinlock.ts";
import { BUG } from "../api_misc.ts";
import type { MmState } from "./mm_state.ts";
import { mm_of, type page } from "./page_alloc.ts";
import { page_address, set_page_address, type kaddr_t } from "./page.ts";
import { Pkmap, PKMAP_BASE } from "./highmem_pkmap.ts";
import { ensure_kernel_tables, flush_tlb_kernel_range, kernel_vm, set_kernel_pte } from "./vmalloc.ts";

export const LAST_PKMAP = 1024;

interface KmapState {
  readonly pkmap: Pkmap;
  readonly lock: spinlock_t;
  readonly wait: wait_queue_head_t;
  table_ready: boolean;
}

const states = new WeakMap<MmState, KmapState>();

function kmap_state(mm: MmState): KmapState {
  let s = states.get(mm);
  if (s === undefined) {
    s = { pkmap: new Pkmap(LAST_PKMAP), lock: spin_lock_init("kmap_lock"), wait: init_waitqueue_head("pkmap_map_wait"), table_ready: false };
    states.set(mm, s);
  }
  return s;
}

const is_highmem = (mm: MmState, p: page): boolean => p >= mm.dm.max_low_pfn;

/** map_new_virtual() under kmap_lock: a slot for `p`, sleeping while none is free. */
const map_new_virtual = (k: Kernel, mm: MmState, s: KmapState, p: page): Effect.Effect<kaddr_t> =>
  Effect.gen(function* () {
    const v = kernel_vm(mm);
    for (;;) {
      const unmapped: number[] = [];
      const flushes = s.pkmap.flushes;
      const nr = s.pkmap.map_new_virtual(p, (old) => unmapped.push(old));
      for (const old of unmapped) {
        set_page_address(mm.dm, old, 0);
      }
      if (s.pkmap.flushes !== flushes) {
        // flush_all_zero_pkmaps(): the freed slots' PTEs go, then one flush of the kmap range.
        for (let i = 0; i < LAST_PKMAP; i++) if (s.pkmap.count[i] === 0) set_kernel_pte(mm, v, Pkmap.addr(i), null);
        yield* flush_tlb_kernel_range(PKMAP_BASE, Pkmap.addr(LAST_PKMAP));
      }
      if (nr >= 0) {
        const vaddr = Pkmap.addr(nr);
        set_kernel_pte(mm, v, vaddr, p);
        set_page_address(mm.dm, p, vaddr);
        return vaddr;
      }
      // Every slot is in use: sleep until a kunmap frees one.
      const wait = DEFINE_WAIT();
      prepare_to_wait(s.wait, wait, TASK_UNINTERRUPTIBLE);
      yield* spin_unlock(s.lock);
      yield* schedule();
      finish_wait(s.wait, wait);
      yield* spin_lock(s.lock);
      // Somebody else might have mapped it while we slept.
      const a = page_address(mm.dm, p);
      if (a !== 0) return a;
      void k;
    }
  });

/** kmap(page): the page's kernel address, mapping a HighMem page into a pkmap slot. Context: may sleep. */
export const kmap = (p: page): Effect.Effect<kaddr_t> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    __might_sleep("arch/x86/mm/highmem_32.c", 0, 0);
    if (!is_highmem(mm, p)) return page_address(mm.dm, p);
    const s = kmap_state(mm);
    if (!s.table_ready) {
      // The pkmap page table, allocated once (a sleeping allocation, outside kmap_lock).
      if (!(yield* ensure_kernel_tables(mm, kernel_vm(mm), PKMAP_BASE))) return 0;
      s.table_ready = true;
    }
    yield* spin_lock(s.lock);
    let vaddr = page_address(mm.dm, p);
    if (vaddr === 0) vaddr = yield* map_new_virtual(k, mm, s, p);
    s.pkmap.get(Pkmap.nr(vaddr));
    yield* spin_unlock(s.lock);
    return vaddr;
  });

/** kunmap(page): drops a kmap reference; waiters retry when the slot becomes unused. Context: process (BUG in interrupt). */
export const kunmap = (p: page): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const mm = mm_of(k);
    if (in_interrupt()) return yield* BUG("arch/x86/mm/highmem_32.c: kunmap() in interrupt context");
    if (!is_highmem(mm, p)) return;
    const s = kmap_state(mm);
    yield* spin_lock(s.lock);
    const vaddr = page_address(mm.dm, p);
    const nr = Pkmap.nr(vaddr);
    if (vaddr === 0 || (s.pkmap.count[nr] ?? 0) < 2) {
      yield* spin_unlock(s.lock);
      return yield* BUG(`mm/highmem.c: kunmap_high() of ${current().comm}'s unmapped page`);
    }
    const need_wakeup = s.pkmap.put(nr) && s.wait.task_list.length > 0;
    yield* spin_unlock(s.lock);
    if (need_wakeup) wake_up(s.wait);
  });

/** The pkmap slots of this machine (for tests and statistics), or undefined if kmap was never used. */
export const pkmap_of = (mm: MmState): Pkmap | undefined => states.get(mm)?.pkmap;
