// include/linux/list.h: circular doubly linked lists (list_head) and hash-table lists
// (hlist_head / hlist_node), with CONFIG_DEBUG_LIST's checks (list_debug.ts). A list_head is
// embedded in the structure it links, and the list's head is one that no structure contains:
//
//   class Req { readonly node = list_head_of(this); constructor(readonly id: number) {} }
//   const pending = LIST_HEAD<Req>();
//   list_add_tail(new Req(1).node, pending);
//   for (const req of list_for_each_entry(pending)) printk(`req ${req.id}`);
//
// container_of() cannot be computed from an offset in JavaScript, so a list_head made by
// list_head_of(owner) keeps its owner, which list_entry() / list_first_entry() return. The
// iterators are generator functions used with for...of: list_for_each_entry reads pos->next when
// the loop comes back to it, as the C macro does after the body (deleting `pos` in the body walks
// into LIST_POISON1: use list_for_each_entry_safe, which reads it first). List operations are
// plain functions, not interleaving points: a list is shared data that a lock protects, and a
// race on one (two CPUs deleting the same entry, say) shows as the corruption it leaves, which
// CONFIG_DEBUG_LIST reports and a walk through a poisoned pointer faults on. list_del poisons the
// entry with LIST_POISON1/2 (sentinel list_heads here). Addresses (printed by the checks) are
// given by list_head_of(owner, addr) / LIST_HEAD(addr), or made up in the direct map (see
// list_debug.ts). Not modelled: the RCU variants, list_replace, list_rotate_left, list_cut_*,
// list_bulk_move_tail; list operations cost no virtual time.
import { ScenarioError } from "../sim/errors.ts";
import { kernel_if_running, type Kernel } from "./kernel.ts";
import { NEXT, POISON1, POISON2, PREV, debug_list, deref, list_add_valid, list_del_check_26, list_del_entry_valid, new_addr } from "./list_debug.ts";

/** struct list_head: a link in a circular list; `owner` is the structure it is embedded in (null for a list's head). */
export class list_head<T = unknown> {
  next: list_head<T>;
  prev: list_head<T>;
  constructor(
    readonly owner: T | null,
    /** Its address as reports print it (-1 until first printed when made outside a run). */
    public addr: number,
  ) {
    this.next = this;
    this.prev = this;
  }
}

/**
 * LIST_POISON1: what list_del() leaves in an entry's next (hlist_del() in a node's next), so a
 * later use of the entry faults or CONFIG_DEBUG_LIST reports it. 2.6.34: 0x00100100; 6.1: 0x100; on
 * x86_64 both plus POISON_POINTER_DELTA (0xdead000000000000). A sentinel list_head here; the checks
 * and the oops print its value.
 */
export const LIST_POISON1: list_head<any> = new list_head<any>(null, POISON1);
/**
 * LIST_POISON2: what list_del() leaves in an entry's prev (hlist_del() in a node's pprev), so a
 * later use of the entry faults or CONFIG_DEBUG_LIST reports it. 2.6.34: 0x00200200; 6.1: 0x122; on
 * x86_64 both plus POISON_POINTER_DELTA (0xdead000000000000). A sentinel list_head here; the checks
 * and the oops print its value.
 */
export const LIST_POISON2: list_head<any> = new list_head<any>(null, POISON2);

const addr_or_new = (k: Kernel | null, addr: number | undefined): number => addr ?? new_addr(k);

/** LIST_HEAD(name): a list's head, empty (pointing at itself). `addr`: the address reports print. */
export const LIST_HEAD = <T>(addr?: number): list_head<T> => new list_head<T>(null, addr_or_new(kernel_if_running(), addr));

/** The list_head embedded in `owner` (INIT_LIST_HEAD'd: it points at itself, so list_empty() is true). */
export const list_head_of = <T>(owner: T, addr?: number): list_head<T> => new list_head<T>(owner, addr_or_new(kernel_if_running(), addr));

/** INIT_LIST_HEAD(list): `list` points at itself (an empty list, or an entry on none). */
export function INIT_LIST_HEAD<T>(list: list_head<T>): void {
  list.next = list;
  list.prev = list;
}

