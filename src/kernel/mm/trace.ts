// The memory manager's tracepoints, numbers until printed (see ../trace.ts): include/trace/events/
// kmem.h (mm_page_alloc, mm_page_free, kmalloc, kfree, kmem_cache_alloc, kmem_cache_free),
// vmscan.h, tlb.h, writeback.h, oom.h, exceptions.h (page faults); cache_reap and fault_inject
// are mmsim's own. GFP masks are stored as numbers with the era that prints them.
import { define_trace_event as def } from "../../sim/trace.ts";
import type { Kernel } from "../kernel.ts";
import { kernel } from "../kernel.ts";
import { format_gfp, show_gfp_flags, type Era, type gfp_t } from "./gfp.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import type { Arch } from "./mmzone.ts";

/** An era or an arch as a trace argument. */
const ERAS: readonly Era[] = ["2.6", "6"];
const ARCHES: readonly Arch[] = ["i386", "x86_64"];
const era_arg = (era: Era): number => (era === "6" ? 1 : 0);
const hex = (v: number): string => v.toString(16);

export const TP_MM_PAGE_ALLOC = def("mm_page_alloc", { pfn: "num", order: "num", gfp_flags: "num", era: "num" }, (e) => `pfn=${e.a0} order=${e.a1} gfp_flags=${show_gfp_flags(e.a2, ERAS[e.a3]!)}`);
export const TP_MM_PAGE_FREE = def("mm_page_free", { pfn: "num", order: "num" }, (e) => `pfn=${e.a0} order=${e.a1}`);
export const TP_KMALLOC = def(
  "kmalloc",
  { call_site: "str", ptr: "num", bytes_req: "num", bytes_alloc: "num", gfp_flags: "num", era: "num" },
  (e, s) => `call_site=${s.str(e.a0)} ptr=${hex(e.a1)} bytes_req=${e.a2} bytes_alloc=${e.a3} gfp_flags=${format_gfp(e.a4, ERAS[e.a5]!)}`,
);
export const TP_KFREE = def("kfree", { call_site: "str", ptr: "num" }, (e, s) => `call_site=${s.str(e.a0)} ptr=${hex(e.a1)}`);
export const TP_KMEM_CACHE_ALLOC = def("kmem_cache_alloc", { ptr: "num", bytes_req: "num", bytes_alloc: "num" }, (e) => `ptr=${hex(e.a0)} bytes_req=${e.a1} bytes_alloc=${e.a2}`);
export const TP_KMEM_CACHE_FREE = def("kmem_cache_free", { ptr: "num" }, (e) => `ptr=${hex(e.a0)}`);
export const TP_CACHE_REAP = def("cache_reap", { cpu: "num" }, (e) => `cpu=${e.a0}`);
export const TP_WRITEBACK_PAGEOUT = def("writeback_pageout", { pfn: "num" }, (e) => `pfn=${e.a0}`);
export const TP_DIRECT_RECLAIM_BEGIN = def("mm_vmscan_direct_reclaim_begin", { order: "num" }, (e) => `order=${e.a0}`);
export const TP_DIRECT_RECLAIM_END = def("mm_vmscan_direct_reclaim_end", { nr_reclaimed: "num", scanned: "num" }, (e) => `nr_reclaimed=${e.a0} scanned=${e.a1}`);
export const TP_KSWAPD_WAKE = def("mm_vmscan_kswapd_wake", { nid: "num", order: "num" }, (e) => `nid=${e.a0} order=${e.a1}`);
export const TP_WAKEUP_KSWAPD = def("mm_vmscan_wakeup_kswapd", { nid: "num", zid: "num", order: "num" }, (e) => `nid=${e.a0} zid=${e.a1} order=${e.a2}`);
/** enum tlb_flush_reason, as the tlb_flush tracepoint prints it. */
export const TLB_FLUSH_REASONS = ["flush on task switch", "remote shootdown", "local shootdown", "local mm shootdown", "remote ipi send"] as const;
export const TP_TLB_FLUSH = def("tlb_flush", { reason: "num", pages: "num" }, (e) => `pages:${e.a1} reason:${TLB_FLUSH_REASONS[e.a0]} (${e.a0})`);
export const TP_MARK_VICTIM = def("mark_victim", { pid: "num" }, (e) => `pid=${e.a0}`);
export const TP_PAGE_FAULT_USER = def("page_fault_user", { address: "num", error_code: "num" }, (e) => `address=${hex(e.a0)} error_code=0x${hex(e.a1)}`);
export const TP_PAGE_FAULT_KERNEL = def("page_fault_kernel", { address: "num", arch: "num" }, (e) => `address=${format_kaddr({ arch: ARCHES[e.a1]! }, e.a0)} vmalloc_fault`);
export const TP_FAULT_INJECT = def("fault_inject", { name: "str", size: "num" }, (e, s) => `name=${s.str(e.a0)} size=${e.a1}`);

