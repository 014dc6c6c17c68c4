// include/linux/lockdep.h's struct lockdep_map and lock_map_acquire() / lock_map_release(): a
// lock lockdep tracks that is no lock at all, with which timers and work items tie their callers
// to their callbacks. call_timer_fn() holds a timer's map around the callback and del_timer_sync()
// takes and drops it, so a callback taking lock L while del_timer_sync()'s caller holds L is a
// cycle lockdep reports; process_one_work() holds the workqueue's and the work's maps around a work
// function, and flush_work() / cancel_work_sync() / flush_workqueue() take them likewise.
// A map is a class of kind "map", whose 6.1 wait type is {0:0} (LD_WAIT_INV), as Linux prints it.
// Simplified: the acquisition site ("at:") is the function that called the one taking the map
// (Linux prints the taker itself: "at: del_timer_sync"), since lockdep.ts's traces put the taking
// function first and the context's frames after it.
import { kernel } from "./kernel.ts";
import { lock_acquire, lock_release, lockdep_enabled } from "./locking/lockdep.ts";

/** struct lockdep_map: `name` is the class's name as lockdep_init_map() was given it. */
export class lockdep_map {
  constructor(readonly name: string) {}
}

/** lock_map_acquire(map) made in `fn` (the function whose code takes it: "del_timer_sync", "process_one_work"). */
export function lock_map_acquire(map: lockdep_map, fn: string): void {
  const k = kernel();
  if (lockdep_enabled(k)) lock_acquire(k, map, map.name, "map", fn);
}

/** lock_map_release(map). */
export function lock_map_release(map: lockdep_map): void {
  const k = kernel();
  if (lockdep_enabled(k)) lock_release(k, map);
}

/** CONFIG_PROVE_LOCKING on the running kernel (the lockdep-only blocks of timer.c and workqueue.c). */
export const lockdep_on = (): boolean => lockdep_enabled(kernel());
