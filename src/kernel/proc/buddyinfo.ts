// mm/vmstat.c frag_show_print(): /proc/buddyinfo, one line per populated zone, free blocks per order.
import type { MemLayout } from "../mm/mmzone.ts";

export function buddyinfo(mm: MemLayout): string {
  return mm.zones
    .filter((z) => z.populated)
    .map((z) => `Node ${z.node}, zone ${z.name.padStart(8)} ${z.free_area.map((a) => `${String(a.nr_free).padStart(6)} `).join("")}\n`)
    .join("");
}
