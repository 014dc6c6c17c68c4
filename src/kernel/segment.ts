// arch/x86/include/asm/segment.h and traps.c do_general_protection(), at teaching depth: the
// machine's GDT (Linux's layout for the arch, src/hw/mmu/segmentation.ts) and each execution
// context's data segment. Every memory access is logical -> linear through it before paging:
// i386 kernel code runs with DS = __USER_DS (as entry_32.S's SAVE_ALL loads it; flat, base 0,
// limit 4 GiB, so linear = offset) and a user process with its own __USER_DS. loadsegment()
// checks the selector as MOV Sreg does; a fault, or an access through a null DS, is a general
// protection fault: the oops "general protection fault: %04x [#N] ..." (6.1, for a selector's
// non-zero error code: "segment-related general protection fault: ...") stops the machine. An
// interrupt saves and reloads DS (each context has its own). On x86_64 (64-bit mode) DS's base
// and limit are ignored and a null DS is harmless, as on the hardware.
// Not modelled: CS changes (far jumps), ES/FS/GS/SS use, the LDT, TLS descriptors.
import { ScenarioError } from "../sim/errors.ts";
import { linear_address, linux_gdt, type Descriptor, type SegReg } from "../hw/mmu/segmentation.ts";
import type { ExecContext } from "./context.ts";
import { kernel, type Kernel } from "./kernel.ts";
import { dump_stack } from "./dumpstack.ts";
import { ScenarioBug } from "./bug.ts";

type Arch = "i386" | "x86_64";
const arch_of = (k: Kernel): Arch => k.mm?.arch ?? "i386";
const gdts = new WeakMap<Kernel, ReturnType<typeof linux_gdt>>();

/** The machine's GDT and Linux's selectors (__KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS). */
export function gdt_of(k: Kernel = kernel()): ReturnType<typeof linux_gdt> {
  let g = gdts.get(k);
  if (g === undefined) gdts.set(k, (g = linux_gdt(arch_of(k))));
  return g;
}

/** A context's data segment: the selector and its descriptor (null: a null selector). */
interface DataSegment {
  readonly sel: number;
  readonly desc: Descriptor | null;
}
/** The context's DS (ExecContext.data_segment), __USER_DS until the context loads another. */
function ds(k: Kernel, ctx: ExecContext): DataSegment {
  let d = ctx.data_segment as DataSegment | null;
  if (d === null) {
    const g = gdt_of(k);
    const sel = g.__USER_DS;
    const desc = g.gdt.load("ds", sel, 0);
    ctx.data_segment = d = { sel, desc: desc as Descriptor };
  }
  return d;
}

/**
 * The oops for a #GP in kernel mode: 2.6.34 do_general_protection()'s die("general protection
 * fault", regs, error_code); 6.1 exc_general_protection() calls a fault with a non-zero error
 * code (a selector) "segment-related general protection fault". (6.1 adds ", maybe for address
 * 0x..." to an error code 0 when it can decode the faulting instruction's address; mmsim's
 * error-0 faults come from a null DS, whose base get_seg_base() cannot give, so no hint.)
 */
function general_protection(k: Kernel, error_code: number, what: string): never {
  const preempt = k.config.preempt ? " PREEMPT" : "";
  const str = k.config.era === "6" && error_code !== 0 ? "segment-related general protection fault" : "general protection fault";
  const line = `${str}: ${hex4(error_code)} [#${++k.die_counter}]${preempt} SMP${k.config.era === "2.6" ? " " : ""}`;
  k.report("bug", [line, ...dump_stack(k.this_ctx(), ["general_protection", "do_general_protection"])].join("\n"));
  throw new ScenarioBug(`general protection fault: ${what}`);
}

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");

/**
 * loadsegment(seg, sel): loads DS (or ES, FS, GS: they share DS's checks) of the running context,
 * at CPL 0, or of a user process's own accesses. A faulting selector is a #GP oops.
 * Context: any.
 */
export function loadsegment(reg: SegReg, sel: number): void {
  const k = kernel();
  if (reg === "cs" || reg === "ss") throw new ScenarioError(`loadsegment("${reg}", ...): only ds, es, fs and gs can be loaded here (CS changes by far jumps, SS with the stack)`);
  if (!Number.isInteger(sel) || sel < 0 || sel > 0xffff) throw new ScenarioError(`loadsegment: a selector is a 16-bit number, got ${sel}`);
  const r = gdt_of(k).gdt.load(reg, sel, 0);
  if (r !== null && "fault" in r) general_protection(k, r.error_code, `loading ${reg} with selector 0x${sel.toString(16)}`);
  if (reg === "ds") k.this_ctx().data_segment = { sel, desc: r } satisfies DataSegment;
}

/** Linux's selectors on this machine's arch: { __KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS }. */
export function gdt_selectors(): { __KERNEL_CS: number; __KERNEL_DS: number; __USER_CS: number; __USER_DS: number } {
  const { __KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS } = gdt_of();
  return { __KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS };
}

/** The selector in the running context's DS. */
export const current_ds = (): number => ds(kernel(), kernel().this_ctx()).sel;

/**
 * logical -> linear for a `size`-byte data access at `offset` through DS: base + offset (always
 * the offset with Linux's flat segments); #GP through a null or too-short segment.
 */
export function data_linear(k: Kernel, offset: number, size: number): number {
  if (arch_of(k) === "x86_64") return offset; // 64-bit mode: DS's base and limit are not used
  const d = ds(k, k.this_ctx());
  const r = linear_address(d.desc, "ds", offset, Math.max(1, size));
  if (typeof r !== "number") general_protection(k, r.error_code, `access at 0x${offset.toString(16)} through ds 0x${d.sel.toString(16)}`);
  return r;
}
