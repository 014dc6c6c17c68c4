// mm/highmem.c kmap / kunmap (i386): a lowmem page just returns its address; a HighMem page
// gets a permanent kmap slot (highmem_pkmap.ts) under kmap_lock, a PTE in init_mm's pkmap page
// table and an entry in page_address_htable (set_page_address). With every slot in use the
// caller sleeps on pkmap_map_wait until a kunmap leaves a slot unused; a scan that wraps flushes
// the unused slots and the whole kmap range from every CPU's TLB (flush_tlb_kernel_range).
// kmap may sleep (might_sleep); kunmap in interrupt context is a BUG in 2.6 and a might_sleep
// report in 6.1. Temporary mappings in the fixmap: 2.6's kmap_atomic(page, km_type) uses one slot
// per type and CPU (arch/x86/mm/highmem_32.c); 6.1's kmap_local_page and kmap_atomic (which is
// kmap_local with preemption off, no km_type) stack per task: the task's i-th mapping uses slot
// KM_MAX_IDX * cpu + i, the task cannot migrate meanwhile, and a context switch takes its PTEs
// off the CPU and puts them back (__kmap_local_sched_out/in). kmap_flush_unused() (for
// change_page_attr) frees the unused slots with one flush, as a wrapping scan does.
// Simplified: the pkmap page table is allocated from the page allocator on the first kmap
// (Linux takes it from boot memory); page_address_htable is a map, not 128 hashed buckets; the
// fixmap's layout is assumed (FIX_KMAP_BEGIN 64 slots below FIXADDR_TOP); kernel 2.6 also has
// kmap_local_page (which 2.6.34 lacks), after its km_type slots.
import * as Effect from "effect/Effect";
import { kernel, type Kernel } from "../kernel.ts";
import { ScenarioError } from "../../sim/errors.ts";
import { __might_sleep, current, in_interrupt, preempt_disable, preempt_enable, schedule } from "../sched/core.ts";
import { dump_stack, warn_text } from "../dumpstack.ts";
import type { Task } from "../sched/task.ts";
import { GFP_ATOMIC } from "./gfp.ts";
import { KmapAtomicSlots, KM_TYPE_NR, type km_type } from "./highmem_atomic.ts";
import { TASK_UNINTERRUPTIBLE } from "../sched/task.ts";
import { DEFINE_WAIT, finish_wait, init_waitqueue_head, prepare_to_wait, wake_up, type wait_queue_head_t } from "../sched/wait.ts";
import { spin_lock, spin_lock_init, spin_unlock, type spinlock_t } from "../locking/spinlock.ts";
import { BUG } from "../api_misc.ts";
import type { MmState } from "./mm_state.ts";
import { mm_of, type page } from "./page_alloc.ts";
import { format_kaddr, page_address, set_page_address, type kaddr_t } from "./page.ts";
import { Pkmap } from "./highmem_pkmap.ts";
import { FIXADDR_BOOT_START, FIXADDR_TOP, FIX_KMAP_BEGIN, LAST_PKMAP, PKMAP_BASE } from "./pgtable_32_types.ts";
import { ensure_kernel_tables, kernel_vm, linear_of, set_kernel_pte } from "./vmalloc.ts";
import { flush_tlb_kernel_range } from "./tlb.ts";
import { gen_fn } from "../gen_fn.ts";

/** LAST_PKMAP: 1024 slots, 512 with PAE. */
export const last_pkmap = (mm: MmState): number => LAST_PKMAP(mm.dm.pae);

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
    s = { pkmap: new Pkmap(last_pkmap(mm), () => {}, PKMAP_BASE(mm.dm.pae)), lock: spin_lock_init("kmap_lock"), wait: init_waitqueue_head("pkmap_map_wait"), table_ready: false };
    states.set(mm, s);
  }
  return s;
}

const is_highmem = (mm: MmState, p: page): boolean => p >= mm.dm.max_low_pfn;

