// mm/page_alloc.c sizing formulas, per era (reference section 2 and 3), as pure integer
// functions: init_per_zone_wmark_min (min_free_kbytes), setup_per_zone_wmarks,
// setup_per_zone_lowmem_reserve, zone_batchsize and setup_pageset. 2.6.34 sizes zones by
// present_pages, 4.x+ by managed_pages; 6.1 gives a zone with no managed pages no reserve.
import type { Era } from "./gfp.ts";

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const SWAP_CLUSTER_MAX = 32;

export interface ZoneSize {
  readonly name: string;
  readonly highmem: boolean;
  readonly present: number;
  readonly managed: number;
}

export interface Watermarks {
  readonly min: number;
  readonly low: number;
  readonly high: number;
}

/** int_sqrt(): floor of the square root. */
export function int_sqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

const sized = (z: ZoneSize, era: Era): number => (era === "2.6" ? z.present : z.managed);

/** init_per_zone_wmark_min(): int_sqrt(lowmem_kbytes * 16), clamped to [128, 65536] (newer: 262144). */
export function default_min_free_kbytes(zones: readonly ZoneSize[], era: Era): number {
  const lowmem_kbytes = zones.filter((z) => !z.highmem).reduce((s, z) => s + sized(z, era), 0) * (PAGE_SIZE >> 10);
  const v = int_sqrt(lowmem_kbytes * 16);
  return Math.min(Math.max(v, 128), era === "2.6" ? 65536 : 262144);
}

/** setup_per_zone_wmarks() / __setup_per_zone_wmarks(). */
export function setup_per_zone_wmarks(
  zones: readonly ZoneSize[],
  min_free_kbytes: number,
  era: Era,
  watermark_scale_factor = 10,
): Watermarks[] {
  const pages_min = min_free_kbytes >> (PAGE_SHIFT - 10);
  const lowmem_pages = zones.filter((z) => !z.highmem).reduce((s, z) => s + sized(z, era), 0);
  return zones.map((z) => {
    const pages = sized(z, era);
    const tmp = lowmem_pages === 0 ? 0 : Math.floor((pages_min * pages) / lowmem_pages);
    const min = z.highmem ? Math.min(Math.max(Math.floor(pages / 1024), SWAP_CLUSTER_MAX), 128) : tmp;
    if (era === "2.6") return { min, low: min + (tmp >> 2), high: min + (tmp >> 1) };
    const d = Math.max(tmp >> 2, Math.floor((pages * watermark_scale_factor) / 10000));
    return { min, low: min + d, high: min + 2 * d };
  });
}

/** sysctl_lowmem_reserve_ratio by zone name (256 for DMA and DMA32, 32 for Normal). */
export function lowmem_reserve_ratio(name: string): number {
  return name === "DMA" || name === "DMA32" ? 256 : name === "Normal" ? 32 : 0;
}

/**
 * setup_per_zone_lowmem_reserve(): zone[i].lowmem_reserve[j] = pages of zones i+1..j divided
 * by zone i's ratio, for i < j; 0 for i >= j. A ratio below 1 counts as 1 in 2.6.34; 6.1
 * clears zone i's reserves when its ratio is 0 or it has no managed pages (`clear`).
 */
export function setup_per_zone_lowmem_reserve(zones: readonly ZoneSize[], era: Era): number[][] {
  return zones.map((_, i) => {
    let ratio = lowmem_reserve_ratio(zones[i]!.name);
    if (ratio < 1 && era === "2.6") ratio = 1;
    const clear = era !== "2.6" && (ratio < 1 || zones[i]!.managed === 0);
    return zones.map((__, j) => {
      if (j <= i || clear) return 0;
      let pages = 0;
      for (let k = i + 1; k <= j; k++) pages += sized(zones[k]!, era);
      return Math.floor(pages / ratio);
    });
  });
}

function rounddown_pow_of_two(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

/** zone_batchsize(): about a quarter of a 1/1024 of the zone, capped at 512 KiB (6.x: 1 MiB). */
export function zone_batchsize(z: ZoneSize, era: Era): number {
  let batch = Math.floor(sized(z, era) / 1024);
  const cap = (era === "2.6" ? 512 * 1024 : 1024 * 1024) / PAGE_SIZE;
  if (batch > cap) batch = cap;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return rounddown_pow_of_two(batch + (batch >> 1)) - 1;
}

/**
 * setup_pageset(): 2.6.34 high = 6 * batch, batch at least 1. 6.x (zone_highsize, reduced):
 * the low watermark shared among the node's CPUs, at least 4 * batch.
 */
export function pageset_high_batch(z: ZoneSize, era: Era, low_wmark: number, ncpus: number): { high: number; batch: number } {
  const batch = zone_batchsize(z, era);
  if (era === "2.6") return { high: 6 * batch, batch: Math.max(1, batch) };
  const b = Math.max(1, batch);
  return { high: Math.max(Math.floor(low_wmark / ncpus), 4 * b), batch: b };
}
