// A scenario's own detectors: the extension point beside the built-in ones (lockdep, KASAN,
// kmemleak, the spinlock and sleep checks). A detector is told of the kernel's lock, allocation,
// memory-access and context events as they happen, and files reports through the kernel's report
// channel: printed to the log with the CPU and virtual time, recorded with the detector's name as
// the report's kind (a failure unless the scenario lists that kind in expected_reports), and in
// the trace hash like every report. The events are the kernel's tracepoints (src/kernel/trace.ts,
// src/kernel/mm/trace.ts), given as objects: each kind of event is one object reused for every
// event of that kind (read it during the call; copy what you keep). A run without detectors pays
// one null check per tracepoint and per memory access.
import type { Kernel } from "./kernel.ts";
import type { kaddr_t } from "./mm/page.ts";
import { ScenarioError } from "../sim/errors.ts";
import { softirq_to_name, TP_IPI_ENTRY, TP_IPI_EXIT, TP_IRQ_HANDLER_ENTRY, TP_IRQ_HANDLER_EXIT, TP_LOCAL_TIMER_ENTRY, TP_LOCAL_TIMER_EXIT, TP_LOCK_ACQUIRE, TP_LOCK_ACQUIRED, TP_LOCK_CONTENDED, TP_LOCK_RELEASE, TP_SCHED_SWITCH, TP_SOFTIRQ_ENTRY, TP_SOFTIRQ_EXIT, TP_TASKLET_ENTRY, TP_TASKLET_EXIT, TRACE_LOCK_READ, TRACE_LOCK_TRY } from "./trace.ts";
import { TP_KFREE, TP_KMALLOC, TP_KMEM_CACHE_ALLOC, TP_KMEM_CACHE_FREE, TP_MM_PAGE_ALLOC, TP_MM_PAGE_FREE } from "./mm/trace.ts";

/** Where and when an event happened. */
interface At {
  /** Virtual time (ns). */
  ts: number;
  /** The CPU it happened on (-1: outside any CPU, as at boot). */
  cpu: number;
  /** The task running on that CPU, "comm-pid" as ftrace prints it ("" outside any CPU). */
  task: string;
}

/** A lock event: about to take it (acquire), found it held (contended), got it after waiting (acquired), let go (release). */
export interface LockEvent extends At {
  op: "acquire" | "contended" | "acquired" | "release";
  /** The lock's name (its class, as lockdep and /proc/lock_stat name it). */
  lock: string;
  /** acquire: a trylock. */
  try: boolean;
  /** acquire: a read acquisition (rwlock, rwsem). */
  read: boolean;
  /** acquired: how long it waited (ns). */
  wait_ns: number;
}

/** An allocation: pages from the buddy allocator, or an object from kmalloc or a slab cache. */
export interface AllocEvent extends At {
  what: "pages" | "kmalloc" | "kmem_cache";
  /** pages: the first page frame and the order (2^order pages). */
  pfn: number;
  order: number;
  /** kmalloc, kmem_cache: the object's address and the bytes asked for and given. */
  ptr: kaddr_t;
  bytes_req: number;
  bytes_alloc: number;
  /** pages, kmalloc: the GFP flags (the era's values); 0 for kmem_cache. */
  gfp: number;
  /** kmalloc: the function that called it ("" otherwise). */
  call_site: string;
}

/** A free: pages back to the buddy allocator, an object to kfree or its slab cache. */
export interface FreeEvent extends At {
  what: "pages" | "kfree" | "kmem_cache";
  pfn: number;
  order: number;
  ptr: kaddr_t;
  /** kfree: the function that called it ("" otherwise). */
  call_site: string;
}

/** A memory access through mem_read, mem_write, memset or memcpy (before KASAN's check). */
export interface AccessEvent extends At {
  addr: kaddr_t;
  size: number;
  write: boolean;
}

/** A context entered or left on a CPU: an interrupt handler, the local timer, an IPI, a softirq, a tasklet; a task switched in. */
export interface ContextEvent extends At {
  op: "enter" | "exit" | "switch";
  kind: "hardirq" | "timer" | "ipi" | "softirq" | "tasklet" | "task";
  /** The IRQ's name, the IPI's reason, the softirq's (TIMER, NET_RX, ...), the tasklet's function, or the task switched to ("comm-pid"). */
  name: string;
}

