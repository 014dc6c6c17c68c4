// include/linux/types.h's DECLARE_BITMAP, arch/x86/include/asm/bitops.h and
// include/asm-generic/bitops/*.h: bit operations on an unsigned-long bitmap. Bit `nr` is bit
// nr % BITS_PER_LONG of long nr / BITS_PER_LONG; mmsim keeps the bitmap as 32-bit words (on
// x86_64 a long is two of them, low word first, which is the same bytes on a little-endian
// machine). The atomic operations (set_bit, clear_bit, change_bit, test_and_set_bit,
// test_and_clear_bit, test_and_change_bit: x86's LOCK BTS/BTR/BTC) are each an interleaving
// point, then one indivisible update costing a locked instruction, like atomic_t's. test_bit()
// is a plain load (no interleaving point: poll it with cpu_relax() between). The non-atomic
// __set_bit/__clear_bit/__change_bit/__test_and_set_bit/__test_and_clear_bit are plain
// functions, one step with no interleaving point: mmsim does not split them into a load and a
// store, so a race between two of them does not show (write such a race with READ_ONCE and
// WRITE_ONCE). A bit number outside the bitmap is a scenario error (Linux would touch whatever
// memory follows it).
import type * as Effect from "effect/Effect";
import { kernel, kernel_if_running } from "./kernel.ts";
import { PointThen } from "./sched/core.ts";
import { op } from "../sim/op.ts";
import { ScenarioError } from "../sim/errors.ts";

/** An unsigned-long bitmap of `nbits` bits (DECLARE_BITMAP(name, bits)). */
export interface Bitmap {
  readonly name: string;
  readonly nbits: number;
  /** The bits in 32-bit words, bit nr in words[nr >> 5] at 1 << (nr & 31). */
  readonly words: Uint32Array;
}

/** BITS_PER_LONG on the running machine: 64 on x86_64, else 32. */
export const BITS_PER_LONG = (): number => (kernel_if_running()?.mm?.arch === "x86_64" ? 64 : 32);
/** BITS_TO_LONGS(nr): how many longs hold `nr` bits. */
export const BITS_TO_LONGS = (nr: number): number => Math.ceil(nr / BITS_PER_LONG());

/** DECLARE_BITMAP(name, bits): a bitmap of `bits` bits, all clear (its longs rounded up on the machine's word size). */
export function DECLARE_BITMAP(name: string, bits: number): Bitmap {
  if (!Number.isInteger(bits) || bits < 1 || bits > 1 << 24) throw new ScenarioError(`DECLARE_BITMAP(${name}, ${bits}): the size must be a whole number of bits from 1 to ${1 << 24}`);
  return { name, nbits: bits, words: new Uint32Array(BITS_TO_LONGS(bits) * (BITS_PER_LONG() / 32)) };
}

function check_nr(nr: number, addr: Bitmap, fn: string): void {
  if (!Number.isInteger(nr) || nr < 0 || nr >= addr.nbits) throw new ScenarioError(`${fn}(${nr}, ${addr.name}): bit ${nr} is outside the bitmap's ${addr.nbits} bits`);
}

const SET = 0;
const CLEAR = 1;
const CHANGE = 2;

/** Applies `how` to bit `nr`; returns the bit's old value. */
function apply(addr: Bitmap, nr: number, how: number): boolean {
  const w = nr >>> 5;
  const mask = 1 << (nr & 31);
  const words = addr.words;
  const old = words[w]!;
  words[w] = how === SET ? old | mask : how === CLEAR ? old & ~mask : old ^ mask;
  return (old & mask) !== 0;
}

/** A locked bit operation: an interleaving point, then the update; returns the old bit if `test`. */
class BitOp extends PointThen {
  constructor(
    readonly addr: Bitmap,
    readonly nr: number,
    readonly how: number,
    readonly test: boolean,
  ) {
    super();
  }
  after(): unknown {
    const k = kernel();
    k.charge(k.costs.atomic);
    const old = apply(this.addr, this.nr, this.how);
    return this.test ? old : undefined;
  }
}

function bitop<A>(fn: string, nr: number, addr: Bitmap, how: number, test: boolean): Effect.Effect<A> {
  check_nr(nr, addr, fn);
  return op(new BitOp(addr, nr, how, test));
}

