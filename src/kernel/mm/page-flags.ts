// include/linux/page-flags.h (2.6.34): the page flag bits, in Linux's order. PageHighMem() is a
// zone test in Linux (no flag since 2.6); it is kept as is here.
export const PG_locked = 0;
export const PG_error = 1;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_active = 6;
export const PG_slab = 7;
export const PG_owner_priv_1 = 8;
export const PG_arch_1 = 9;
export const PG_reserved = 10;
export const PG_private = 11;
export const PG_private_2 = 12;
export const PG_writeback = 13;
export const PG_head = 14;
export const PG_tail = 15;
export const PG_swapcache = 16;
export const PG_mappedtodisk = 17;
export const PG_reclaim = 18;
export const PG_buddy = 19;
export const PG_swapbacked = 20;
export const PG_unevictable = 21;
export const PG_mlocked = 22;
export const NR_PAGEFLAGS = 23;

export const PAGEFLAG_NAMES: readonly string[] = [
  "locked", "error", "referenced", "uptodate", "dirty", "lru", "active", "slab", "owner_priv_1", "arch_1",
  "reserved", "private", "private_2", "writeback", "head", "tail", "swapcache", "mappedtodisk", "reclaim",
  "buddy", "swapbacked", "unevictable", "mlocked",
];