export const trace_mm_page_alloc = (pfn: number, order: number, gfp: gfp_t, era: Era): void => kernel().trace(TP_MM_PAGE_ALLOC, pfn, order, gfp, era_arg(era));
export const trace_mm_page_free = (pfn: number, order: number): void => kernel().trace(TP_MM_PAGE_FREE, pfn, order);

/** The function that called into the allocator (the context's innermost frame). */
function call_site(k: Kernel): number {
  const f = k.this_ctx().frames;
  return k.str(f.length > 0 ? f[f.length - 1]! : "?");
}
export const trace_kmalloc = (k: Kernel, ptr: kaddr_t, req: number, alloc: number, gfp: gfp_t, era: Era): void => k.trace(TP_KMALLOC, call_site(k), ptr, req, alloc, gfp, era_arg(era));
export const trace_kfree = (k: Kernel, ptr: kaddr_t): void => k.trace(TP_KFREE, call_site(k), ptr);
export const trace_kmem_cache_alloc = (k: Kernel, ptr: kaddr_t, req: number, alloc: number): void => k.trace(TP_KMEM_CACHE_ALLOC, ptr, req, alloc);
export const trace_kmem_cache_free = (k: Kernel, ptr: kaddr_t): void => k.trace(TP_KMEM_CACHE_FREE, ptr);
export const trace_cache_reap = (k: Kernel, cpu: number): void => k.trace(TP_CACHE_REAP, cpu);
export const trace_writeback_pageout = (pfn: number): void => kernel().trace(TP_WRITEBACK_PAGEOUT, pfn);
export const trace_mm_vmscan_direct_reclaim_begin = (k: Kernel, order: number): void => k.trace(TP_DIRECT_RECLAIM_BEGIN, order);
export const trace_mm_vmscan_direct_reclaim_end = (k: Kernel, nr_reclaimed: number, scanned: number): void => k.trace(TP_DIRECT_RECLAIM_END, nr_reclaimed, scanned);
export const trace_mm_vmscan_kswapd_wake = (k: Kernel, nid: number, order: number): void => k.trace(TP_KSWAPD_WAKE, nid, order);
export const trace_mm_vmscan_wakeup_kswapd = (nid: number, zid: number, order: number): void => kernel().trace(TP_WAKEUP_KSWAPD, nid, zid, order);
export const trace_tlb_flush = (k: Kernel, reason: number, pages: number): void => k.trace(TP_TLB_FLUSH, reason, pages);
export const trace_mark_victim = (k: Kernel, pid: number): void => k.trace(TP_MARK_VICTIM, pid);
export const trace_page_fault_user = (k: Kernel, address: number, error_code: number): void => k.trace(TP_PAGE_FAULT_USER, address, error_code);
export const trace_page_fault_kernel = (k: Kernel, address: kaddr_t, arch: Arch): void => k.trace(TP_PAGE_FAULT_KERNEL, address, arch === "x86_64" ? 1 : 0);
export const trace_fault_inject = (k: Kernel, name: string, size: number): void => k.trace(TP_FAULT_INJECT, k.str(name), size);