/** map_new_virtual() under kmap_lock: a slot for `p`, sleeping while none is free. */
function* map_new_virtual(k: Kernel, mm: MmState, s: KmapState, p: page): Effect.fn.Return<kaddr_t> {
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
      for (let i = 0; i < s.pkmap.last_pkmap; i++) if (s.pkmap.count[i] === 0) set_kernel_pte(mm, v, s.pkmap.addr(i), null);
      yield* flush_tlb_kernel_range(s.pkmap.base, s.pkmap.addr(s.pkmap.last_pkmap));
    }
    if (nr >= 0) {
      const vaddr = s.pkmap.addr(nr);
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
}

/** kmap(page): the page's kernel address, mapping a HighMem page into a pkmap slot. Context: may sleep. */
export const kmap = gen_fn(function* kmap(p: page): Effect.fn.Return<kaddr_t> {
  const k = kernel();
  const mm = mm_of(k);
  __might_sleep("arch/x86/mm/highmem_32.c", 0, 0);
  if (!is_highmem(mm, p)) return page_address(mm.dm, p);
  const s = kmap_state(mm);
  if (!s.table_ready) {
    // The pkmap page table, allocated once (a sleeping allocation, outside kmap_lock).
    if (!(yield* ensure_kernel_tables(mm, kernel_vm(mm), s.pkmap.base))) return 0;
    s.table_ready = true;
  }
  yield* spin_lock(s.lock);
  let vaddr = page_address(mm.dm, p);
  if (vaddr === 0) vaddr = yield* map_new_virtual(k, mm, s, p);
  s.pkmap.get(s.pkmap.nr(vaddr));
  yield* spin_unlock(s.lock);
  return vaddr;
});

/**
 * kmap_flush_unused(): flush_all_zero_pkmaps() under kmap_lock: the slots no one uses any more
 * (count 1) are unmapped and, if there were any, the kmap range is flushed from every CPU's TLB.
 * Nothing to do before the first kmap of a HighMem page (and always on x86_64).
 * Context: process, may sleep.
 */
export function* kmap_flush_unused(): Effect.fn.Return<void> {
  const mm = mm_of(kernel());
  const s = states.get(mm);
  if (s === undefined) return;
  yield* spin_lock(s.lock);
  const unmapped = s.pkmap.flush_all_zero_pkmaps();
  for (const old of unmapped) set_page_address(mm.dm, old, 0);
  if (unmapped.length > 0) {
    for (let i = 0; i < s.pkmap.last_pkmap; i++) if (s.pkmap.count[i] === 0) set_kernel_pte(mm, kernel_vm(mm), s.pkmap.addr(i), null);
    yield* flush_tlb_kernel_range(s.pkmap.base, s.pkmap.addr(s.pkmap.last_pkmap));
  }
  yield* spin_unlock(s.lock);
}

