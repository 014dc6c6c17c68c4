// mm/kasan/generic.c's kasan_check_range() and mm/kasan/report.c + report_generic.c (6.1): the
// check on every kernel access mmsim's accessors make, and the report. Layout, as 6.1 prints it:
//   ==================================================================
//   BUG: KASAN: <bug type> in <function>
//   Read|Write of size N at addr A by task comm/pid      (a free: "Free of addr A by task comm/pid")
//   <blank>
//   dump_stack_lvl(): CPU:/Call Trace:/<TASK> ... </TASK>
//   <blank>
//   Allocated by task P: (frames) <blank>   Freed by task P: (frames) <blank>   (slab objects)
//   The buggy address belongs to the object at A / which belongs to the cache C of size S /
//   The buggy address is located N bytes inside of|to the right of|to the left of / S-byte region [A, B)
//   <blank>
//   The buggy address belongs to the virtual mapping at / [A, B) created by: / caller   (vmalloc)
//   The buggy address belongs to the physical page: / dump_page() / <blank>
//   Memory state around the buggy address: five rows of 16 shadow bytes, the guilty row marked
//   with ">" and a "^" under the first bad granule
//   ==================================================================
// Bug type from the first bad granule's shadow (the next one's for a partly accessible granule):
// KASAN_PAGE_REDZONE and KASAN_SLAB_REDZONE slab-out-of-bounds, free values use-after-free,
// KASAN_VMALLOC_INVALID vmalloc-out-of-bounds, 1..7 out-of-bounds. Frees: 6.1 prints
// "double-free" and "invalid-free" (6.0 and before: "double-free or invalid-free"); the function
// is __cache_free's caller where its return address lands: __kmem_cache_free for kfree (SLAB's
// kfree calls it out of line), kmem_cache_free. "in <function>" for an access is the function
// making it (_RET_IP_ of the check: the caller of memset/memcpy). Frames are names only (no
// +off/size), as the simulator keeps them; the access's trace is that of CONFIG_KASAN_INLINE
// (kasan_report straight above the function). Without kasan_multi_shot only the first report
// prints (KASAN_BIT_REPORTED); a memset or memcpy that reports does nothing (shadow.c returns
// NULL), a load or store goes on (kasan.fault=report). Simplified: the page line's pointer is
// the vmemmap address, not hashed %p; flags are mmsim's page flags with their names, without
// 6.1's raw: lines, head:/order: line and node=/zone= fields.
import type { Kernel } from "../kernel.ts";
import { dump_stack } from "../dumpstack.ts";
import { format_kaddr, type kaddr_t } from "./page.ts";
import type { MmState } from "./mm_state.ts";
import { KASAN_GRANULE_SIZE, kasan_byte_accessible, kasan_nearest_obj, kasan_state, memory_is_poisoned, shadow_byte, type KasanState } from "./kasan.ts";
import { struct_page_address } from "./page_alloc.ts";
import { PAGEFLAG_NAMES } from "./page-flags.ts";
import { kernel_vm, vmalloc_to_page } from "./vmalloc.ts";

const RULE = "=".repeat(66);
const META_ROWS_AROUND_ADDR = 2;
const META_BYTES_PER_ROW = 16;
const META_MEM_BYTES_PER_ROW = META_BYTES_PER_ROW * KASAN_GRANULE_SIZE;
const PAGE = 4096;

interface kasan_report_info {
  readonly type: "access" | "invalid-free" | "double-free";
  readonly access_addr: kaddr_t;
  readonly access_size: number;
  readonly is_write: boolean;
  /** The function the report is "in". */
  readonly ip: string;
  /** Frames above the context's, outermost first (dump_stack's `inner`). */
  readonly inner: readonly string[];
}

/** kasan_find_first_bad_addr(). */
function first_bad_addr(s: KasanState, addr: kaddr_t, size: number): kaddr_t {
  let p = addr;
  while (p < addr + size && shadow_byte(s, p) === 0) p += KASAN_GRANULE_SIZE;
  return p;
}

/** get_shadow_bug_type(). */
function bug_type(s: KasanState, bad: kaddr_t): string {
  let v = shadow_byte(s, bad);
  if (v > 0 && v < KASAN_GRANULE_SIZE) v = shadow_byte(s, bad + KASAN_GRANULE_SIZE);
  if (v < KASAN_GRANULE_SIZE) return "out-of-bounds";
  if (v === 0xfe || v === 0xfc) return "slab-out-of-bounds";
  if (v === 0xff || v === 0xfb || v === 0xfa) return "use-after-free";
  if (v === 0xf8) return "vmalloc-out-of-bounds";
  return "unknown-crash";
}

