// mm/vmstat.c frag_show_print(): /proc/buddyinfo, one line per zone, free blocks per order.
import type { NodeMem } from "../mm/mmzone.ts";

export function buddyinfo(node: NodeMem): string {
  return node.zones
    .map((z) => `Node 0, zone ${z.name.padStart(8)} ${z.free_area.map((a) => `${String(a.nr_free).padStart(6)} `).join("")}\n`)
    .join("");
}