/** kunmap(page): drops a kmap reference; waiters retry when the slot becomes unused. Context: process (BUG in interrupt). */
export const kunmap = gen_fn(function* kunmap(p: page): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  // 2.6.34: BUG_ON(in_interrupt()); 6.1's kunmap() (highmem-internal.h) only might_sleep()s.
  if (mm.era === "6") __might_sleep("include/linux/highmem-internal.h", 0, 0);
  else if (in_interrupt()) return yield* BUG("arch/x86/mm/highmem_32.c: kunmap() in interrupt context");
  if (!is_highmem(mm, p)) return;
  const s = kmap_state(mm);
  yield* spin_lock(s.lock);
  const vaddr = page_address(mm.dm, p);
  const nr = s.pkmap.nr(vaddr);
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

// ---------------------------------------------------------------- kmap_atomic (2.6) and kmap_local_page (6.x)

/** __fix_to_virt(FIX_KMAP_BEGIN + idx) (pgtable_32_types.ts: the fixmap's layout is assumed). */
export function fix_to_virt(idx: number): kaddr_t {
  const v = FIXADDR_TOP - (FIX_KMAP_BEGIN + idx) * 4096;
  if (v < FIXADDR_BOOT_START) throw new ScenarioError(`kmap_atomic/kmap_local: fixmap slot ${idx} lies below mmsim's assumed fixmap (${(FIXADDR_TOP - FIXADDR_BOOT_START) / 4096 - FIX_KMAP_BEGIN} slots: fewer CPUs)`);
  return v;
}
/** 6.x KM_MAX_IDX: kmap_local slots per CPU. */
export const KM_MAX_IDX = 16;

const atomic_slots = new WeakMap<MmState, KmapAtomicSlots>();
function slots_of(k: Kernel, mm: MmState): KmapAtomicSlots {
  let s = atomic_slots.get(mm);
  if (s === undefined) atomic_slots.set(mm, (s = new KmapAtomicSlots(k.percpu.length)));
  return s;
}

/** The fixmap page table, made on first use with GFP_ATOMIC (Linux sets it up at boot). */
const fixmap_table = (mm: MmState, addr: kaddr_t): Effect.Effect<boolean> => ensure_kernel_tables(mm, kernel_vm(mm), addr, GFP_ATOMIC);

/**
 * kmap_atomic(page, type): maps the page with preemption off. 2.6: in this CPU's `type` slot; a
 * slot still in use on this CPU (an interrupt taking the task's KM_USER0) is a kernel BUG, as
 * BUG_ON(!pte_none(...)) in kmap_atomic_prot. 6.1 has no km_type: `type` is ignored and the page
 * takes the next kmap_local slot (kmap_atomic is kmap_local with preemption off). Context: any;
 * never sleeps.
 */
export const kmap_atomic = gen_fn(function* kmap_atomic(p: page, type: km_type): Effect.fn.Return<kaddr_t> {
  const k = kernel();
  const mm = mm_of(k);
  preempt_disable(); // pagefault_disable()
  if (!is_highmem(mm, p)) return page_address(mm.dm, p);
  if (mm.era === "6") return yield* kmap_local_push(k, mm, p);
  const cpu = k.this_cpu().id;
  const idx = KmapAtomicSlots.idx(type, cpu);
  const vaddr = fix_to_virt(idx);
  const cur = k.this_ctx();
  const prev = slots_of(k, mm).map(type, cpu, { pfn: p, by: `${cur.name}` });
  if (prev !== null) {
    return yield* BUG(`arch/x86/mm/highmem_32.c: kmap_atomic(${type}) on CPU${cpu}: the slot still maps pfn ${prev.pfn.toString(16)} for ${prev.by}`);
  }
  if (!(yield* fixmap_table(mm, vaddr))) return 0;
  set_kernel_pte(mm, kernel_vm(mm), vaddr, p);
  return vaddr;
});

/** kunmap_atomic(addr, type): clears the slot with a local TLB flush of its page (6.1: kunmap_local_indexed), then preemption back on. */
export const kunmap_atomic = gen_fn(function* kunmap_atomic(addr: kaddr_t, type: km_type): Effect.fn.Return<void> {
  const k = kernel();
  const mm = mm_of(k);
  if (mm.era === "6") yield* kunmap_local_indexed(k, mm, addr);
  else {
    const cpu = k.this_cpu().id;
    const idx = KmapAtomicSlots.idx(type, cpu);
    if (Math.floor(addr / 4096) * 4096 === fix_to_virt(idx)) {
      slots_of(k, mm).unmap(type, cpu);
      set_kernel_pte(mm, kernel_vm(mm), fix_to_virt(idx), null);
      k.machine.tlbs[cpu]!.flush_page(linear_of(mm, fix_to_virt(idx)));
    }
  }
  yield* preempt_enable();
});

/**
 * The fixmap slot of kmap_local index `i` on `cpu` (6.1: FIX_KMAP_BEGIN + KM_MAX_IDX * cpu + i;
 * kernel 2.6 has no kmap_local, mmsim puts its slots after the km_type ones).
 */
function kmap_local_slot(k: Kernel, mm: MmState, cpu: number, i: number): kaddr_t {
  const base = mm.era === "6" ? 0 : KM_TYPE_NR * k.percpu.length;
  return fix_to_virt(base + cpu * KM_MAX_IDX + i);
}

/** __kmap_local_pfn_prot(): migrate_disable, the task's next index, its PTE (remembered for a context switch). */
const kmap_local_push = gen_fn(function* kmap_local_push(k: Kernel, mm: MmState, p: page): Effect.fn.Return<kaddr_t> {
  const task = current();
  const stack = (task.kmap_local ??= []);
  if (stack.length >= KM_MAX_IDX) return yield* BUG("mm/highmem.c: kmap_local_idx_push(): more than KM_MAX_IDX nested mappings");
  const vaddr = kmap_local_slot(k, mm, k.this_cpu().id, stack.length);
  if (!(yield* fixmap_table(mm, vaddr))) return 0;
  task.migrate_disabled++;
  set_kernel_pte(mm, kernel_vm(mm), vaddr, p);
  stack.push(p);
  return vaddr;
});

/**
 * kunmap_local_indexed(): releases the task's innermost mapping. An address that is not the
 * innermost slot is a WARN_ON_ONCE; the innermost is released anyway, as in 6.1.
 */
function kunmap_local_indexed(k: Kernel, mm: MmState, addr: kaddr_t): Effect.Effect<void> {
  if (addr >= mm.dm.page_offset && addr < mm.dm.page_offset + mm.dm.max_low_pfn * 4096) return Effect.void; // a lowmem page's own address
  const task = current();
  const stack = task.kmap_local ?? [];
  const cpu = k.this_cpu().id;
  if (stack.length === 0) return BUG(`mm/highmem.c: kmap_local_idx_pop(): ${task.comm} has no kmap_local mapping left`);
  const top = kmap_local_slot(k, mm, cpu, stack.length - 1);
  if (Math.floor(addr / 4096) * 4096 !== top && !warned_out_of_order.has(k)) {
    warned_out_of_order.add(k);
    k.report("bug", warn_text(k.this_ctx(), "mm/highmem.c", "kunmap_local_indexed", [`unmapping ${format_kaddr(mm.dm, addr)}, the innermost mapping is ${format_kaddr(mm.dm, top)}`]));
  }
  stack.pop();
  set_kernel_pte(mm, kernel_vm(mm), top, null);
  k.machine.tlbs[cpu]!.flush_page(linear_of(mm, top));
  task.migrate_disabled--;
  return Effect.void;
}
const warned_out_of_order = new WeakSet<Kernel>();

/**
 * kmap_local_page(page) (6.x): the next of the task's stacked slots on this CPU; the task cannot
 * migrate until it unmaps them (migrate_disable), and a context switch saves and restores them.
 * Mappings must be released in reverse order. Context: any; never sleeps.
 */
export const kmap_local_page = (p: page): Effect.Effect<kaddr_t> =>
  Effect.suspend(() => {
    const k = kernel();
    const mm = mm_of(k);
    return is_highmem(mm, p) ? kmap_local_push(k, mm, p) : Effect.succeed(page_address(mm.dm, p));
  });

/** kunmap_local(addr): releases the task's most recent kmap_local mapping. Context: any. */
export const kunmap_local = (addr: kaddr_t): Effect.Effect<void> =>
  Effect.suspend(() => {
    const k = kernel();
    return kunmap_local_indexed(k, mm_of(k), addr);
  });

/**
 * __kmap_local_sched_out() / __kmap_local_sched_in(): a task switched out takes its kmap_local
 * PTEs off this CPU's slots (with a local flush of each); switched back in, they are restored.
 */
export function kmap_local_sched_out(k: Kernel, cpu: number, task: Task): void {
  const mm = k.mm;
  if (mm === null || task.kmap_local === undefined) return;
  for (let i = 0; i < task.kmap_local.length; i++) {
    const vaddr = kmap_local_slot(k, mm, cpu, i);
    set_kernel_pte(mm, kernel_vm(mm), vaddr, null);
    k.machine.tlbs[cpu]!.flush_page(linear_of(mm, vaddr));
  }
}

export function kmap_local_sched_in(k: Kernel, cpu: number, task: Task): void {
  const mm = k.mm;
  if (mm === null || task.kmap_local === undefined) return;
  task.kmap_local.forEach((p, i) => set_kernel_pte(mm, kernel_vm(mm), kmap_local_slot(k, mm, cpu, i), p));
}
