// arch/x86/include/asm/page*.h and mm/highmem.c page_address(): the kernel direct map.
// i386: PAGE_OFFSET 0xC0000000, lowmem (below MAXMEM, 887.99 MiB; pgtable_32_types.ts) is mapped there; a HighMem page has an
// address only while kmap'ed (page_address_htable, set_page_address). x86_64: all memory is
// mapped at PAGE_OFFSET (0xffff880000000000 in 2.6, 0xffff888000000000 in 6.x).
// Representation: a kernel virtual address is a JS number, stored relative to KERNEL_BASE (0 on
// i386, 0xffff800000000000 on x86_64, where the kernel half of the address space starts), so
// every x86_64 kernel address stays below 2^47 and exact in a double. format_kaddr() prints the
// real address. NULL is 0 on both (no kernel address lies at KERNEL_BASE itself). meminfo's
// DirectMap lines come from the boot layout less the large pages set_memory_* split since.
import { ScenarioError } from "../../sim/errors.ts";
import type { Arch } from "./mmzone.ts";
import type { Era } from "./gfp.ts";
import { PAGE_SHIFT } from "./watermarks.ts";
import { direct_map_layout } from "./init.ts";
import { MAXMEM_PFN, VMALLOC_END, VMALLOC_OFFSET } from "./pgtable_32_types.ts";

/** 2 ** PAGE_SHIFT, computed once: with the imported binding, each `2 ** PAGE_SHIFT` is a pow computed at run time (about 8x slower, measured in a loop). */
const PAGE_BYTES = 2 ** PAGE_SHIFT;

/**
 * A kernel virtual address (void * in Linux); 0 is NULL. Stored as a number relative to the
 * kernel half's start (0 on i386, 0xffff800000000000 on x86_64); format_kaddr() prints the real
 * address.
 */
export type kaddr_t = number;

const KERNEL_BASE: Record<Arch, bigint> = { i386: 0n, x86_64: 0xffff800000000000n };

export interface DirectMap {
  readonly arch: Arch;
  /** PAGE_OFFSET, relative to KERNEL_BASE. */
  readonly page_offset: number;
  /** First pfn not in the direct map (the HighMem start on i386; the end of memory on x86_64). */
  readonly max_low_pfn: number;
  /** page_address_htable: addresses of kmap'ed HighMem pages. */
  readonly htable: Map<number, kaddr_t>;
  /** i386 with CONFIG_X86_PAE: three-level page tables and 2 MiB large pages. */
  readonly pae: boolean;
  /** log2 of the direct map's large pages: 22 (4 MiB, i386 PSE) or 21 (2 MiB, PAE and x86_64). */
  readonly large_shift: number;
  /** Large pages split into 4 KiB PTEs since boot (pageattr.ts, split_page_count()). */
  split_large: number;
}

export function direct_map(arch: Arch, era: Era, nr_pages: number, pae = false): DirectMap {
  const page_offset =
    arch === "i386" ? 0xc0000000 : Number((era === "2.6" ? 0xffff880000000000n : 0xffff888000000000n) - KERNEL_BASE.x86_64);
  const max_low_pfn = arch === "i386" ? Math.min(nr_pages, MAXMEM_PFN(pae)) : nr_pages;
  return { arch, page_offset, max_low_pfn, htable: new Map(), pae, large_shift: arch === "i386" && !pae ? 22 : 21, split_large: 0 };
}

/** The real address, as %p prints it (8 hex digits on i386, 16 on x86_64). */
export function format_kaddr(dm: Pick<DirectMap, "arch">, v: kaddr_t): string {
  const real = BigInt(v) + KERNEL_BASE[dm.arch];
  return real.toString(16).padStart(dm.arch === "i386" ? 8 : 16, "0");
}

/** Parses a real address (hex string or bigint) into the stored form. */
export function parse_kaddr(dm: DirectMap, real: bigint): kaddr_t {
  const v = real - KERNEL_BASE[dm.arch];
  if (v < 0n || v >= 2n ** 53n) throw new ScenarioError(`0x${real.toString(16)} is not a kernel address on ${dm.arch}`);
  return Number(v);
}