/** The page of a direct-map address (addr_to_page), or null. */
function addr_to_pfn(mm: MmState, addr: kaddr_t): number | null {
  const pa = addr - mm.dm.page_offset;
  return pa >= 0 && pa < mm.dm.max_low_pfn * PAGE ? Math.floor(pa / PAGE) : null;
}

/** dump_page(page, "kasan: bad access detected"), simplified (see the header). */
function dump_page(mm: MmState, p: number): string[] {
  const map = mm.mem_map;
  const flags = map.flags[p]!;
  const names = PAGEFLAG_NAMES.filter((_, i) => flags & (1 << i));
  return [
    `page:${struct_page_address(mm, p)} refcount:${map._count[p]} mapcount:${map._mapcount[p]! + 1} mapping:${"0".repeat(16)} index:0x${map.index[p]!.toString(16)} pfn:0x${p.toString(16)}`,
    `flags: 0x${flags.toString(16)}(${names.join("|")})`,
    "page dumped because: kasan: bad access detected",
  ];
}

/** describe_object(): the tracks, then where the address lies in the object. */
function describe_object(s: KasanState, mm: MmState, addr: kaddr_t, object: kaddr_t, cache: { name: string; obj_size: number }): string[] {
  const out: string[] = [];
  const a = s.alloc_track.get(object);
  if (a !== undefined) out.push(`Allocated by task ${a.pid}:`, ...a.frames.map((f) => ` ${f}`), "");
  // The free track only while the first shadow byte says it is there (KASAN_SLAB_FREETRACK).
  const f = shadow_byte(s, object) === 0xfa ? s.free_track.get(object) : undefined;
  if (f !== undefined) out.push(`Freed by task ${f.pid}:`, ...f.frames.map((x) => ` ${x}`), "");
  const size = cache.obj_size;
  const [rel_type, rel_bytes] = addr < object ? ["to the left", object - addr] : addr >= object + size ? ["to the right", addr - (object + size)] : ["inside", addr - object];
  const x = (v: kaddr_t) => format_kaddr(mm.dm, v);
  out.push(
    `The buggy address belongs to the object at ${x(object)}`,
    ` which belongs to the cache ${cache.name} of size ${size}`,
    `The buggy address is located ${rel_bytes} bytes ${rel_type} of`,
    ` ${size}-byte region [${x(object)}, ${x(object + size)})`,
  );
  return out;
}

/** print_address_description(): the stack, the object, the mapping, the page. */
function address_description(k: Kernel, s: KasanState, mm: MmState, info: kasan_report_info, addr: kaddr_t): string[] {
  const out = [...dump_stack(k.this_ctx(), info.inner), ""];
  let pfn = addr_to_pfn(mm, addr);
  const obj = pfn !== null ? kasan_nearest_obj(s, addr, pfn) : null;
  if (obj !== null) out.push(...describe_object(s, mm, addr, obj.object, obj.sp.cache), "");
  if (addr >= s.vmalloc.start && addr < s.vmalloc.end) {
    const va = kernel_vm(mm).list.areas.find((v) => addr >= v.addr && addr < v.addr + v.size);
    if (va !== undefined) {
      out.push("The buggy address belongs to the virtual mapping at", ` [${format_kaddr(mm.dm, va.addr)}, ${format_kaddr(mm.dm, va.addr + va.size)}) created by:`, ` ${va.caller}`, "");
      pfn = vmalloc_to_page(addr);
    }
  }
  if (pfn !== null) out.push("The buggy address belongs to the physical page:", ...dump_page(mm, pfn), "");
  return out;
}

