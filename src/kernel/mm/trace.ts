// include/trace/events/kmem.h: the page allocator's tracepoints.
import { emit } from "../trace.ts";

export const trace_mm_page_alloc = (pfn: number, order: number, gfp: string): void =>
  emit("mm_page_alloc", `pfn=${pfn} order=${order} gfp_flags=${gfp}`);
export const trace_mm_page_free = (pfn: number, order: number): void => emit("mm_page_free", `pfn=${pfn} order=${order}`);