/** __va(): the direct-map address of a physical address (lowmem only). */
export function __va(dm: DirectMap, pa: number): kaddr_t {
  if (pa < 0 || pa >= dm.max_low_pfn * PAGE_BYTES) throw new ScenarioError(`__va(0x${pa.toString(16)}): not a physical address in the direct map (below 0x${(dm.max_low_pfn * PAGE_BYTES).toString(16)})`);
  return dm.page_offset + pa;
}

/** __pa(): the physical address of a direct-map address. */
export function __pa(dm: DirectMap, v: kaddr_t): number {
  const pa = v - dm.page_offset;
  if (pa < 0 || pa >= dm.max_low_pfn * PAGE_BYTES) throw new ScenarioError(`__pa(0x${format_kaddr(dm, v)}): not an address in the kernel direct map`);
  return pa;
}

/** virt_to_page(). */
export const virt_to_page = (dm: DirectMap, v: kaddr_t): number => Math.floor(__pa(dm, v) / PAGE_BYTES);

/** virt_to_page() of a direct-map address, or -1 for any other (where virt_to_page throws). */
export function direct_map_pfn(dm: DirectMap, v: kaddr_t): number {
  const pa = v - dm.page_offset;
  return pa >= 0 && pa < dm.max_low_pfn * PAGE_BYTES ? Math.floor(pa / PAGE_BYTES) : -1;
}

/** page_address(): the page's kernel address, or 0 (NULL) for an unmapped HighMem page. */
export function page_address(dm: DirectMap, pfn: number): kaddr_t {
  if (pfn < dm.max_low_pfn) return dm.page_offset + pfn * PAGE_BYTES;
  return dm.htable.get(pfn) ?? 0;
}

/** set_page_address(): records (or with 0, drops) a HighMem page's kmap address. */
export function set_page_address(dm: DirectMap, pfn: number, v: kaddr_t): void {
  if (pfn < dm.max_low_pfn) throw new ScenarioError(`set_page_address: pfn ${pfn} is a lowmem page`);
  if (v === 0) dm.htable.delete(pfn);
  else dm.htable.set(pfn, v);
}

/**
 * The vmalloc area's size in KiB (VMALLOC_TOTAL). x86_64 (both eras, 4-level paging): 32 TiB less
 * one byte. i386: from high_memory + VMALLOC_OFFSET (8 MiB) up to VMALLOC_END (0xff7fe000, PAE
 * 0xff9fe000: pgtable_32_types.ts).
 */
export function vmalloc_total_kb(dm: DirectMap): number {
  if (dm.arch === "x86_64") return 34359738367;
  const high_memory = dm.page_offset + dm.max_low_pfn * PAGE_BYTES;
  return Math.floor((VMALLOC_END(dm.pae) - (high_memory + VMALLOC_OFFSET)) / 1024);
}

/**
 * The direct map's page sizes for meminfo's DirectMap lines, as init_memory_mapping() builds it
 * (init.ts): 4 KiB pages for any tail that does not fill a large page and, on i386, the first one,
 * large pages (4 MiB on non-PAE i386, 2 MiB with PAE and on x86_64) for the rest; each large
 * page split since (set_memory_ro/rw of an alias) moves to the 4 KiB count, as split_page_count().
 */
export function direct_map_kb(dm: DirectMap): { readonly small: number; readonly large: number; readonly large_name: string } {
  const l = direct_map_layout(dm.max_low_pfn, dm.large_shift, dm.arch === "i386");
  const split = dm.split_large * 2 ** (dm.large_shift - PAGE_SHIFT);
  return { small: (l.small_head + l.small_tail + split) * 4, large: (l.large - split) * 4, large_name: dm.large_shift === 22 ? "DirectMap4M" : "DirectMap2M" };
}
