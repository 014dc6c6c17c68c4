// The OOM killer (32 MiB i386, kernel 2.6): a user process "hog" keeps faulting in anonymous
// memory; there is no swap, so reclaim finds nothing to free once the small page cache is gone.
// Two "editor" processes each need 1000 pages. When direct reclaim makes no progress, the
// allocator calls out_of_memory(), which picks the process with the largest total_vm (the hog),
// prints "Out of memory: kill process N (hog) score S or a child" and "Killed process ...", and
// sends it SIGKILL; the hog dies at its next page fault, its pages are freed, and the editors
// finish.
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { current, msleep, page_cache_fill, printk, process_run, touch_anon_pages, vm_events } from "../../src/kernel/index.ts";

export default defineScenario({
  name: "oom-killer",
  description: "a memory hog is OOM-killed so the other processes can finish",
  machine: { cpus: 2, memory: { arch: "i386", kernel: "2.6", mb: 32 } },
  // The victim may also print a page allocation failure: an allocation it was already retrying
  // when it was chosen sees TIF_MEMDIE and gives up (the "nopage" path of both eras).
  expected_reports: ["oom", "alloc_failure"],
  setup() {
    const st = { hog_pages: 0, hog_done: false, editors: 0, oom_kills: 0 };
    process_run(
      () =>
        Effect.gen(function* () {
          yield* page_cache_fill(1000);
          for (;;) {
            yield* touch_anon_pages(64);
            st.hog_pages += 64;
          }
        }),
      null,
      "hog",
    );
    const editor = (_: null) =>
      Effect.gen(function* () {
        yield* msleep(5);
        yield* touch_anon_pages(1000);
        printk(`${current().comm}: has its 1000 pages`);
        yield* msleep(1);
        st.editors++;
        st.oom_kills = vm_events().oom_kill;
      });
    process_run(editor, null, "editor1");
    process_run(editor, null, "editor2");
    return st;
  },
  check(st, expect) {
    expect.equal(st.editors, 2, "editors that finished");
    expect.equal(st.oom_kills, 1, "tasks the OOM killer killed");
  },
});
