// mm/kmemleak.c (CONFIG_DEBUG_KMEMLEAK), as a simulator can have it: every kmalloc,
// kmem_cache_alloc and vmalloc object is recorded with its size, the task, jiffies and the
// allocation's backtrace, and forgotten when freed. A scan looks for references to each object
// and reports those nothing refers to:
//   unreferenced object 0x%08lx (size %zu):
//     comm "%s", pid %d, jiffies %lu (age %d.%03ds)
//     backtrace:
//       func ...
// after dmesg's "kmemleak: N new suspected memory leaks (see /sys/kernel/debug/kmemleak)", in one
// report a scan. An object is reported once. mmsim keeps no memory contents, so the scan cannot read pointers out
// of memory as Linux does: it reads the handles the simulator can see instead, the scenario's
// state (what setup returned), every shared() variable, and the kernel's own structures that
// hold objects (a mempool's reserve is reachable through its pool), following JavaScript objects,
// arrays, maps and sets; a number pointing at an object or inside it is a reference. A pointer
// kept only in a closure's local variable is invisible: keep it in a handle.
// When: at the end of a run that finished (as a scan after the 5 s minimum age would find it;
// objects are not held back for being younger), and whenever a scenario calls kmemleak_scan().
// kmemleak_not_leak(ptr) marks a false positive. Not modelled: the hex dump, the minimum age,
// the periodic scan thread, alloc_bootmem and percpu objects, references from one leaked object
// to another (contents are not stored), gray objects' min_count.
import type { Kernel } from "../kernel.ts";
import type { kaddr_t } from "./page.ts";
import { format_kaddr } from "./page.ts";

interface kmemleak_object {
  readonly pointer: kaddr_t;
  readonly size: number;
  readonly comm: string;
  readonly pid: number;
  readonly jiffies: number;
  readonly at_ns: number;
  readonly trace: readonly string[];
  reported: boolean;
  not_leak: boolean;
}

interface KmemleakState {
  readonly objects: Map<kaddr_t, kmemleak_object>;
  /** Handles the scan reads (shared() variables), and the scenario's state once it exists. */
  readonly roots: unknown[];
}
// The module's state, kept in the kernel's own field (a property load on the hot paths).
const states = {
  get: (o: Kernel): KmemleakState | undefined => o.ext_kmemleak as KmemleakState | undefined,
  set: (o: Kernel, v: KmemleakState): void => {
    o.ext_kmemleak = v;
  },
  has: (o: Kernel): boolean => o.ext_kmemleak !== undefined,
};

export function kmemleak_init(k: Kernel): void {
  states.set(k, { objects: new Map(), roots: [] });
}

/** A handle the scan reads (shared() variables register themselves; the harness adds the scenario's state). */
export function kmemleak_add_root(k: Kernel, v: unknown): void {
  states.get(k)?.roots.push(v);
}

/** kmemleak_alloc(): a new object of `size` bytes at `ptr`, allocated from `fn`. */
export function kmemleak_alloc(k: Kernel, ptr: kaddr_t, size: number, fn: string): void {
  const s = states.get(k);
  if (s === undefined || ptr === 0) return;
  const t = k.this_cpu().curr;
  const frames = [...k.this_ctx().frames].reverse();
  s.objects.set(ptr, { pointer: ptr, size, comm: t.comm, pid: t.pid, jiffies: Math.floor(k.now() / k.tick_ns), at_ns: k.now(), trace: [fn, ...frames], reported: false, not_leak: false });
}

/** kmemleak_free(): the object at `ptr` is gone. */
export function kmemleak_free(k: Kernel, ptr: kaddr_t): void {
  states.get(k)?.objects.delete(ptr);
}

/**
 * kmemleak_erase(&ac->entry[ac->avail]): the slot an object was just handed out from no longer
 * points at it, so a leaked object is not kept "referenced" by the per-CPU array it came from.
 */
export function kmemleak_erase(k: Kernel, entry: number[], i: number): void {
  if (states.has(k) && i < entry.length) entry[i] = 0;
}

/** kmemleak_not_leak(): never report this object. */
export function kmemleak_not_leak(k: Kernel, ptr: kaddr_t): void {
  const o = states.get(k)?.objects.get(ptr);
  if (o !== undefined) o.not_leak = true;
}

/** Every number reachable from the roots. */
function referenced_values(roots: readonly unknown[]): number[] {
  const out: number[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "number") out.push(v);
    else if (typeof v === "object" && v !== null && !seen.has(v)) {
      seen.add(v);
      if (v instanceof Map) for (const [a, b] of v) stack.push(a, b);
      else if (v instanceof Set) for (const a of v) stack.push(a);
      else if (ArrayBuffer.isView(v)) continue; // typed arrays are the kernel's tables, not handles
      else for (const x of Object.values(v)) stack.push(x);
    }
  }
  return out;
}

/**
 * kmemleak_scan(): reports the objects no handle refers to and that were not reported before;
 * returns how many are new.
 */
export function kmemleak_scan(k: Kernel, extra_roots: readonly unknown[] = []): number {
  const s = states.get(k);
  if (s === undefined) return 0;
  const objs = [...s.objects.values()].filter((o) => !o.reported && !o.not_leak).sort((a, b) => a.pointer - b.pointer);
  if (objs.length === 0) return 0;
  const values = referenced_values([...s.roots, ...extra_roots]).sort((a, b) => a - b);
  // An object is referenced when some value falls in [pointer, pointer + size).
  const referenced = (o: kmemleak_object): boolean => {
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid]! < o.pointer) lo = mid + 1;
      else hi = mid;
    }
    return lo < values.length && values[lo]! < o.pointer + Math.max(o.size, 1);
  };
  const leaks = objs.filter((o) => !referenced(o));
  if (leaks.length === 0) return 0;
  const mm = k.mm;
  const now = k.now();
  // One report a scan: dmesg's summary line, then the objects as /sys/kernel/debug/kmemleak lists them.
  const summary = `kmemleak: ${leaks.length} new suspected memory leak${leaks.length > 1 ? "s" : ""} (see /sys/kernel/debug/kmemleak)`;
  const blocks = leaks.map((o) => {
    o.reported = true;
    const addr = mm !== null ? format_kaddr(mm.dm, o.pointer) : o.pointer.toString(16);
    const age_ms = Math.floor((now - o.at_ns) / 1e6);
    return [
      `unreferenced object 0x${addr.padStart(8, "0")} (size ${o.size}):`,
      `  comm "${o.comm}", pid ${o.pid}, jiffies ${o.jiffies} (age ${Math.floor(age_ms / 1000)}.${String(age_ms % 1000).padStart(3, "0")}s)`,
      "  backtrace:",
      ...o.trace.map((f) => `    ${f}`),
    ].join("\n");
  });
  k.report("kmemleak", [summary, ...blocks].join("\n"));
  return leaks.length;
}