/** What a detector is told; every hook is optional. */
export interface DetectorHooks {
  lock?(e: LockEvent): void;
  alloc?(e: AllocEvent): void;
  free?(e: FreeEvent): void;
  access?(e: AccessEvent): void;
  context?(e: ContextEvent): void;
  /** The run ended with every task done (not at a lockup, a panic or a limit), before the scenario's check. */
  end?(): void;
}

/** What a detector can do. */
export interface DetectorContext {
  /** Files a report: `text` is printed to the log as given (its first line is the title); the report's kind is the detector's name. */
  report(text: string): void;
  /** A line in the log (printk). */
  printk(text: string): void;
  /** Virtual time now (ns). */
  now(): number;
  /** The number of CPUs. */
  readonly cpus: number;
}

/**
 * A detector of one's own (defineDetector): its `name`, which is the kind of the reports it
 * files, and create(), called at boot of each run to make that run's hooks.
 */
export interface Detector {
  /** Its name: the kind of the reports it files (letters, digits, '-' and '_'). */
  readonly name: string;
  /** Called at boot of every run that uses it: the hooks for that run (keep per-run state in its closure). */
  create(ctx: DetectorContext): DetectorHooks;
}

/** A detector for a scenario's `detectors` (or RunOptions.detectors). */
export function defineDetector(d: Detector): Detector {
  return d;
}

const NAME = /^[A-Za-z][\w-]*$/;

/** The built-in detectors' report kinds (report.ts), which a scenario's detector may not take. */
const BUILTIN = new Set<string>(["might_sleep", "scheduling_while_atomic", "spinlock", "soft_lockup", "hard_lockup", "hung_task", "stall", "expectation", "alloc_failure", "bad_page", "oom", "stale_tlb", "slab_error", "lockdep", "kmemleak", "refcount", "kasan", "panic", "bug", "list_corruption", "debug_preempt", "limit"]);

/** The kernel's side: the installed detectors' hooks, by event kind, and the reused event objects. */
export class Detectors {
  private readonly lockHooks: ((e: LockEvent) => void)[] = [];
  private readonly allocHooks: ((e: AllocEvent) => void)[] = [];
  private readonly freeHooks: ((e: FreeEvent) => void)[] = [];
  private readonly accessHooks: ((e: AccessEvent) => void)[] = [];
  private readonly contextHooks: ((e: ContextEvent) => void)[] = [];
  private readonly endHooks: (() => void)[] = [];
  private readonly lockEv: LockEvent = { ts: 0, cpu: 0, task: "", op: "acquire", lock: "", try: false, read: false, wait_ns: 0 };
  private readonly allocEv: AllocEvent = { ts: 0, cpu: 0, task: "", what: "pages", pfn: 0, order: 0, ptr: 0, bytes_req: 0, bytes_alloc: 0, gfp: 0, call_site: "" };
  private readonly freeEv: FreeEvent = { ts: 0, cpu: 0, task: "", what: "pages", pfn: 0, order: 0, ptr: 0, call_site: "" };
  private readonly accessEv: AccessEvent = { ts: 0, cpu: 0, task: "", addr: 0, size: 0, write: false };
  private readonly contextEv: ContextEvent = { ts: 0, cpu: 0, task: "", op: "enter", kind: "hardirq", name: "" };
  /** The interrupt handler each CPU entered last (its exit is named after it). */
  private readonly handler: string[] = [];
  /** A hook is running (the events it causes, a report's own, are not passed on). */
  private inside = false;