/** __list_add(): `nw` between `prev` and `next`, after CONFIG_DEBUG_LIST's checks. */
function __list_add<T>(k: Kernel | null, nw: list_head<T>, prev: list_head<T>, next: list_head<T>): void {
  let where: string | null = null;
  if (debug_list(k)) {
    if (!list_add_valid(k, nw, prev, next)) return;
    if (k.config.era === "2.6") where = "__list_add"; // out of line with DEBUG_LIST
  }
  deref(k, next, PREV, true, where);
  next.prev = nw;
  nw.next = next;
  nw.prev = prev;
  deref(k, prev, NEXT, true, where);
  prev.next = nw;
}

/** list_add(new, head): `nw` at the front (after `head`: a stack). Context: any; caller holds the list's lock. */
export function list_add<T>(nw: list_head<T>, head: list_head<T>): void {
  const k = kernel_if_running();
  deref(k, head, NEXT, false, null);
  __list_add(k, nw, head, head.next);
}

/** list_add_tail(new, head): `nw` at the back (before `head`: a queue). Context: any; caller holds the list's lock. */
export function list_add_tail<T>(nw: list_head<T>, head: list_head<T>): void {
  const k = kernel_if_running();
  deref(k, head, PREV, false, null);
  __list_add(k, nw, head.prev, head);
}

/** __list_del(prev, next): links `prev` and `next` to each other (writes through both). */
function __list_del<T>(k: Kernel | null, prev: list_head<T>, next: list_head<T>, where: string | null): void {
  deref(k, next, PREV, true, where);
  next.prev = prev;
  deref(k, prev, NEXT, true, where);
  prev.next = next;
}

/** __list_del_entry(): unlinks `entry`, after 6.1's validity check (2.6.34 checks only in list_del). */
function __list_del_entry<T>(k: Kernel | null, entry: list_head<T>): void {
  if (debug_list(k) && k.config.era !== "2.6" && !list_del_entry_valid(k, entry)) return;
  __list_del(k, entry.prev, entry.next, null);
}

/**
 * list_del(entry): unlinks `entry` and poisons it (next = LIST_POISON1, prev = LIST_POISON2), so a
 * second list_del or a walk through it is caught. Context: any; caller holds the list's lock.
 */
export function list_del<T>(entry: list_head<T>): void {
  const k = kernel_if_running();
  if (debug_list(k) && k.config.era === "2.6") {
    list_del_check_26(k, entry);
    __list_del(k, entry.prev, entry.next, "list_del");
  } else __list_del_entry(k, entry);
  entry.next = LIST_POISON1;
  entry.prev = LIST_POISON2;
}

/** list_del_init(entry): unlinks `entry` and makes it empty again (list_empty(entry) is true). */
export function list_del_init<T>(entry: list_head<T>): void {
  __list_del_entry(kernel_if_running(), entry);
  INIT_LIST_HEAD(entry);
}

/** list_move(list, head): from its list to the front of `head`'s. */
export function list_move<T>(list: list_head<T>, head: list_head<T>): void {
  __list_del_entry(kernel_if_running(), list);
  list_add(list, head);
}

/** list_move_tail(list, head): from its list to the back of `head`'s. */
export function list_move_tail<T>(list: list_head<T>, head: list_head<T>): void {
  __list_del_entry(kernel_if_running(), list);
  list_add_tail(list, head);
}

/** list_empty(head): the list has no entries. */
export const list_empty = <T>(head: list_head<T>): boolean => head.next === head;
/** list_is_singular(head): the list has exactly one entry. */
export const list_is_singular = <T>(head: list_head<T>): boolean => head.next !== head && head.next === head.prev;
/** list_is_last(list, head): `list` is the last entry of `head`'s list. */
export const list_is_last = <T>(list: list_head<T>, head: list_head<T>): boolean => list.next === head;

/** __list_splice(): `list`'s entries between `prev` and `next`. */
function __list_splice<T>(list: list_head<T>, prev: list_head<T>, next: list_head<T>): void {
  const k = kernel_if_running();
  const first = list.next;
  const last = list.prev;
  first.prev = prev;
  deref(k, prev, NEXT, true, null);
  prev.next = first;
  last.next = next;
  deref(k, next, PREV, true, null);
  next.prev = last;
}

