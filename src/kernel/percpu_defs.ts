// include/linux/percpu-defs.h, include/asm-generic/percpu.h and include/linux/smp.h's
// get_cpu()/put_cpu(): per-CPU variables. DEFINE_PER_CPU(init) gives one copy per CPU, each a
// Shared<T> cell (per_cpu_ptr(v, cpu) is that cell: READ_ONCE/WRITE_ONCE work on it).
// - this_cpu_read/write/add/sub/inc/dec/add_return: the preemption-safe operations (x86: one
//   %gs-relative instruction; generic: with interrupts off): an interleaving point, then the
//   whole operation on the copy of the CPU the context is on by then.
// - __this_cpu_read/write/add/sub/inc/dec: for callers that have preemption off. 6.1 checks that
//   with CONFIG_DEBUG_PREEMPT ("BUG: using __this_cpu_add() in preemptible [00000000] code";
//   2.6.34 has no check here). The add is asm-generic's load and store (raw_cpu_generic_to_op):
//   an interleaving point, the load (of the CPU the context is on then), another interleaving
//   point, the store into the same CPU's copy. Preempted between them, another task on the CPU
//   may update the copy and its update is lost. (On x86 the add is one instruction, so only which
//   CPU's copy it lands in is at risk; mmsim models the generic code to show the hazard.)
// - this_cpu_ptr(v) calls smp_processor_id(), so with CONFIG_DEBUG_PREEMPT a preemptible caller
//   that may migrate is reported in both eras; raw_cpu_ptr / __this_cpu_ptr (2.6.34's name) do not.
// - get_cpu() = preempt_disable() + smp_processor_id(); put_cpu() = preempt_enable();
//   get_cpu_var(v) / put_cpu_var(v) likewise around this_cpu_ptr(v).
// A per-CPU variable needs the machine's CPU count: make it in setup() or later (like shared()).
// Not modelled: the per-CPU areas' addresses and first-chunk layout, alloc_percpu, the
// this_cpu_cmpxchg family, per-CPU data's cache lines (use mem_read/mem_write for that).
import type * as Effect from "effect/Effect";
import { ScenarioError } from "../sim/errors.ts";
import { OpClass, op, PARK, type Activation } from "../sim/op.ts";
import { shared, type Shared } from "./atomic.ts";
import { kernel, kernel_if_running } from "./kernel.ts";
import { preempt_disable, preempt_enable, smp_processor_id } from "./sched/core.ts";
import { __this_cpu_preempt_check } from "./smp_processor_id.ts";

/** A per-CPU variable: one cell per CPU, by CPU number. */
export interface PerCpuVar<T> {
  readonly name: string;
  readonly cells: readonly Shared<T>[];
}

/**
 * DEFINE_PER_CPU(type, name): a per-CPU variable, every CPU's copy starting as `init` (a function
 * is called once per CPU for its own copy: give `() => ({ ... })` for a structure). Context:
 * setup() or later (it needs the machine's CPU count).
 */
export function DEFINE_PER_CPU<T>(init: T | (() => T), name = "percpu"): PerCpuVar<T> {
  const k = kernel_if_running();
  if (k === null) throw new ScenarioError(`DEFINE_PER_CPU(${name}): call it in setup() or later, when the machine's CPUs exist`);
  const make = typeof init === "function" ? (init as () => T) : () => init;
  return { name, cells: k.percpu.map(() => shared(make())) };
}

/** per_cpu_ptr(v, cpu): CPU `cpu`'s copy (no check: any CPU's copy may be reached). */
export function per_cpu_ptr<T>(v: PerCpuVar<T>, cpu: number): Shared<T> {
  const c = v.cells[cpu];
  if (c === undefined) throw new ScenarioError(`per_cpu_ptr(${v.name}, ${cpu}): no CPU ${cpu} on a ${v.cells.length}-CPU machine`);
  return c;
}
/** per_cpu(v, cpu): the value of CPU `cpu`'s copy (a plain load; write through per_cpu_ptr). */
export const per_cpu = <T>(v: PerCpuVar<T>, cpu: number): T => per_cpu_ptr(v, cpu).value;

/** this_cpu_ptr(v): this CPU's copy, through smp_processor_id() (CONFIG_DEBUG_PREEMPT checks the caller). */
export const this_cpu_ptr = <T>(v: PerCpuVar<T>): Shared<T> => v.cells[smp_processor_id()]!;
/** raw_cpu_ptr(v): this CPU's copy, unchecked (the caller knows the answer may be stale). */
export const raw_cpu_ptr = <T>(v: PerCpuVar<T>): Shared<T> => v.cells[kernel().this_cpu().id]!;
/** __this_cpu_ptr(v): 2.6.34's name for raw_cpu_ptr. */
export const __this_cpu_ptr = raw_cpu_ptr;

/** get_cpu(): preemption off, then this CPU's number (valid until put_cpu()). */
export function get_cpu(): number {
  preempt_disable();
  return smp_processor_id();
}
/** put_cpu(): preemption back on (a preemption point). */
export const put_cpu = (): Effect.Effect<void> => preempt_enable();
/** get_cpu_var(v): preemption off, then this CPU's copy (until put_cpu_var()). */
export function get_cpu_var<T>(v: PerCpuVar<T>): Shared<T> {
  preempt_disable();
  return this_cpu_ptr(v);
}
/** put_cpu_var(v): preemption back on. */
export const put_cpu_var = <T>(_v: PerCpuVar<T>): Effect.Effect<void> => preempt_enable();

const READ = 0;
const WRITE = 1;
const ADD = 2;
const ADD_RETURN = 3;
/** __this_cpu_add: a load and a store with an interleaving point between. */
const SPLIT_ADD = 4;

