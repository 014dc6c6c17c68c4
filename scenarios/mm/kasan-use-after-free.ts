// A use-after-free caught by KASAN at the access (2 CPUs, 64 MiB x86_64, kernel 6 built with
// CONFIG_KASAN, generic). The driver and tasklet of slab-use-after-free, on a 6.1 kernel: a NIC
// driver on CPU1 kmallocs its 64-byte statistics block; eth0's interrupt (CPU0) schedules a
// tasklet that counts each packet in it (stats->rx_packets++ at offset 8). Then the driver shuts
// down.
// - kasan-use-after-free: it kfree()s the block while the interrupt path still runs. KASAN
//   poisoned the object at the free (its shadow fa fb ..., the object in the quarantine), so the
//   tasklet's very next write is "BUG: KASAN: use-after-free in rx_action", "Write of size 4 at
//   addr ... by task ...", with the trace through the softirq, where the object was allocated
//   and freed, and the shadow around it (expected). DEBUG_SLAB would only see it when the object
//   is handed out again; with KASAN the quarantine keeps it from the driver's next kmalloc(64).
// - kasan-use-after-free-fixed: the driver quiesces first (tasklet_kill), then frees: no report.
import { use_after_free } from "./slab-use-after-free.ts";

export const kasanUseAfterFree = use_after_free("kasan-use-after-free", false, "kasan");
export const kasanUseAfterFreeFixed = use_after_free("kasan-use-after-free-fixed", true, "kasan");