/** set_bit(nr, addr): atomically sets bit `nr`. Context: any. */
export const set_bit = (nr: number, addr: Bitmap): Effect.Effect<void> => bitop("set_bit", nr, addr, SET, false);
/** clear_bit(nr, addr): atomically clears bit `nr`. Context: any. */
export const clear_bit = (nr: number, addr: Bitmap): Effect.Effect<void> => bitop("clear_bit", nr, addr, CLEAR, false);
/** change_bit(nr, addr): atomically flips bit `nr`. Context: any. */
export const change_bit = (nr: number, addr: Bitmap): Effect.Effect<void> => bitop("change_bit", nr, addr, CHANGE, false);
/** test_and_set_bit(nr, addr): atomically sets bit `nr`; true if it was set already. Context: any. */
export const test_and_set_bit = (nr: number, addr: Bitmap): Effect.Effect<boolean> => bitop("test_and_set_bit", nr, addr, SET, true);
/** test_and_clear_bit(nr, addr): atomically clears bit `nr`; true if it was set. Context: any. */
export const test_and_clear_bit = (nr: number, addr: Bitmap): Effect.Effect<boolean> => bitop("test_and_clear_bit", nr, addr, CLEAR, true);
/** test_and_change_bit(nr, addr): atomically flips bit `nr`; true if it was set. Context: any. */
export const test_and_change_bit = (nr: number, addr: Bitmap): Effect.Effect<boolean> => bitop("test_and_change_bit", nr, addr, CHANGE, true);
/** test_and_set_bit_lock(nr, addr): test_and_set_bit with acquire ordering (here the same). */
export const test_and_set_bit_lock = test_and_set_bit;
/** clear_bit_unlock(nr, addr): clear_bit with release ordering (here the same). */
export const clear_bit_unlock = clear_bit;

/** test_bit(nr, addr): bit `nr` (a plain load, no interleaving point). Context: any. */
export function test_bit(nr: number, addr: Bitmap): boolean {
  check_nr(nr, addr, "test_bit");
  return (addr.words[nr >>> 5]! & (1 << (nr & 31))) !== 0;
}

/** __set_bit(nr, addr): sets bit `nr`, non-atomically (one step here). */
export function __set_bit(nr: number, addr: Bitmap): void {
  check_nr(nr, addr, "__set_bit");
  apply(addr, nr, SET);
}
/** __clear_bit(nr, addr): clears bit `nr`, non-atomically (one step here). */
export function __clear_bit(nr: number, addr: Bitmap): void {
  check_nr(nr, addr, "__clear_bit");
  apply(addr, nr, CLEAR);
}
/** __change_bit(nr, addr): flips bit `nr`, non-atomically (one step here). */
export function __change_bit(nr: number, addr: Bitmap): void {
  check_nr(nr, addr, "__change_bit");
  apply(addr, nr, CHANGE);
}
/** __test_and_set_bit(nr, addr): sets bit `nr`, non-atomically; true if it was set. */
export function __test_and_set_bit(nr: number, addr: Bitmap): boolean {
  check_nr(nr, addr, "__test_and_set_bit");
  return apply(addr, nr, SET);
}
/** __test_and_clear_bit(nr, addr): clears bit `nr`, non-atomically; true if it was set. */
export function __test_and_clear_bit(nr: number, addr: Bitmap): boolean {
  check_nr(nr, addr, "__test_and_clear_bit");
  return apply(addr, nr, CLEAR);
}

/** find_next_bit(addr, size, offset): the first set bit at or after `offset`, below `size`; `size` if none. */
export function find_next_bit(addr: Bitmap, size: number, offset: number): number {
  const end = Math.min(size, addr.nbits);
  for (let nr = offset; nr < end; nr++) if ((addr.words[nr >>> 5]! & (1 << (nr & 31))) !== 0) return nr;
  return size;
}
/** find_first_bit(addr, size): the first set bit below `size`; `size` if none. */
export const find_first_bit = (addr: Bitmap, size: number): number => find_next_bit(addr, size, 0);
/** find_next_zero_bit(addr, size, offset): the first clear bit at or after `offset`, below `size`; `size` if none. */
export function find_next_zero_bit(addr: Bitmap, size: number, offset: number): number {
  const end = Math.min(size, addr.nbits);
  for (let nr = offset; nr < end; nr++) if ((addr.words[nr >>> 5]! & (1 << (nr & 31))) === 0) return nr;
  return size;
}
/** find_first_zero_bit(addr, size): the first clear bit below `size`; `size` if none. */
export const find_first_zero_bit = (addr: Bitmap, size: number): number => find_next_zero_bit(addr, size, 0);

/** bitmap_weight(addr, nbits): how many of the first `nbits` bits are set. */
export function bitmap_weight(addr: Bitmap, nbits: number): number {
  let n = 0;
  for (let nr = find_first_bit(addr, nbits); nr < nbits; nr = find_next_bit(addr, nbits, nr + 1)) n++;
  return n;
}
/** bitmap_zero(addr, nbits): clears the bitmap's longs up to `nbits` (non-atomically). */
export function bitmap_zero(addr: Bitmap, nbits: number): void {
  addr.words.fill(0, 0, Math.min(addr.words.length, BITS_TO_LONGS(nbits) * (BITS_PER_LONG() / 32)));
}

/** for_each_set_bit(bit, addr, size): the set bits below `size`, lowest first (read as it goes). */
export function* for_each_set_bit(addr: Bitmap, size: number): Generator<number, void, undefined> {
  for (let nr = find_first_bit(addr, size); nr < size; nr = find_next_bit(addr, size, nr + 1)) yield nr;
}