  constructor(private readonly k: Kernel, list: readonly Detector[]) {
    const seen = new Set<string>();
    for (const d of list) {
      if (typeof d?.name !== "string" || !NAME.test(d.name)) throw new ScenarioError(`a detector's name must be letters, digits, '-' or '_' starting with a letter, got ${JSON.stringify(d?.name)}`);
      if (seen.has(d.name)) throw new ScenarioError(`two detectors are named "${d.name}"`);
      if (BUILTIN.has(d.name)) throw new ScenarioError(`a detector may not be named "${d.name}": that is a built-in report kind (${[...BUILTIN].join(", ")})`);
      seen.add(d.name);
      const h = d.create(this.context(d.name));
      if (h.lock) this.lockHooks.push(h.lock.bind(h));
      if (h.alloc) this.allocHooks.push(h.alloc.bind(h));
      if (h.free) this.freeHooks.push(h.free.bind(h));
      if (h.access) this.accessHooks.push(h.access.bind(h));
      if (h.context) this.contextHooks.push(h.context.bind(h));
      if (h.end) this.endHooks.push(h.end.bind(h));
    }
  }

  private context(name: string): DetectorContext {
    const k = this.k;
    return {
      report: (text: string) => void k.report(name, text),
      printk: (text: string) => k.printk(text),
      now: () => k.now(),
      cpus: k.percpu.length,
    };
  }

  private at(e: At, ts: number, cpu: number, who: number): void {
    e.ts = ts;
    e.cpu = cpu;
    e.task = who >= 0 ? this.k.engine.trace.str(who) : "";
  }

  /** A tracepoint fired (Kernel.trace): passed on to the hooks of its kind. */
  event(type: number, ts: number, cpu: number, who: number, a0: number, a1: number, a2: number, a3: number, a4: number): void {
    if (this.inside) return;
    this.inside = true;
    try {
      this.dispatch(type, ts, cpu, who, a0, a1, a2, a3, a4);
    } finally {
      this.inside = false;
    }
  }

  private dispatch(type: number, ts: number, cpu: number, who: number, a0: number, a1: number, a2: number, a3: number, a4: number): void {
    const str = (id: number): string => this.k.engine.trace.str(id);
    switch (type) {
      case TP_LOCK_ACQUIRE:
        return this.lock(ts, cpu, who, "acquire", str(a1), (a0 & TRACE_LOCK_TRY) !== 0, (a0 & TRACE_LOCK_READ) !== 0, 0);
      case TP_LOCK_CONTENDED:
        return this.lock(ts, cpu, who, "contended", str(a0), false, false, 0);
      case TP_LOCK_ACQUIRED:
        return; // acquired() below: on the CPU that got the lock, which a handover's tracepoint is not on
      case TP_LOCK_RELEASE:
        return this.lock(ts, cpu, who, "release", str(a0), false, false, 0);
      case TP_MM_PAGE_ALLOC:
        return this.alloc(ts, cpu, who, "pages", a0, a1, 0, 0, 0, a2, "");
      case TP_KMALLOC:
        return this.alloc(ts, cpu, who, "kmalloc", 0, 0, a1, a2, a3, a4, str(a0));
      case TP_KMEM_CACHE_ALLOC:
        return this.alloc(ts, cpu, who, "kmem_cache", 0, 0, a0, a1, a2, 0, "");
      case TP_MM_PAGE_FREE:
        return this.free(ts, cpu, who, "pages", a0, a1, 0, "");
      case TP_KFREE:
        return this.free(ts, cpu, who, "kfree", 0, 0, a1, str(a0));
      case TP_KMEM_CACHE_FREE:
        return this.free(ts, cpu, who, "kmem_cache", 0, 0, a0, "");
      case TP_IRQ_HANDLER_ENTRY:
        // The exit tracepoint has no name: the handler's is kept for it, by CPU.
        if (cpu >= 0) this.handler[cpu] = str(a1);
        return this.ctx(ts, cpu, who, "enter", "hardirq", str(a1));
      case TP_IRQ_HANDLER_EXIT:
        return this.ctx(ts, cpu, who, "exit", "hardirq", (cpu >= 0 ? this.handler[cpu] : undefined) ?? `irq ${a0}`);
      case TP_LOCAL_TIMER_ENTRY:
        return this.ctx(ts, cpu, who, "enter", "timer", "local_timer");
      case TP_LOCAL_TIMER_EXIT:
        return this.ctx(ts, cpu, who, "exit", "timer", "local_timer");
      case TP_IPI_ENTRY:
        return this.ctx(ts, cpu, who, "enter", "ipi", str(a0));
      case TP_IPI_EXIT:
        return this.ctx(ts, cpu, who, "exit", "ipi", str(a0));
      case TP_SOFTIRQ_ENTRY:
        return this.ctx(ts, cpu, who, "enter", "softirq", softirq_to_name[a0] ?? String(a0));
      case TP_SOFTIRQ_EXIT:
        return this.ctx(ts, cpu, who, "exit", "softirq", softirq_to_name[a0] ?? String(a0));
      case TP_TASKLET_ENTRY:
        return this.ctx(ts, cpu, who, "enter", "tasklet", str(a0));
      case TP_TASKLET_EXIT:
        return this.ctx(ts, cpu, who, "exit", "tasklet", str(a0));
      case TP_SCHED_SWITCH:
        return this.ctx(ts, cpu, who, "switch", "task", `${str(a3)}-${a4}`);
    }
  }