/** list_splice(list, head): `list`'s entries at the front of `head`'s (`list` itself is left as it was: reinitialise it). */
export function list_splice<T>(list: list_head<T>, head: list_head<T>): void {
  if (!list_empty(list)) __list_splice(list, head, head.next);
}
/** list_splice_tail(list, head): `list`'s entries at the back of `head`'s. */
export function list_splice_tail<T>(list: list_head<T>, head: list_head<T>): void {
  if (!list_empty(list)) __list_splice(list, head.prev, head);
}
/** list_splice_init(list, head): list_splice, then `list` is empty. */
export function list_splice_init<T>(list: list_head<T>, head: list_head<T>): void {
  if (list_empty(list)) return;
  __list_splice(list, head, head.next);
  INIT_LIST_HEAD(list);
}
/** list_splice_tail_init(list, head): list_splice_tail, then `list` is empty. */
export function list_splice_tail_init<T>(list: list_head<T>, head: list_head<T>): void {
  if (list_empty(list)) return;
  __list_splice(list, head.prev, head);
  INIT_LIST_HEAD(list);
}

/** list_entry(ptr): the structure `ptr` is embedded in (container_of). */
export function list_entry<T>(ptr: list_head<T>): T {
  const k = kernel_if_running();
  deref(k, ptr, NEXT, false, null);
  if (ptr.owner === null) throw new ScenarioError("list_entry(): this list_head is a list's head (LIST_HEAD), not embedded in an entry: the list is empty, or the walk went past its head");
  return ptr.owner;
}
/** list_first_entry(head): the first entry (the list must not be empty). */
export const list_first_entry = <T>(head: list_head<T>): T => list_entry(head.next);
/** list_last_entry(head): the last entry (the list must not be empty). */
export const list_last_entry = <T>(head: list_head<T>): T => list_entry(head.prev);
/** list_first_entry_or_null(head): the first entry, or null if the list is empty. */
export const list_first_entry_or_null = <T>(head: list_head<T>): T | null => (list_empty(head) ? null : list_entry(head.next));
/** list_next_entry(pos, node): the entry after the one whose list_head is `node`. */
export const list_next_entry = <T>(node: list_head<T>): T => list_entry(node.next);

/** list_for_each(pos, head): the list_heads of `head`'s entries, first to last (pos->next read after each). */
export function* list_for_each<T>(head: list_head<T>): Generator<list_head<T>, void, undefined> {
  const k = kernel_if_running();
  for (let pos = head.next; pos !== head; pos = advance(pos, "list_for_each")) {
    deref(k, pos, NEXT, false, null);
    yield pos;
  }
}

/**
 * pos->next after the loop body, which must have left `pos` on the list: one it took off with
 * list_del_init points at itself, and Linux would walk it forever (a soft lockup); that is
 * stopped here with the scenario's error rather than hanging the simulator in one step.
 */
function advance<T>(pos: list_head<T>, fn: string): list_head<T> {
  const next = pos.next;
  if (next === pos) throw new ScenarioError(`${fn}(): the body took the current entry off the list with list_del_init, so the walk would spin on it forever; use list_for_each_entry_safe`);
  return next;
}

/** list_for_each_entry(pos, head, member): the entries, first to last; `pos` must stay on the list during its turn. */
export function* list_for_each_entry<T>(head: list_head<T>): Generator<T, void, undefined> {
  for (let pos = head.next; pos !== head; pos = advance(pos, "list_for_each_entry")) yield list_entry(pos);
}

/** list_for_each_entry_reverse(pos, head, member): the entries, last to first. */
export function* list_for_each_entry_reverse<T>(head: list_head<T>): Generator<T, void, undefined> {
  const k = kernel_if_running();
  for (let pos = head.prev; pos !== head; pos = pos.prev === pos ? advance(pos, "list_for_each_entry_reverse") : pos.prev) {
    deref(k, pos, PREV, false, null);
    yield list_entry(pos);
  }
}

/** list_for_each_entry_safe(pos, n, head, member): the entries, first to last, reading the next before each turn (so `pos` may be deleted). */
export function* list_for_each_entry_safe<T>(head: list_head<T>): Generator<T, void, undefined> {
  let pos = head.next;
  while (pos !== head) {
    const e = list_entry(pos);
    const n = pos.next;
    yield e;
    pos = n;
  }
}

