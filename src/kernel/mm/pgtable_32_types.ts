// arch/x86/include/asm/pgtable_32_types.h (2.6.34): the i386 kernel's virtual layout, top down.
//   FIXADDR_TOP 0xfffff000, the fixmap below it down to FIXADDR_BOOT_START;
//   PKMAP_BASE = (FIXADDR_BOOT_START - PAGE_SIZE * (LAST_PKMAP + 1)) & PMD_MASK, LAST_PKMAP pages;
//   VMALLOC_END = PKMAP_BASE - 2 * PAGE_SIZE; VMALLOC_START = high_memory + VMALLOC_OFFSET (8 MiB);
//   MAXMEM = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE (128 MiB): lowmem ends at MAXMEM_PFN,
//   so at most 0x377fe000 bytes (887.99 MiB; PAE 0x379fe000) are directly mapped, the rest is
//   HighMem. (The seeds' "896 MiB" is the round figure of older kernels' layout.)
// Assumed: the fixmap's size depends on the build (NR_CPUS, KM_TYPE_NR, ...); mmsim takes
// FIXADDR_BOOT_START as 0xffc01000, which gives the common PKMAP_BASE 0xff800000 (PAE:
// 0xffa00000, PMD_MASK being 2 MiB there), with the kmap slots at FIX_KMAP_BEGIN 64 pages below
// FIXADDR_TOP. Kernel 6 uses the same layout (6.1 adds the cpu_entry_area and LDT below the
// fixmap, which mmsim does not model).

export const PAGE_OFFSET_32 = 0xc0000000;
export const FIXADDR_TOP = 0xfffff000;
/** The lowest fixmap address (assumed, see above). */
export const FIXADDR_BOOT_START = 0xffc01000;
/** The first kmap_atomic / kmap_local slot's index in the fixmap (assumed). */
export const FIX_KMAP_BEGIN = 64;
export const VMALLOC_OFFSET = 8 << 20;
/** __VMALLOC_RESERVE: the vmalloc space guaranteed above lowmem (default vmalloc=128M). */
export const VMALLOC_RESERVE = 128 << 20;
const PAGE_SIZE = 4096;

export const LAST_PKMAP = (pae: boolean): number => (pae ? 512 : 1024);
const PMD_SIZE = (pae: boolean): number => (pae ? 2 << 20 : 4 << 20);

export const PKMAP_BASE = (pae: boolean): number => {
  const a = FIXADDR_BOOT_START - PAGE_SIZE * (LAST_PKMAP(pae) + 1);
  return a - (a % PMD_SIZE(pae));
};
export const VMALLOC_END = (pae: boolean): number => PKMAP_BASE(pae) - 2 * PAGE_SIZE;
export const MAXMEM = (pae: boolean): number => VMALLOC_END(pae) - PAGE_OFFSET_32 - VMALLOC_RESERVE;
/** The first pfn above lowmem when memory reaches that far (max_low_pfn's limit). */
export const MAXMEM_PFN = (pae: boolean): number => Math.floor(MAXMEM(pae) / PAGE_SIZE);
