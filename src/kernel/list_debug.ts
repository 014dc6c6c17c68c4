// lib/list_debug.c (CONFIG_DEBUG_LIST) and what an access through a poisoned list pointer does.
// 2.6.34 checks only in __list_add() and list_del(), which are out of line with DEBUG_LIST: each
// check is a WARN() ("WARNING: at lib/list_debug.c:51 list_del()" then the message) and the
// operation goes on regardless; its list_del() reads entry->prev->next and entry->next->prev to
// check them, so deleting an entry twice faults on LIST_POISON2 (0x00200200) right there. 6.1
// checks in __list_add_valid() and __list_del_entry_valid(), which every add and every deletion
// (list_del, list_del_init, list_move) calls: the first failing CHECK_DATA_CORRUPTION() is a WARN
// (the message, then "WARNING: CPU: c PID: p at lib/list_debug.c:53 __list_del_entry_valid") and
// the add or unlink is skipped (list_del still poisons the entry); its poison values are 0x100
// and 0x122 (+ POISON_POINTER_DELTA, 0xdead000000000000 on x86_64, 0 on i386). The WARN line's
// number is the CHECK's first line in 6.1 (GCC 9+) and the WARN's last line in 2.6.34 (GCC 4.x
// gives a multi-line macro call the line it ends on). Without DEBUG_LIST a write through a
// poisoned pointer (next->prev = prev on an entry deleted before) is the oops it is in Linux: i386
// "BUG: unable to handle kernel paging request at 00100104" (6.1: "BUG: kernel NULL pointer
// dereference, address: 00000104"), x86_64 a general protection fault on the non-canonical
// address. Simplified: pointers print as mmsim's addresses for list_heads (made up unless given,
// see list.ts); a list_head is never NULL (6.1's NULL checks cannot fire); 6.1's
// CONFIG_BUG_ON_DATA_CORRUPTION (BUG instead of WARN) is not modelled; no "IP:"/"RIP:" line, no
// "Modules linked in", no "---[ end trace ]---"; without machine.memory (no page table) the oops
// prints swapper_pg_dir's empty user half, "*pde = 00000000 ".
import type { Kernel } from "./kernel.ts";
import { dump_stack } from "./dumpstack.ts";
import { ScenarioBug } from "./bug.ts";
import { ScenarioError } from "../sim/errors.ts";
import { format_kaddr } from "./mm/page.ts";
import { oops } from "./mm/access.ts";

/** A list_head, hlist_node or hlist_head as the checks see it (list.ts defines them). */
export interface Node {
  addr: number;
}
interface Links extends Node {
  next: Links;
  prev: Links;
}

/** list_head.addr markers: an address not yet given, LIST_POISON1, LIST_POISON2. */
export const NO_ADDR = -1;
export const POISON1 = -2;
export const POISON2 = -3;

/** Where mmsim puts list_heads nobody gave an address: direct-map addresses, 32 bytes apart. */
const made = new WeakMap<Kernel, { n: number }>();

const arch_of = (k: Kernel | null): "i386" | "x86_64" => k?.mm?.arch ?? "i386";

/** A new list_head's address in the running kernel (NO_ADDR outside a run: given when first printed). */
export function new_addr(k: Kernel | null): number {
  if (k === null) return NO_ADDR;
  let st = made.get(k);
  if (st === undefined) made.set(k, (st = { n: 0 }));
  const n = st.n++;
  // i386: 0xc1800000 up; x86_64 (stored form, less 0xffff800000000000): ffff880003000000 (2.6),
  // ffff888003000000 (6.1) up.
  if (arch_of(k) === "i386") return 0xc1800000 + 32 * n;
  return (k.config.era === "2.6" ? 0x80000000000 : 0x88000000000) + 0x3000000 + 32 * n;
}

/** LIST_POISON1 or 2 as a number (i386) or bigint (x86_64, with 0xdead000000000000). */
function poison_value(k: Kernel | null, which: number): bigint {
  const old = (k?.config.era ?? "2.6") === "2.6";
  const v = which === POISON1 ? (old ? 0x00100100n : 0x100n) : old ? 0x00200200n : 0x122n;
  return arch_of(k) === "x86_64" ? v + 0xdead000000000000n : v;
}