// ---------------------------------------------------------------- hlist

/** struct hlist_head: a hash bucket, a singly linked list's first pointer. */
export class hlist_head<T = unknown> {
  first: hlist_node<T> | null = null;
  constructor(public addr: number) {}
}

/** struct hlist_node: `pprev` is the head or node whose pointer points here (null: on no list). */
export class hlist_node<T = unknown> {
  next: hlist_node<T> | null = null;
  pprev: hlist_node<T> | hlist_head<T> | null = null;
  constructor(
    readonly owner: T | null,
    public addr: number,
  ) {}
}

/** hlist_del()'s poison values (LIST_POISON1 in next, LIST_POISON2 in pprev). */
const HLIST_POISON1: hlist_node<any> = new hlist_node<any>(null, POISON1);
const HLIST_POISON2: hlist_node<any> = new hlist_node<any>(null, POISON2);

/** HLIST_HEAD(name): an empty bucket. */
export const HLIST_HEAD = <T>(addr?: number): hlist_head<T> => new hlist_head<T>(addr_or_new(kernel_if_running(), addr));
/** The hlist_node embedded in `owner` (INIT_HLIST_NODE'd: on no list). */
export const hlist_node_of = <T>(owner: T, addr?: number): hlist_node<T> => new hlist_node<T>(owner, addr_or_new(kernel_if_running(), addr));
/** INIT_HLIST_NODE(n): on no list. */
export function INIT_HLIST_NODE<T>(n: hlist_node<T>): void {
  n.next = null;
  n.pprev = null;
}
/** hlist_unhashed(n): `n` is on no list. */
export const hlist_unhashed = <T>(n: hlist_node<T>): boolean => n.pprev === null;
/** hlist_empty(h): the bucket is empty. */
export const hlist_empty = <T>(h: hlist_head<T>): boolean => h.first === null;

/** hlist_add_head(n, h): `n` first in bucket `h`. Context: any; caller holds the table's lock. */
export function hlist_add_head<T>(n: hlist_node<T>, h: hlist_head<T>): void {
  const first = h.first;
  n.next = first;
  if (first !== null) {
    deref(kernel_if_running(), first, PREV, true, null);
    first.pprev = n;
  }
  h.first = n;
  n.pprev = h;
}

/** __hlist_del(n): *pprev = next; next->pprev = pprev (writes through both, faulting on poison). */
function __hlist_del<T>(n: hlist_node<T>): void {
  const k = kernel_if_running();
  const next = n.next;
  const pprev = n.pprev!;
  deref(k, pprev, NEXT, true, null);
  if (pprev instanceof hlist_head) pprev.first = next;
  else pprev.next = next;
  if (next !== null) {
    deref(k, next, PREV, true, null);
    next.pprev = pprev;
  }
}

/** hlist_del(n): unlinks `n` and poisons it (no CONFIG_DEBUG_LIST check in either era: a second hlist_del faults). */
export function hlist_del<T>(n: hlist_node<T>): void {
  if (n.pprev === null) throw new ScenarioError("hlist_del(): the node is on no list (its pprev is NULL: Linux would write through NULL); use hlist_del_init, which checks hlist_unhashed");
  __hlist_del(n);
  n.next = HLIST_POISON1;
  n.pprev = HLIST_POISON2;
}

/** hlist_del_init(n): unlinks `n` if it is on a list, and leaves it on none. */
export function hlist_del_init<T>(n: hlist_node<T>): void {
  if (hlist_unhashed(n)) return;
  __hlist_del(n);
  INIT_HLIST_NODE(n);
}

/** hlist_for_each_entry(pos, head, member): the bucket's entries, first to last. */
export function* hlist_for_each_entry<T>(h: hlist_head<T>): Generator<T, void, undefined> {
  const k = kernel_if_running();
  for (let pos = h.first; pos !== null; pos = pos.next) {
    deref(k, pos, NEXT, false, null);
    if (pos.owner === null) throw new ScenarioError("hlist_for_each_entry(): a node without an owner (made with new hlist_node, not hlist_node_of)");
    yield pos.owner;
  }
}
