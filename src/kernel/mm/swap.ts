// mm/swap.c and include/linux/mm_inline.h reduced: putting pages on a zone's LRU lists,
// mark_page_accessed() aging, activate_page(), rotate_reclaimable_page(). Every operation takes
// zone->lru_lock itself (Linux batches additions in per-CPU pagevecs of 14 pages first; not
// modelled). A page cache page has PG_swapbacked clear (a file page), an anonymous one set.
import * as Effect from "effect/Effect";
import { spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore } from "../locking/spinlock.ts";
import { LRU_ACTIVE_ANON, LRU_INACTIVE_ANON, type Zone } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import { PG_active, PG_lru, PG_referenced, PG_swapbacked, PG_unevictable } from "./page-flags.ts";
import { gen_fn } from "../gen_fn.ts";

/** page_lru(): the list a page belongs on by its flags. */
export function page_lru(mm: MmState, p: number): number {
  const file = mm.mem_map.test(p, PG_swapbacked) ? 0 : 2;
  return file + (mm.mem_map.test(p, PG_active) ? LRU_ACTIVE_ANON - LRU_INACTIVE_ANON : 0);
}

export const is_file_lru = (lru: number): boolean => lru >= 2;
export const is_active_lru = (lru: number): boolean => lru === 1 || lru === 3;

/** add_page_to_lru_list() (caller holds zone->lru_lock). */
export function add_page_to_lru_list(mm: MmState, z: Zone, p: number, lru: number): void {
  mm.mem_map.set(p, PG_lru);
  z.lru[lru]!.add(p);
}

/** del_page_from_lru() (caller holds zone->lru_lock). */
export function del_page_from_lru(mm: MmState, z: Zone, p: number): void {
  z.lru[page_lru(mm, p)]!.del(p);
  mm.mem_map.clear(p, PG_lru);
}

/** lru_cache_add_lru(): a new page goes on `lru` (active lists set PG_active). Context: process, interrupts on (spin_lock_irq). */
export const lru_cache_add_lru = gen_fn(function* lru_cache_add_lru(mm: MmState, p: number, lru: number): Effect.fn.Return<void> {
  const z = mm.page_zone(p)!;
  if (is_active_lru(lru)) mm.mem_map.set(p, PG_active);
  yield* spin_lock_irq(z.lru_lock);
  add_page_to_lru_list(mm, z, p, lru);
  yield* spin_unlock_irq(z.lru_lock);
});

/** activate_page(): an inactive page on the LRU moves to the head of its active list. */
function* activate_page(mm: MmState, p: number): Effect.fn.Return<void> {
  const z = mm.page_zone(p)!;
  yield* spin_lock_irq(z.lru_lock);
  if (mm.mem_map.test(p, PG_lru) && !mm.mem_map.test(p, PG_active) && !mm.mem_map.test(p, PG_unevictable)) {
    del_page_from_lru(mm, z, p);
    mm.mem_map.set(p, PG_active);
    add_page_to_lru_list(mm, z, p, page_lru(mm, p));
    mm.ev.pgactivate++;
  }
  yield* spin_unlock_irq(z.lru_lock);
}

/**
 * mark_page_accessed(): inactive,unreferenced -> inactive,referenced; inactive,referenced ->
 * active,unreferenced; active,unreferenced -> active,referenced. Context: process, interrupts
 * on (activate_page takes zone->lru_lock with spin_lock_irq).
 */
export const mark_page_accessed = gen_fn(function* mark_page_accessed(mm: MmState, p: number): Effect.fn.Return<void> {
  const m = mm.mem_map;
  if (!m.test(p, PG_active) && !m.test(p, PG_unevictable) && m.test(p, PG_referenced) && m.test(p, PG_lru)) {
    yield* activate_page(mm, p);
    m.clear(p, PG_referenced);
  } else if (!m.test(p, PG_referenced)) {
    m.set(p, PG_referenced);
  }
});

/** rotate_reclaimable_page(): a written-back page moves to the tail of the inactive list. Context: any (IRQ). */
export function* rotate_reclaimable_page(mm: MmState, p: number): Effect.fn.Return<void> {
  const m = mm.mem_map;
  if (!m.test(p, PG_lru) || m.test(p, PG_active) || m.test(p, PG_unevictable)) return;
  const z = mm.page_zone(p)!;
  const flags = yield* spin_lock_irqsave(z.lru_lock);
  if (m.test(p, PG_lru) && !m.test(p, PG_active)) {
    const list = z.lru[page_lru(mm, p)]!;
    list.del(p);
    list.add_tail(p);
    mm.ev.pgrotated++;
  }
  yield* spin_unlock_irqrestore(z.lru_lock, flags);
}
