// The memory manager's tracepoints: each prints its detail as kmem.h, vmscan.h, tlb.h, ... do
// (GFP masks by name in the run's era, pointers in hex, kernel addresses as %p), the text mmsim
// printed before events became numbers; and a run's kmalloc/kfree carry their call site.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { Trace, trace_event_type } from "../../../src/sim/trace.ts";
import * as TP from "../../../src/kernel/mm/trace.ts";
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOIO, __GFP_ZERO } from "../../../src/kernel/mm/gfp.ts";
import { GFP_KERNEL as K, kfree, kmalloc } from "../../../src/kernel/index.ts";
import { inTask } from "../../helpers.ts";

function detail(type: number, fields: readonly (number | string)[]): string {
  const t = new Trace(1);
  const a = fields.map((f) => (typeof f === "string" ? t.intern(f) : f));
  t.emit(type, 0, 0, -1, a[0], a[1], a[2], a[3], a[4], a[5]);
  return t.recent()[0]!.detail;
}

const ERA_26 = 0;
const ERA_6 = 1;
const CASES: [number, (number | string)[], string][] = [
  [TP.TP_MM_PAGE_ALLOC, [1234, 0, GFP_KERNEL, ERA_26], "pfn=1234 order=0 gfp_flags=GFP_KERNEL"],
  [TP.TP_MM_PAGE_ALLOC, [1234, 3, 0, ERA_26], "pfn=1234 order=3 gfp_flags=0"],
  [TP.TP_MM_PAGE_ALLOC, [99, 0, 0, ERA_6], "pfn=99 order=0 gfp_flags=none"],
  [TP.TP_MM_PAGE_ALLOC, [99, 1, GFP_NOIO, ERA_6], "pfn=99 order=1 gfp_flags=GFP_NOIO"],
  [TP.TP_MM_PAGE_FREE, [1234, 2], "pfn=1234 order=2"],
  [TP.TP_KMALLOC, ["eth0_interrupt", 0xc1c00b50, 100, 128, GFP_ATOMIC, ERA_26], "call_site=eth0_interrupt ptr=c1c00b50 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_ATOMIC"],
  [TP.TP_KMALLOC, ["t", 0x7880_0000_1000, 64, 64, GFP_KERNEL | __GFP_ZERO, ERA_6], "call_site=t ptr=788000001000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL|__GFP_ZERO"],
  [TP.TP_KFREE, ["rx_action", 0xc1c00b50], "call_site=rx_action ptr=c1c00b50"],
  [TP.TP_KMEM_CACHE_ALLOC, [0xc1c00b50, 600, 640], "ptr=c1c00b50 bytes_req=600 bytes_alloc=640"],
  [TP.TP_KMEM_CACHE_FREE, [0xc1c00b50], "ptr=c1c00b50"],
  [TP.TP_CACHE_REAP, [1], "cpu=1"],
  [TP.TP_WRITEBACK_PAGEOUT, [77], "pfn=77"],
  [TP.TP_DIRECT_RECLAIM_BEGIN, [0], "order=0"],
  [TP.TP_DIRECT_RECLAIM_END, [32, 64], "nr_reclaimed=32 scanned=64"],
  [TP.TP_KSWAPD_WAKE, [0, 2], "nid=0 order=2"],
  [TP.TP_WAKEUP_KSWAPD, [0, 1, 0], "nid=0 zid=1 order=0"],
  [TP.TP_TLB_FLUSH, [0, -1], "pages:-1 reason:flush on task switch (0)"],
  [TP.TP_TLB_FLUSH, [1, 4], "pages:4 reason:remote shootdown (1)"],
  [TP.TP_TLB_FLUSH, [4, 1], "pages:1 reason:remote ipi send (4)"],
  [TP.TP_MARK_VICTIM, [4], "pid=4"],
  [TP.TP_PAGE_FAULT_USER, [0x8048000, 6], "address=8048000 error_code=0x6"],
  [TP.TP_PAGE_FAULT_KERNEL, [0xf8000000, 0], "address=f8000000 vmalloc_fault"],
  [TP.TP_PAGE_FAULT_KERNEL, [0x4800_0000_1000, 1], "address=ffffc80000001000 vmalloc_fault"],
  [TP.TP_FAULT_INJECT, ["failslab", 128], "name=failslab size=128"],
];

test("each mm tracepoint prints its detail as Linux's TP_printk (and mmsim before numeric events) does", () => {
  for (const [type, fields, want] of CASES) assert.is(detail(type, fields), want, trace_event_type(type).name);
  const defined = Object.entries(TP).filter(([k]) => k.startsWith("TP_")).map(([, v]) => v as number);
  assert.equal([...new Set(CASES.map((c) => c[0]))].sort(), [...new Set(defined)].sort());
});

test("a run's kmalloc and kfree: the call site, the pointer, the sizes and the mask in the machine's era", () => {
  for (const [kernel, want] of [["2.6", "GFP_KERNEL"], ["6", "GFP_KERNEL"]] as const) {
    let ptr = 0;
    const r = inTask(
      () =>
        Effect.gen(function* () {
          ptr = yield* kmalloc(100, K);
          yield* kfree(ptr);
        }),
      { cpus: 1, memory: { arch: kernel === "6" ? "x86_64" : "i386", kernel, mb: 32 } },
    );
    const ev = r.trace.filter((e) => e.name === "kmalloc" || e.name === "kfree").map((e) => `${e.who} ${e.name}: ${e.detail}`);
    assert.equal(ev, [`t-3 kmalloc: call_site=threadfn ptr=${ptr.toString(16)} bytes_req=100 bytes_alloc=128 gfp_flags=${want}`, `t-3 kfree: call_site=threadfn ptr=${ptr.toString(16)}`]);
  }
});

test.run();
