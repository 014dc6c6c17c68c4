// The /proc files a run can show.
import { ScenarioError } from "../sim/errors.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { buddyinfo } from "../kernel/proc/buddyinfo.ts";
import { zoneinfo } from "../kernel/proc/zoneinfo.ts";
import { meminfo } from "../kernel/proc/meminfo.ts";
import { vmstat } from "../kernel/proc/vmstat.ts";
import { vmallocinfo } from "../kernel/mm/vmalloc.ts";
import { slabinfo } from "../kernel/proc/slabinfo.ts";

export const PROC_FILES = ["buddyinfo", "zoneinfo", "meminfo", "vmstat", "vmallocinfo", "slabinfo"] as const;
export type ProcFile = (typeof PROC_FILES)[number];

export function isProcFile(f: string): f is ProcFile {
  return (PROC_FILES as readonly string[]).includes(f);
}

export function read_proc(k: Kernel, file: ProcFile): string {
  if (k.mm === null) throw new ScenarioError(`/proc/${file} needs a machine with memory (machine.memory or --machine FILE)`);
  switch (file) {
    case "buddyinfo":
      return buddyinfo(k.mm);
    case "zoneinfo":
      return zoneinfo(k.mm);
    case "meminfo":
      return meminfo(k, k.mm);
    case "vmstat":
      return vmstat(k.mm);
    case "vmallocinfo":
      return vmallocinfo(k.mm);
    case "slabinfo":
      return slabinfo(k.mm);
  }
}
