// The lazy vmalloc fault (64 MiB i386, kernel 2.6). A user process "app" is created first; its
// page table gets the kernel half of swapper_pg_dir as it is then. A driver thread then vmallocs
// a buffer: the new page table lands in init_mm only. When "app", in a system call, reads the
// buffer, its page directory lacks the entry: the #PF handler's vmalloc_fault copies it from
// init_mm and the read proceeds. A second read finds it in place (and in the TLB).
// With kernel "6" (e.g. --machine with memory.kernel "6") there is no lazy fault: 6.1 copies a
// new top-level kernel entry into every process page table when init_mm gains it (i386
// arch_sync_kernel_mappings; x86_64 preallocates the vmalloc range's upper tables at boot), so
// "app" reads the buffer after 0 vmalloc faults. With PAE (memory.pae) there is none in 2.6.34
// either: every pgd points at the one kernel PMD (SHARED_KERNEL_PMD), so a new PTE table is in
// app's view at once. The check expects what the machine does.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { complete, init_completion, kernel_era, kernel_pae, kthread_run, mem_read, printk, process_run, vmalloc, vmalloc_faults, wait_for_completion } from "../../src/kernel/index.ts";

export default defineScenario({
  name: "vmalloc-fault",
  description: "a process reads a vmalloc buffer created after it: the lazy vmalloc fault syncs its page table",
  machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 64 } },
  setup() {
    const st = { addr: 0, faults_after_first: -1, faults_after_second: -1, era: kernel_era(), pae: kernel_pae() };
    const ready = init_completion();
    const started = init_completion();
    process_run(
      () =>
        Effect.gen(function* () {
          complete(started); // the process exists, its page table made
          yield* wait_for_completion(ready);
          mem_read(st.addr, 256); // in a system call: the driver's buffer
          st.faults_after_first = vmalloc_faults();
          mem_read(st.addr + 4096, 256);
          st.faults_after_second = vmalloc_faults();
          printk(`app: read the driver's buffer after ${st.faults_after_first} vmalloc fault(s)`);
        }),
      null,
      "app",
      { cpus: [1] },
    );
    kthread_run(
      () =>
        Effect.gen(function* () {
          yield* wait_for_completion(started);
          st.addr = yield* vmalloc(8 * 4096);
          complete(ready);
        }),
      null,
      "driver",
      { cpus: [0] },
    );
    return st;
  },
  check(st, expect) {
    // 2.6 without PAE: one lazy fault at the first read, none at the second (same page-table
    // page); 2.6 with PAE (shared kernel PMD) and 6.1: none.
    const faults = st.era === "2.6" && !st.pae ? 1 : 0;
    expect.equal(st.faults_after_first, faults, "vmalloc faults at the first read");
    expect.equal(st.faults_after_second, faults, "vmalloc faults after the second read (same page table page)");
  },
});
