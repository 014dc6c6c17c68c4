// mm/filemap.c reduced to a page cache scenarios fill: pages of one file (mapping 1) read in
// with the mapping's mask (GFP_HIGHUSER_MOVABLE, cold pages as page_cache_alloc_cold), put on
// the inactive file LRU, optionally dirtied. Reclaim drops clean ones at once and writes dirty
// ones back first. There is no real file data, readahead or radix tree: index is the order of
// reading.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { current } from "../sched/core.ts";
import { __GFP_COLD, GFP_HIGHUSER_MOVABLE } from "./gfp.ts";
import { LRU_INACTIVE_FILE } from "./mmzone.ts";
import type { MmState } from "./mm_state.ts";
import { alloc_pages, mm_of } from "./page_alloc.ts";
import { PG_uptodate } from "./page-flags.ts";
import { lru_cache_add_lru, mark_page_accessed as mark_accessed } from "./swap.ts";
import { set_page_dirty as set_dirty } from "./page-writeback.ts";
import { gen_fn } from "../gen_fn.ts";

export const FILE_MAPPING = 1;

/**
 * add_to_page_cache_lru(): the page joins the file (dirty if asked: written before reclaim can
 * see it) and then the inactive file list, after which reclaim may free it at any time.
 */
export const add_to_page_cache_lru = (mm: MmState, p: number, index: number, dirty = false): Effect.Effect<void> =>
  Effect.suspend(() => {
    mm.mem_map.mapping[p] = FILE_MAPPING;
    mm.mem_map.index[p] = index;
    mm.mem_map.set(p, PG_uptodate);
    mm.page_zone(p)!.stat.nr_file_pages++;
    if (dirty) set_dirty(mm, p);
    return lru_cache_add_lru(mm, p, LRU_INACTIVE_FILE);
  });

/** __remove_from_page_cache() (reclaim, with the page off the LRU). */
export function remove_from_page_cache(mm: MmState, p: number): void {
  mm.mem_map.mapping[p] = 0;
  mm.page_zone(p)!.stat.nr_file_pages--;
}

export interface PageCacheOptions {
  /** Dirty the pages (they need writeback before reclaim can free them). */
  readonly dirty?: boolean;
}

/**
 * page_cache_fill(nr): reads `nr` pages of file data into the page cache (each allocation may
 * reclaim and sleep like any GFP_HIGHUSER_MOVABLE one); returns the pages it read in, which
 * reclaim may free and reuse at any time afterwards. A fatal signal ends the read early, as it
 * ends a read(2). Context: may sleep.
 */
export const page_cache_fill = gen_fn(function* page_cache_fill(nr: number, opts: PageCacheOptions = {}): Effect.fn.Return<number[]> {
  const mm = mm_of(kernel());
  const got: number[] = [];
  for (let i = 0; i < nr && !current().sigkill; i++) {
    const p = yield* alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_COLD, 0);
    if (p === null) break;
    got.push(p);
    yield* add_to_page_cache_lru(mm, p, mm.next_page_index++, opts.dirty === true);
  }
  return got;
});

/** mark_page_accessed() for scenario code; a page no longer in the page cache is left alone. */
export const mark_page_accessed = (p: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const mm = mm_of(kernel());
    return mm.mem_map.mapping[p] === FILE_MAPPING ? mark_accessed(mm, p) : Effect.void;
  });

/** set_page_dirty() for scenario code; a page no longer in the page cache is left alone. */
export const set_page_dirty = (p: number): void => {
  const mm = mm_of(kernel());
  if (mm.mem_map.mapping[p] === FILE_MAPPING) set_dirty(mm, p);
};
