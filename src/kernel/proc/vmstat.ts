// mm/vmstat.c vmstat_show(): /proc/vmstat, "name value" per line in vmstat_text[] order.
import type { MmState } from "../mm/mm_state.ts";
import { vmstat_items } from "../mm/vmstat.ts";

export function vmstat(mm: MmState): string {
  return vmstat_items(mm)
    .map(([n, v]) => `${n} ${v}\n`)
    .join("");
}
