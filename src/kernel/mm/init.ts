// arch/x86/mm/init.c init_memory_mapping() / kernel_physical_mapping_init(): the kernel direct map
// in swapper_pg_dir at boot. Lowmem (all memory on x86_64) is mapped at PAGE_OFFSET with global,
// writable entries: large pages (4 MiB PSE entries on i386, 2 MiB on PAE and x86_64) where a
// whole large page fits, 4 KiB pages for a tail that does not fill one and, on i386, for the first
// large page (32-bit init_memory_mapping keeps it small for the fixed MTRRs there). The table pages come from early boot
// memory, which is not the page allocator's: here they are frames past the end of RAM, after
// swapper_pg_dir and empty_zero_page, so they show in no zone. Not modelled: 1 GiB pages
// (direct_gbpages), NX, the kernel text mapping, PAT.
import * as HW from "../../hw/mmu/paging.ts";
import type { MmState } from "./mm_state.ts";
import { PAGE_SHIFT } from "./watermarks.ts";

/** The part of KernelVm the direct map is built into. */
interface BootTables {
  readonly mem: HW.PageTableMemory;
  readonly fmt: HW.PagingFormat;
  readonly root: number;
  /** The next free boot-memory frame. */
  next_boot_frame: number;
}

/**
 * The direct map's layout in pages of 4 KiB: [small_head, large, small_tail], so that
 * small_head + large + small_tail = lowmem pages and `large` is whole large pages. `small_first`:
 * the first large page is mapped with 4 KiB pages (i386).
 */
export function direct_map_layout(max_low_pfn: number, large_shift: number, small_first: boolean): { small_head: number; large: number; small_tail: number } {
  const per = 2 ** (large_shift - PAGE_SHIFT);
  const small_head = small_first ? Math.min(max_low_pfn, per) : 0;
  const whole = Math.floor((max_low_pfn - small_head) / per);
  return { small_head, large: whole * per, small_tail: max_low_pfn - small_head - whole * per };
}

const KERNEL_TABLE = HW._PAGE_PRESENT | HW._PAGE_RW | HW._PAGE_ACCESSED | HW._PAGE_DIRTY;
/** PAGE_KERNEL (__PAGE_KERNEL less NX, which mmsim does not model): Accessed and Dirty from the start. */
export const PAGE_KERNEL = HW._PAGE_PRESENT | HW._PAGE_RW | HW._PAGE_ACCESSED | HW._PAGE_DIRTY | HW._PAGE_GLOBAL;

/** The table at `level` for linear `lin`, creating boot frames down to it. */
function table_for(v: BootTables, lin: number, level: number): number {
  let table = v.root;
  for (let l = 0; l < level; l++) {
    const idx = HW.level_index(v.fmt, l, lin);
    const e = HW.read_entry(v.mem, v.fmt, table, idx);
    if (e.lo & HW._PAGE_PRESENT) {
      table = HW.entry_pfn(e);
      continue;
    }
    const t = v.next_boot_frame++;
    // A PAE PDPT entry has only P.
    HW.write_entry(v.mem, v.fmt, table, idx, HW.make_entry(t, v.fmt.mode === "pae" && l === 0 ? HW._PAGE_PRESENT : KERNEL_TABLE));
    table = t;
  }
  return table;
}

/**
 * Maps pfns [0, max_low_pfn) at linear address `base` in swapper_pg_dir. `large_level` is the
 * level whose entries map large pages (0 on 2-level, 1 on PAE, 2 on x86_64).
 */
export function init_memory_mapping(mm: MmState, v: BootTables, base: number): void {
  const large_level = [...v.fmt.large.entries()].find(([, shift]) => shift === mm.dm.large_shift)![0];
  const last = v.fmt.bits.length - 1;
  const per = 2 ** (mm.dm.large_shift - PAGE_SHIFT);
  const { small_head, large } = direct_map_layout(mm.dm.max_low_pfn, mm.dm.large_shift, mm.arch === "i386");
  for (let pfn = 0; pfn < mm.dm.max_low_pfn; ) {
    const lin = base + pfn * 2 ** PAGE_SHIFT;
    if (pfn >= small_head && pfn < small_head + large) {
      const t = table_for(v, lin, large_level);
      HW.write_entry(v.mem, v.fmt, t, HW.level_index(v.fmt, large_level, lin), HW.make_entry(pfn, PAGE_KERNEL | HW._PAGE_PSE));
      pfn += per;
    } else {
      const t = table_for(v, lin, last);
      HW.write_entry(v.mem, v.fmt, t, HW.level_index(v.fmt, last, lin), HW.make_entry(pfn, PAGE_KERNEL));
      pfn++;
    }
  }
}
