// x86 segmentation at teaching depth: a GDT of descriptors (entry 0 is the null descriptor),
// selectors (index, table indicator, RPL), loading a segment register with the protection checks
// of protected mode, and logical -> linear translation (base + offset, within the limit). Linux
// uses flat segments (base 0, limit 4 GiB) so the linear address equals the offset; the layout
// below is the i386 2.6 one (__KERNEL_CS 0x60, __KERNEL_DS 0x68, __USER_CS 0x73, __USER_DS 0x7b)
// and the x86_64 one (0x10, 0x18, 0x33, 0x2b). Faults are returned, not thrown: #GP (general
// protection), #NP (not present), #SS (stack segment). Not modelled: the LDT, call gates, TSS,
// conforming code segments, expand-down segments, 64-bit mode's ignored bases.

export interface Descriptor {
  readonly base: number;
  /** Last valid offset (limit with granularity applied). */
  readonly limit: number;
  readonly kind: "code" | "data";
  readonly dpl: 0 | 1 | 2 | 3;
  readonly present: boolean;
}

export type SegReg = "cs" | "ds" | "es" | "fs" | "gs" | "ss";

export type Fault = { readonly fault: "#GP" | "#NP" | "#SS"; readonly error_code: number };

export const selector = (index: number, rpl: number, ldt = false): number => (index << 3) | (ldt ? 4 : 0) | rpl;
export const selector_index = (sel: number): number => sel >> 3;
export const selector_rpl = (sel: number): number => sel & 3;

const FLAT = 0xffffffff;

export class Gdt {
  constructor(readonly entries: readonly (Descriptor | null)[]) {}

  /** The descriptor a selector names, or a fault (as loading it would raise). */
  private lookup(sel: number): Descriptor | Fault {
    if (sel & 4) return { fault: "#GP", error_code: sel & 0xfffc }; // no LDT here
    const d = this.entries[selector_index(sel)];
    if (d === undefined) return { fault: "#GP", error_code: sel & 0xfffc };
    if (d === null) return { fault: "#GP", error_code: sel & 0xfffc }; // an empty (all-zero) descriptor
    return d;
  }

  /**
   * Loading `reg` with `sel` at privilege `cpl`: the checks of MOV Sreg / far JMP. A null selector
   * may be loaded into DS, ES, FS and GS (using them later faults) but into CS or SS is #GP(0).
   */
  load(reg: SegReg, sel: number, cpl: number): Descriptor | null | Fault {
    if (selector_index(sel) === 0 && !(sel & 4)) {
      return reg === "cs" || reg === "ss" ? { fault: "#GP", error_code: 0 } : null;
    }
    const d = this.lookup(sel);
    if ("fault" in d) return d;
    const rpl = selector_rpl(sel);
    const code = sel & 0xfffc;
    if (reg === "ss") {
      if (d.kind !== "data" || rpl !== cpl || d.dpl !== cpl) return { fault: "#GP", error_code: code };
      if (!d.present) return { fault: "#SS", error_code: code };
    } else if (reg === "cs") {
      if (d.kind !== "code" || d.dpl !== cpl || rpl > cpl) return { fault: "#GP", error_code: code };
      if (!d.present) return { fault: "#NP", error_code: code };
    } else {
      if (Math.max(cpl, rpl) > d.dpl) return { fault: "#GP", error_code: code };
      if (!d.present) return { fault: "#NP", error_code: code };
    }
    return d;
  }
}

/** logical -> linear: `offset` in the segment loaded in a register (null: a null selector). */
export function linear_address(seg: Descriptor | null, reg: SegReg, offset: number, size: number): number | Fault {
  if (seg === null) return { fault: "#GP", error_code: 0 };
  if (offset + size - 1 > seg.limit) return { fault: reg === "ss" ? "#SS" : "#GP", error_code: 0 };
  return (seg.base + offset) >>> 0;
}

const flat = (kind: "code" | "data", dpl: 0 | 3): Descriptor => ({ base: 0, limit: FLAT, kind, dpl, present: true });

/** Linux's GDT: i386 entries 12..15 (KERNEL_CS, KERNEL_DS, USER_CS, USER_DS), x86_64 2, 3, 5, 6. */
export function linux_gdt(arch: "i386" | "x86_64"): { readonly gdt: Gdt; readonly __KERNEL_CS: number; readonly __KERNEL_DS: number; readonly __USER_CS: number; readonly __USER_DS: number } {
  const entries: (Descriptor | null)[] = Array(32).fill(null);
  if (arch === "i386") {
    entries[12] = flat("code", 0);
    entries[13] = flat("data", 0);
    entries[14] = flat("code", 3);
    entries[15] = flat("data", 3);
    return { gdt: new Gdt(entries), __KERNEL_CS: selector(12, 0), __KERNEL_DS: selector(13, 0), __USER_CS: selector(14, 3), __USER_DS: selector(15, 3) };
  }
  entries[2] = flat("code", 0);
  entries[3] = flat("data", 0);
  entries[5] = flat("data", 3);
  entries[6] = flat("code", 3);
  return { gdt: new Gdt(entries), __KERNEL_CS: selector(2, 0), __KERNEL_DS: selector(3, 0), __USER_CS: selector(6, 3), __USER_DS: selector(5, 3) };
}