/** print_memory_metadata(): five rows of shadow around `addr`. */
function memory_metadata(s: KasanState, mm: MmState, addr: kaddr_t): string[] {
  const out = ["Memory state around the buggy address:"];
  let row = Math.floor(addr / META_MEM_BYTES_PER_ROW) * META_MEM_BYTES_PER_ROW - META_ROWS_AROUND_ADDR * META_MEM_BYTES_PER_ROW;
  for (let i = -META_ROWS_AROUND_ADDR; i <= META_ROWS_AROUND_ADDR; i++, row += META_MEM_BYTES_PER_ROW) {
    const bytes: string[] = [];
    for (let g = 0; g < META_BYTES_PER_ROW; g++) bytes.push(shadow_byte(s, row + g * KASAN_GRANULE_SIZE).toString(16).padStart(2, "0"));
    out.push(`${i === 0 ? ">" : " "}${format_kaddr(mm.dm, row)}: ${bytes.join(" ")}`);
    if (row <= addr && addr < row + META_MEM_BYTES_PER_ROW) {
      // meta_pointer_offset(): 3 + 16 hex digits, 3 characters a granule, then the caret's own.
      const offset = 3 + 16 + Math.floor((addr - row) / KASAN_GRANULE_SIZE) * 3 + 1;
      out.push(`${" ".repeat(offset - 1)}^`);
    }
  }
  return out;
}

/** print_report() between start_report() and end_report(); false when suppressed. */
function report(k: Kernel, s: KasanState, info: kasan_report_info): boolean {
  if (s.reported) return false; // report_enabled(): KASAN_BIT_REPORTED, no kasan_multi_shot
  s.reported = true;
  const mm = k.mm!;
  const cur = k.this_cpu().curr;
  const addr = format_kaddr(mm.dm, info.access_addr);
  const bad = info.type === "access" ? first_bad_addr(s, info.access_addr, info.access_size) : info.access_addr;
  const type = info.type === "access" ? bug_type(s, bad) : info.type;
  const title = `BUG: KASAN: ${type} in ${info.ip}`;
  const what = info.type !== "access" ? `Free of addr ${addr} by task ${cur.comm}/${cur.pid}` : `${info.is_write ? "Write" : "Read"} of size ${info.access_size} at addr ${addr} by task ${cur.comm}/${cur.pid}`;
  const lines = [RULE, title, what, "", ...address_description(k, s, mm, info, info.access_addr), ...memory_metadata(s, mm, bad), RULE];
  k.report("kasan", lines.join("\n"), undefined, title);
  return true;
}

const ACCESS_FRAMES = ["kasan_report", "print_report", "dump_stack_lvl"];

/**
 * kasan_check_range(): `size` bytes at `addr` as `fn` reads or writes them (`via`: "memset" or
 * "memcpy" when one of them does it). Returns false when it reported (memset and memcpy then do
 * nothing). Context: any.
 */
export function kasan_check_range(k: Kernel, addr: kaddr_t, size: number, write: boolean, via?: string): boolean {
  const s = kasan_state(k);
  if (s === undefined || !Number.isInteger(size) || size <= 0 || !memory_is_poisoned(s, addr, size)) return true;
  const frames = k.this_ctx().frames;
  const ip = frames[frames.length - 1] ?? "?";
  const inner = via === undefined ? ACCESS_FRAMES : [via, "kasan_check_range", ...ACCESS_FRAMES];
  return !report(k, s, { type: "access", access_addr: addr, access_size: size, is_write: write, ip, inner });
}

/**
 * kasan_check_byte() / __kasan_check_byte(): the byte at `addr` accessible, else a 1-byte read
 * reported in `fn`'s caller. Returns whether it is accessible. Context: any.
 */
export function kasan_check_byte(k: Kernel, addr: kaddr_t, fn: string): boolean {
  const s = kasan_state(k);
  if (s === undefined || kasan_byte_accessible(s, addr)) return true;
  const frames = k.this_ctx().frames;
  report(k, s, { type: "access", access_addr: addr, access_size: 1, is_write: false, ip: frames[frames.length - 1] ?? "?", inner: [fn, "__kasan_check_byte", "kasan_report", "print_report", "dump_stack_lvl"] });
  return false;
}

/**
 * kasan_report_invalid_free(): `ptr` freed through `fns` (outermost first, e.g. kfree,
 * __kmem_cache_free) is not an object's start, or its object is already free.
 */
export function kasan_report_invalid_free(k: Kernel, ptr: kaddr_t, type: "invalid-free" | "double-free", fns: readonly string[], hook: readonly string[] = ["__kasan_slab_free", "____kasan_slab_free"]): void {
  const s = kasan_state(k);
  if (s === undefined) return;
  const inner = [...fns, ...hook, "kasan_report_invalid_free", "print_report", "dump_stack_lvl"];
  report(k, s, { type, access_addr: ptr, access_size: 0, is_write: false, ip: fns[fns.length - 1]!, inner });
}