/** %p of a list pointer: the address (8 or 16 hex digits), a poison value as its number. */
export function ptr(k: Kernel | null, n: Node): string {
  const width = arch_of(k) === "i386" ? 8 : 16;
  if (n.addr === POISON1 || n.addr === POISON2) return poison_value(k, n.addr).toString(16).padStart(width, "0");
  if (n.addr === NO_ADDR) n.addr = new_addr(k);
  return n.addr === NO_ADDR ? "(unknown)" : format_kaddr({ arch: arch_of(k) }, n.addr);
}

/** Offsets in struct list_head / hlist_node: next first, then prev (pprev). */
export const NEXT = 0;
export const PREV = 1;

/**
 * A load or store of `n`'s `field` (NEXT or PREV): if `n` is a poison pointer, the fault it is
 * in Linux, and the machine stops. `where`: the function doing it when it is out of line.
 */
export function deref(k: Kernel | null, n: Node, field: number, write: boolean, where: string | null): void {
  if (n.addr !== POISON1 && n.addr !== POISON2) return;
  if (k === null) throw new ScenarioError(`a list operation outside a run went through ${n.addr === POISON1 ? "LIST_POISON1" : "LIST_POISON2"} (an entry deleted before)`);
  const bytes = arch_of(k) === "i386" ? 4 : 8;
  const addr = poison_value(k, n.addr) + BigInt(field * bytes);
  const frames = where === null ? [] : [where];
  const preempt = k.config.preempt ? " PREEMPT" : "";
  if (arch_of(k) === "x86_64") {
    // A poison pointer is non-canonical on x86_64: #GP, not #PF (arch/x86/kernel/traps.c).
    const head = k.config.era === "2.6" ? "general protection fault" : `general protection fault, probably for non-canonical address 0x${addr.toString(16)}`;
    const line = `${head}: 0000 [#${++k.die_counter}]${preempt} SMP${k.config.era === "2.6" ? " " : ""}`;
    k.report("bug", [line, ...trace(k, [...frames, "general_protection", "do_general_protection"])].join("\n"));
    throw new ScenarioBug(line);
  }
  const a = Number(addr);
  const error_code = write ? 2 : 0;
  if (k.mm !== null && k.ctx !== null) oops(k, k.mm, a, error_code, [...frames, "page_fault", "do_page_fault"]);
  const hex = a.toString(16).padStart(8, "0");
  const ec = error_code.toString(16).padStart(4, "0");
  const is_null = a < 4096;
  const die = `Oops: ${ec} [#${++k.die_counter}]${preempt} SMP`;
  const lines =
    k.config.era === "2.6"
      ? [`BUG: unable to handle kernel ${is_null ? "NULL pointer dereference" : "paging request"} at ${hex}`, "*pde = 00000000 ", `${die} `]
      : [
          is_null ? `BUG: kernel NULL pointer dereference, address: ${hex}` : `BUG: unable to handle page fault for address: ${hex}`,
          `#PF: supervisor ${write ? "write" : "read"} access in kernel mode`,
          `#PF: error_code(0x${ec}) - not-present page`,
          "*pde = 00000000 ",
          die,
        ];
  k.report("bug", [...lines, ...trace(k, [...frames, "page_fault", "do_page_fault"])].join("\n"));
  throw new ScenarioBug(lines[0]!);
}

/** The backtrace, when a context is running (not in setup()). */
const trace = (k: Kernel, inner: readonly string[]): string[] => (k.ctx !== null ? dump_stack(k.ctx, inner) : []);

/** CONFIG_DEBUG_LIST is on in the running kernel. */
export const debug_list = (k: Kernel | null): k is Kernel => k !== null && k.config.debug_list !== false;

/** A list_debug.c WARN: "cut here", the header and message in the era's order, the backtrace; false. */
function list_warn(k: Kernel, line: number, func: string, message: string): false {
  const cpu = k.cpu;
  const head =
    k.config.era === "2.6"
      ? [`WARNING: at lib/list_debug.c:${line} ${func}()`, message]
      : [message, `WARNING: CPU: ${cpu?.id ?? 0} PID: ${cpu?.curr.pid ?? 0} at lib/list_debug.c:${line} ${func}`];
  const inner = k.config.era === "2.6" ? [func, "warn_slowpath_fmt"] : [func];
  k.report("list_corruption", ["------------[ cut here ]------------", ...head, ...trace(k, inner)].join("\n"), undefined, message);
  return false;
}