/** A this_cpu / __this_cpu operation: its checks, an interleaving point, the operation (SPLIT_ADD: load, point, store). */
class ThisCpuOp<T> extends OpClass {
  constructor(
    readonly v: PerCpuVar<T>,
    readonly kind: number,
    readonly val: unknown,
    /** 6.1's __this_cpu_preempt_check(op) name, or null (this_cpu_*). */
    readonly check: string | null,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    if (act.phase === 0) {
      if (this.check !== null) __this_cpu_preempt_check(k, k.this_cpu(), this.check);
      k.charge(k.costs.step);
      act.phase = 1;
      return PARK;
    }
    const cells = this.v.cells as Shared<unknown>[];
    if (act.phase === 2) {
      cells[act.i]!.value = (act.n + (this.val as number)) as unknown;
      return undefined;
    }
    const cpu = k.this_cpu().id;
    const cell = cells[cpu]!;
    switch (this.kind) {
      case READ:
        return cell.value;
      case WRITE:
        cell.value = this.val;
        return undefined;
      case SPLIT_ADD:
        act.i = cpu;
        act.n = cell.value as number;
        k.charge(k.costs.step);
        act.phase = 2;
        return PARK;
      default:
        cell.value = (cell.value as number) + (this.val as number);
        return this.kind === ADD_RETURN ? cell.value : undefined;
    }
  }
}

/** this_cpu_read(v): this CPU's copy, read in one step. Context: any. */
export const this_cpu_read = <T>(v: PerCpuVar<T>): Effect.Effect<T> => op(new ThisCpuOp(v, READ, undefined, null));
/** this_cpu_write(v, val): this CPU's copy set, in one step. Context: any. */
export const this_cpu_write = <T>(v: PerCpuVar<T>, val: T): Effect.Effect<void> => op(new ThisCpuOp(v, WRITE, val, null));
/** this_cpu_add(v, i): this CPU's copy += i, in one step (preemption- and interrupt-safe). Context: any. */
export const this_cpu_add = (v: PerCpuVar<number>, i: number): Effect.Effect<void> => op(new ThisCpuOp(v, ADD, i, null));
/**
 * this_cpu_sub(v, i): this_cpu_add(v, -i): this CPU's copy -= i, preemption- and interrupt-safe.
 * Context: any; never sleeps. An Effect to `yield*`: an interleaving point, then the whole update
 * of the copy of the CPU the context is on by then.
 */
export const this_cpu_sub = (v: PerCpuVar<number>, i: number): Effect.Effect<void> => this_cpu_add(v, -i);
/**
 * this_cpu_inc(v): this_cpu_add(v, 1): this CPU's copy += 1, preemption- and interrupt-safe.
 * Context: any; never sleeps. An Effect to `yield*`: an interleaving point, then the whole update
 * of the copy of the CPU the context is on by then.
 */
export const this_cpu_inc = (v: PerCpuVar<number>): Effect.Effect<void> => this_cpu_add(v, 1);
/**
 * this_cpu_dec(v): this_cpu_add(v, -1): this CPU's copy -= 1, preemption- and interrupt-safe.
 * Context: any; never sleeps. An Effect to `yield*`: an interleaving point, then the whole update
 * of the copy of the CPU the context is on by then.
 */
export const this_cpu_dec = (v: PerCpuVar<number>): Effect.Effect<void> => this_cpu_add(v, -1);
/** this_cpu_add_return(v, i): this CPU's copy += i; the new value. */
export const this_cpu_add_return = (v: PerCpuVar<number>, i: number): Effect.Effect<number> => op(new ThisCpuOp(v, ADD_RETURN, i, null));

/** __this_cpu_read(v): this CPU's copy; the caller has preemption off (6.1 checks). */
export const __this_cpu_read = <T>(v: PerCpuVar<T>): Effect.Effect<T> => op(new ThisCpuOp(v, READ, undefined, "read"));
/** __this_cpu_write(v, val): sets this CPU's copy; the caller has preemption off (6.1 checks). */
export const __this_cpu_write = <T>(v: PerCpuVar<T>, val: T): Effect.Effect<void> => op(new ThisCpuOp(v, WRITE, val, "write"));
/**
 * __this_cpu_add(v, i): this CPU's copy += i as a load and a store (an interleaving point
 * between); the caller has preemption off (6.1 checks). Not interrupt-safe either.
 */
export const __this_cpu_add = (v: PerCpuVar<number>, i: number): Effect.Effect<void> => op(new ThisCpuOp(v, SPLIT_ADD, i, "add"));
/**
 * __this_cpu_sub(v, i): __this_cpu_add(v, -i): a load and a store with an interleaving point
 * between; the caller has preemption off (6.1 checks, and names __this_cpu_add() in the report as
 * Linux's macro does). Context: preemption off; never sleeps. An Effect to `yield*`.
 */
export const __this_cpu_sub = (v: PerCpuVar<number>, i: number): Effect.Effect<void> => __this_cpu_add(v, -i);
/**
 * __this_cpu_inc(v): __this_cpu_add(v, 1): a load and a store with an interleaving point between;
 * the caller has preemption off (6.1 checks, as __this_cpu_add()). Context: preemption off; never
 * sleeps. An Effect to `yield*`.
 */
export const __this_cpu_inc = (v: PerCpuVar<number>): Effect.Effect<void> => __this_cpu_add(v, 1);
/**
 * __this_cpu_dec(v): __this_cpu_add(v, -1): a load and a store with an interleaving point between;
 * the caller has preemption off (6.1 checks, as __this_cpu_add()). Context: preemption off; never
 * sleeps. An Effect to `yield*`.
 */
export const __this_cpu_dec = (v: PerCpuVar<number>): Effect.Effect<void> => __this_cpu_add(v, -1);