  private lock(ts: number, cpu: number, who: number, op: LockEvent["op"], lock: string, trylock: boolean, read: boolean, wait: number): void {
    if (this.lockHooks.length === 0) return;
    const e = this.lockEv;
    this.at(e, ts, cpu, who);
    e.op = op;
    e.lock = lock;
    e.try = trylock;
    e.read = read;
    e.wait_ns = wait;
    for (const h of this.lockHooks) h(e);
  }

  private alloc(ts: number, cpu: number, who: number, what: AllocEvent["what"], pfn: number, order: number, ptr: number, req: number, got: number, gfp: number, site: string): void {
    if (this.allocHooks.length === 0) return;
    const e = this.allocEv;
    this.at(e, ts, cpu, who);
    e.what = what;
    e.pfn = pfn;
    e.order = order;
    e.ptr = ptr;
    e.bytes_req = req;
    e.bytes_alloc = got;
    e.gfp = gfp;
    e.call_site = site;
    for (const h of this.allocHooks) h(e);
  }

  private free(ts: number, cpu: number, who: number, what: FreeEvent["what"], pfn: number, order: number, ptr: number, site: string): void {
    if (this.freeHooks.length === 0) return;
    const e = this.freeEv;
    this.at(e, ts, cpu, who);
    e.what = what;
    e.pfn = pfn;
    e.order = order;
    e.ptr = ptr;
    e.call_site = site;
    for (const h of this.freeHooks) h(e);
  }

  private ctx(ts: number, cpu: number, who: number, op: ContextEvent["op"], kind: ContextEvent["kind"], name: string): void {
    if (this.contextHooks.length === 0) return;
    const e = this.contextEv;
    this.at(e, ts, cpu, who);
    e.op = op;
    e.kind = kind;
    e.name = name;
    for (const h of this.contextHooks) h(e);
  }

  /** A lock changed hands after contention (trace_lock_acquired): to the context on `cpu`, at `ts`. */
  acquired(ts: number, cpu: number, who: number, lock: string, wait: number): void {
    if (this.inside) return;
    this.inside = true;
    try {
      this.lock(ts, cpu, who, "acquired", lock, false, false, wait);
    } finally {
      this.inside = false;
    }
  }

  /** A memory access (mm/access.ts), on the running CPU. */
  access(addr: kaddr_t, size: number, write: boolean): void {
    if (this.accessHooks.length === 0 || this.inside) return;
    const k = this.k;
    const pc = k.this_cpu();
    const e = this.accessEv;
    this.at(e, pc.hw.clock, pc.id, k.who(pc.curr));
    e.addr = addr;
    e.size = size;
    e.write = write;
    this.inside = true;
    try {
      for (const h of this.accessHooks) h(e);
    } finally {
      this.inside = false;
    }
  }

  /** The run ended with every task done. */
  end(): void {
    for (const h of this.endHooks) h();
  }
}

/** Installs `list` on the kernel (at boot, before the scenario's setup); none: nothing is installed. */
export function detectors_init(k: Kernel, list: readonly Detector[]): void {
  if (list.length > 0) k.detectors = new Detectors(k, list);
}