/**
 * The checks before `new` goes between `prev` and `next`: 2.6.34's __list_add() (two WARNs, the
 * add goes on: true) or 6.1's __list_add_valid() (false: skip the add). Reads through a poisoned
 * neighbour fault. Context: any; CONFIG_DEBUG_LIST on.
 */
export function list_add_valid(k: Kernel, nw: Links, prev: Links, next: Links): boolean {
  if (k.config.era === "2.6") {
    deref(k, next, PREV, false, "__list_add");
    if (next.prev !== prev) list_warn(k, 26, "__list_add", `list_add corruption. next->prev should be prev (${ptr(k, prev)}), but was ${ptr(k, next.prev)}. (next=${ptr(k, next)}).`);
    deref(k, prev, NEXT, false, "__list_add");
    if (prev.next !== next) list_warn(k, 30, "__list_add", `list_add corruption. prev->next should be next (${ptr(k, next)}), but was ${ptr(k, prev.next)}. (prev=${ptr(k, prev)}).`);
    return true;
  }
  const f = "__list_add_valid";
  deref(k, next, PREV, false, f);
  if (next.prev !== prev) return list_warn(k, 27, f, `list_add corruption. next->prev should be prev (${ptr(k, prev)}), but was ${ptr(k, next.prev)}. (next=${ptr(k, next)}).`);
  deref(k, prev, NEXT, false, f);
  if (prev.next !== next) return list_warn(k, 30, f, `list_add corruption. prev->next should be next (${ptr(k, next)}), but was ${ptr(k, prev.next)}. (prev=${ptr(k, prev)}).`);
  if (nw === prev || nw === next) return list_warn(k, 33, f, `list_add double add: new=${ptr(k, nw)}, prev=${ptr(k, prev)}, next=${ptr(k, next)}.`);
  return true;
}

/**
 * 6.1's __list_del_entry_valid(entry): false (skip the unlink) after the first failing check.
 * Context: any; CONFIG_DEBUG_LIST on, kernel "6".
 */
export function list_del_entry_valid(k: Kernel, entry: Links): boolean {
  const f = "__list_del_entry_valid";
  const prev = entry.prev;
  const next = entry.next;
  if (next.addr === POISON1) return list_warn(k, 53, f, `list_del corruption, ${ptr(k, entry)}->next is LIST_POISON1 (${ptr(k, next)})`);
  if (prev.addr === POISON2) return list_warn(k, 56, f, `list_del corruption, ${ptr(k, entry)}->prev is LIST_POISON2 (${ptr(k, prev)})`);
  deref(k, prev, NEXT, false, f);
  if (prev.next !== entry) return list_warn(k, 59, f, `list_del corruption. prev->next should be ${ptr(k, entry)}, but was ${ptr(k, prev.next)}. (prev=${ptr(k, prev)})`);
  deref(k, next, PREV, false, f);
  if (next.prev !== entry) return list_warn(k, 62, f, `list_del corruption. next->prev should be ${ptr(k, entry)}, but was ${ptr(k, next.prev)}. (next=${ptr(k, next)})`);
  return true;
}

/** 2.6.34's list_del() checks: two WARNs reading through entry->prev and entry->next; the delete goes on. */
export function list_del_check_26(k: Kernel, entry: Links): void {
  deref(k, entry.prev, NEXT, false, "list_del");
  if (entry.prev.next !== entry) list_warn(k, 48, "list_del", `list_del corruption. prev->next should be ${ptr(k, entry)}, but was ${ptr(k, entry.prev.next)}`);
  deref(k, entry.next, PREV, false, "list_del");
  if (entry.next.prev !== entry) list_warn(k, 51, "list_del", `list_del corruption. next->prev should be ${ptr(k, entry)}, but was ${ptr(k, entry.next.prev)}`);
}
