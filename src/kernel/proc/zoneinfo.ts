// mm/vmstat.c zoneinfo_show_print(): /proc/zoneinfo. 2.6.34 prints populated zones only (stats
// indented 4, tail all_unreclaimable/prev_priority/start_pfn/inactive_ratio); 6.1 prints every
// zone, the node's stats once under its first populated zone, the zone stats indented 6 and the
// tail node_unreclaimable/start_pfn.
// Simplified: 6.1's node_unreclaimable is 1 when every populated zone of the node is
// all_unreclaimable (mmsim keeps 2.6.34's per-zone flag, not kswapd_failures); watermark boost
// and CMA are 0.
import type { MmState } from "../mm/mm_state.ts";
import type { Zone } from "../mm/mmzone.ts";
import { int_sqrt } from "../mm/watermarks.ts";
import { node_items_6, numa_items_6, zone_items_26, zone_items_6, type Item } from "../mm/vmstat.ts";

const fls = (x: number): number => (x === 0 ? 0 : 32 - Math.clz32(x));

/** calculate_threshold(): the per-CPU vm stat threshold of a zone. */
export function stat_threshold(pages: number, ncpus: number): number {
  const mem = pages >> (27 - 12);
  return Math.min(125, 2 * fls(ncpus) * (1 + fls(mem)));
}

/** calculate_zone_inactive_ratio() (2.6.34). */
export function inactive_ratio(z: Zone): number {
  const gb = z.present_pages >> (30 - 12);
  return gb > 0 ? int_sqrt(10 * gb) : 1;
}

const stats = (items: Item[], indent: string): string => items.map(([n, v]) => `\n${indent}${n.padEnd(12)} ${v}`).join("");

function pagesets(z: Zone, threshold: number): string {
  return (
    "\n  pagesets" +
    z.pageset
      .map((p, cpu) => `\n    cpu: ${cpu}\n              count: ${p.count}\n              high:  ${p.high}\n              batch: ${p.batch}\n  vm stats threshold: ${threshold}`)
      .join("")
  );
}

function zone_26(mm: MmState, z: Zone): string {
  return (
    `Node ${z.node}, zone ${z.name.padStart(8)}` +
    `\n  pages free     ${z.free_pages}\n        min      ${z.watermark.min}\n        low      ${z.watermark.low}\n        high     ${z.watermark.high}` +
    `\n        scanned  ${z.pages_scanned}\n        spanned  ${z.spanned_pages}\n        present  ${z.present_pages}` +
    stats(zone_items_26(mm, z), "    ") +
    `\n        protection: (${z.lowmem_reserve.join(", ")})` +
    pagesets(z, stat_threshold(z.present_pages, z.pageset.length)) +
    `\n  all_unreclaimable: ${z.all_unreclaimable ? 1 : 0}\n  prev_priority:     ${z.prev_priority}\n  start_pfn:         ${z.zone_start_pfn}\n  inactive_ratio:    ${inactive_ratio(z)}\n`
  );
}

function zone_6(mm: MmState, z: Zone): string {
  const node = mm.nodes[z.node]!;
  const first = node.node_zones.find((x) => x.populated) === z;
  let s = `Node ${z.node}, zone ${z.name.padStart(8)}`;
  if (first) s += "\n  per-node stats" + stats(node_items_6(node.node_zones), "      ");
  s +=
    `\n  pages free     ${z.free_pages}\n        boost    0\n        min      ${z.watermark.min}\n        low      ${z.watermark.low}\n        high     ${z.watermark.high}` +
    `\n        spanned  ${z.spanned_pages}\n        present  ${z.present_pages}\n        managed  ${z.managed_pages}\n        cma      0` +
    `\n        protection: (${z.lowmem_reserve.join(", ")})`;
  if (!z.populated) return s + "\n";
  const unreclaimable = node.node_zones.every((x) => !x.populated || x.all_unreclaimable);
  return (
    s +
    stats([...zone_items_6(z), ...(mm.nodes.length > 1 ? numa_items_6(z) : [])], "      ") +
    pagesets(z, stat_threshold(z.managed_pages, z.pageset.length)) +
    `\n  node_unreclaimable:  ${unreclaimable ? 1 : 0}\n  start_pfn:           ${z.zone_start_pfn}\n`
  );
}

export function zoneinfo(mm: MmState): string {
  return mm.era === "2.6" ? mm.zones.filter((z) => z.populated).map((z) => zone_26(mm, z)).join("") : mm.zones.map((z) => zone_6(mm, z)).join("");
}
