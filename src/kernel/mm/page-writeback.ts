// mm/page-writeback.c and the block layer reduced to what reclaim needs: dirty page accounting
// (set_page_dirty, clear_page_dirty_for_io), writeback of one page at a time to a simulated disk
// ("sda" on IRQ 14, latency drawn from its own seeded stream), and end_page_writeback() from
// the disk's interrupt handler, which rotates a page reclaim wrote to the tail of its inactive
// list and wakes congestion_wait sleepers. No flusher threads, no dirty throttling: dirty pages
// are written back only by reclaim.
import * as Effect from "effect/Effect";
import { type Kernel } from "../kernel.ts";
import { IRQ_HANDLED, irq_set_affinity, request_irq } from "../irq/irqdesc.ts";
import { ScenarioError } from "../../sim/errors.ts";
import type { Disk } from "../../hw/devices/disk.ts";
import type { MmState } from "./mm_state.ts";
import { PG_dirty, PG_reclaim, PG_writeback } from "./page-flags.ts";
import { rotate_reclaimable_page } from "./swap.ts";
import { trace_writeback_pageout } from "./trace.ts";
import { gen_fn } from "../gen_fn.ts";

export const WRITEBACK_IRQ = 14;

const disks = new WeakMap<MmState, Disk>();

/** Adds the writeback disk: each page takes `us` microseconds on average (uniform over [us/2, 3us/2]). */
export function writeback_init(k: Kernel, mm: MmState, us: number): void {
  if (k.irq_desc.get(WRITEBACK_IRQ)?.actions.length) throw new ScenarioError(`IRQ ${WRITEBACK_IRQ} belongs to the writeback disk (sda) on a machine with memory`);
  const ns = us * 1000;
  const disk = k.machine.addDisk({ name: "sda", irq: WRITEBACK_IRQ, minNs: Math.floor(ns / 2), maxNs: Math.floor((3 * ns) / 2) });
  irq_set_affinity(WRITEBACK_IRQ, [0]);
  request_irq(WRITEBACK_IRQ, () => end_io(mm, disk), 0, "sda", disk);
  disks.set(mm, disk);
}

/** The disk's interrupt handler: end_page_writeback() for every completed page. */
const end_io = gen_fn(function* end_io(mm: MmState, disk: Disk) {
  for (const p of disk.reap()) yield* end_page_writeback(mm, p);
  return IRQ_HANDLED;
});

/** set_page_dirty(): a page cache page becomes dirty (NR_FILE_DIRTY). */
export function set_page_dirty(mm: MmState, p: number): void {
  if (mm.mem_map.test(p, PG_dirty)) return;
  mm.mem_map.set(p, PG_dirty);
  if (mm.mem_map.mapping[p]! > 0) {
    const z = mm.page_zone(p)!;
    z.stat.nr_dirty++;
    z.stat.nr_dirtied++;
  }
}

/** clear_page_dirty_for_io(): true if the page was dirty. */
export function clear_page_dirty_for_io(mm: MmState, p: number): boolean {
  if (!mm.mem_map.test(p, PG_dirty)) return false;
  mm.mem_map.clear(p, PG_dirty);
  if (mm.mem_map.mapping[p]! > 0) mm.page_zone(p)!.stat.nr_dirty--;
  return true;
}

/** pageout() for reclaim: starts writeback of a dirty page, marked PG_reclaim. */
export function pageout(mm: MmState, p: number): void {
  const disk = disks.get(mm)!;
  if (!clear_page_dirty_for_io(mm, p)) return;
  const z = mm.page_zone(p)!;
  mm.mem_map.set(p, PG_reclaim);
  mm.mem_map.set(p, PG_writeback);
  z.stat.nr_writeback++;
  z.stat.nr_vmscan_write++;
  mm.ev.pgpgout += 4; // pgpgout counts KiB
  mm.writeback_inflight++;
  trace_writeback_pageout(p);
  disk.submit(p);
}

/** end_page_writeback(). Context: any (the disk's IRQ handler). */
export function* end_page_writeback(mm: MmState, p: number): Effect.fn.Return<void> {
  const m = mm.mem_map;
  if (m.test(p, PG_reclaim)) {
    m.clear(p, PG_reclaim);
    yield* rotate_reclaimable_page(mm, p);
  }
  m.clear(p, PG_writeback);
  const z = mm.page_zone(p)!;
  z.stat.nr_writeback--;
  z.stat.nr_written++;
  mm.writeback_inflight--;
  mm.wake_congested();
}
