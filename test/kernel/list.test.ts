// include/linux/list.h and lib/list_debug.c: the order list_add/list_add_tail/list_move/
// list_splice leave, list_del's poison, hlist, and CONFIG_DEBUG_LIST's reports in each era's
// words, lines and order (derived from the two list_debug.c files: 2.6.34 WARNs at the end line
// of each WARN() and goes on; 6.1 WARNs at the first line of each CHECK_DATA_CORRUPTION() and
// skips the operation). list_heads made in a run get addresses from 0xc1800000 (i386) or
// ffff888003000000 (x86_64, 6.1), 32 bytes apart, in the order they are made.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, reportText } from "../helpers.ts";
import {
  HLIST_HEAD, INIT_LIST_HEAD, LIST_HEAD, LIST_POISON1, LIST_POISON2, hlist_add_head, hlist_del, hlist_del_init, hlist_empty, hlist_for_each_entry,
  hlist_node_of, hlist_unhashed, list_add, list_add_tail, list_del, list_del_init, list_empty, list_first_entry, list_for_each_entry,
  list_for_each_entry_reverse, list_for_each_entry_safe, list_head_of, list_is_last, list_is_singular, list_last_entry, list_move, list_move_tail,
  list_splice, list_splice_tail_init, type hlist_node, type list_head,
} from "../../src/kernel/index.ts";
import { parseMachineFile } from "../../src/harness/machine_file.ts";
import type { MachineSpec } from "../../src/harness/scenario.ts";

class E {
  readonly node: list_head<E> = list_head_of(this);
  constructor(readonly id: number) {}
}
const ids = (h: list_head<E>): number[] => [...list_for_each_entry(h)].map((e) => e.id);

test("list order: add is a stack, add_tail a queue, move/move_tail, splice keeps the spliced list's order", () => {
  const [a, b, c, d, e, f] = [1, 2, 3, 4, 5, 6].map((i) => new E(i)) as [E, E, E, E, E, E];
  const H = LIST_HEAD<E>();
  assert.ok(list_empty(H));
  list_add(a.node, H);
  list_add(b.node, H);
  list_add_tail(c.node, H);
  assert.equal(ids(H), [2, 1, 3]);
  list_move(c.node, H);
  assert.equal(ids(H), [3, 2, 1]);
  list_move_tail(b.node, H);
  assert.equal(ids(H), [3, 1, 2]);
  assert.equal([...list_for_each_entry_reverse(H)].map((x) => x.id), [2, 1, 3]);
  assert.equal([list_first_entry(H).id, list_last_entry(H).id, list_is_last(b.node, H), list_is_singular(H)], [3, 2, true, false]);
  const H2 = LIST_HEAD<E>();
  list_add_tail(d.node, H2);
  list_add_tail(e.node, H2);
  list_splice(H2, H);
  assert.equal(ids(H), [4, 5, 3, 1, 2]);
  assert.ok(H2.next === d.node, "list_splice leaves the spliced head as it was");
  INIT_LIST_HEAD(H2);
  const H3 = LIST_HEAD<E>();
  list_add(f.node, H3);
  list_splice_tail_init(H3, H);
  assert.equal([ids(H), list_empty(H3)], [[4, 5, 3, 1, 2, 6], true]);
});

test("list_del poisons next/prev with LIST_POISON1/2; list_del_init leaves the entry empty; _safe iteration may delete", () => {
  const [a, b, c, d] = [1, 2, 3, 4].map((i) => new E(i)) as [E, E, E, E];
  const H = LIST_HEAD<E>();
  for (const x of [a, b, c, d]) list_add_tail(x.node, H);
  list_del(a.node);
  assert.ok(a.node.next === LIST_POISON1 && a.node.prev === LIST_POISON2);
  assert.equal(ids(H), [2, 3, 4]);
  list_del_init(c.node);
  assert.equal([ids(H), list_empty(c.node)], [[2, 4], true]);
  for (const x of list_for_each_entry_safe(H)) if (x.id % 2 === 0 && x.id !== 4) list_del(x.node);
  assert.equal([ids(H), list_is_singular(H)], [[4], true]);
});

test("list_for_each_entry whose body list_del_init()s the cursor would spin forever in Linux: the scenario's error here", () => {
  const H = LIST_HEAD<E>();
  for (const i of [1, 2]) list_add_tail(new E(i).node, H);
  assert.throws(() => {
    for (const x of list_for_each_entry(H)) list_del_init(x.node);
  }, /list_for_each_entry\(\): the body took the current entry off the list with list_del_init/);
});

class HE {
  readonly hn: hlist_node<HE> = hlist_node_of(this);
  constructor(readonly id: number) {}
}

test("hlist: add_head puts the node first; hlist_del poisons it (not unhashed); hlist_del_init leaves it unhashed", () => {
  const [a, b] = [new HE(1), new HE(2)];
  const h = HLIST_HEAD<HE>();
  const hids = () => [...hlist_for_each_entry(h)].map((x) => x.id);
  hlist_add_head(a.hn, h);
  hlist_add_head(b.hn, h);
  assert.equal(hids(), [2, 1]);
  assert.ok(b.hn.pprev === h && a.hn.pprev === b.hn);
  hlist_del(b.hn);
  assert.equal([hids(), hlist_unhashed(b.hn), (a.hn.pprev as unknown) === h], [[1], false, true]);
  hlist_del_init(a.hn);
  hlist_del_init(a.hn);
  assert.equal([hlist_empty(h), hlist_unhashed(a.hn)], [true, true]);
});

const I386_6: MachineSpec = { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64 } };
const X86_64_6: MachineSpec = { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 64 } };
/** A 2.6 machine without memory: pid 2 for the task on 1 CPU. */
const M26: MachineSpec = { cpus: 1 };

/** Runs `body(H, a, b, c)` with a head and three entries made in that order. */
function withList(machine: MachineSpec, body: (H: list_head<E>, a: E, b: E, c: E) => void) {
  return inTask(() => Effect.sync(() => body(LIST_HEAD<E>(), new E(1), new E(2), new E(3))), machine);
}

test("6.1: list_del twice is 'list_del corruption, c1800020->next is LIST_POISON1 (00000100)' at lib/list_debug.c:53 (i386: no poison delta)", () => {
  const r = withList(I386_6, (H, a) => {
    list_add(a.node, H);
    list_del(a.node);
    list_del(a.node);
  });
  assert.equal(reportText(r, "list_corruption")[0]!.split("\n"), [
    "------------[ cut here ]------------",
    "list_del corruption, c1800020->next is LIST_POISON1 (00000100)",
    "WARNING: CPU: 0 PID: 3 at lib/list_debug.c:53 __list_del_entry_valid",
    "CPU: 0 PID: 3 Comm: t Not tainted 6.1.0-mmsim #1",
    "Call Trace:",
    " <TASK>",
    " __list_del_entry_valid",
    " threadfn",
    " kthread",
    " </TASK>",
  ]);
  assert.equal(r.reports.map((x) => x.title), ["list_del corruption, c1800020->next is LIST_POISON1 (00000100)"]);
});

test("6.1 x86_64: POISON_POINTER_DELTA 0xdead000000000000; ->prev is LIST_POISON2 (dead000000000122) at line 56", () => {
  const r = withList(X86_64_6, (H, a) => {
    list_add(a.node, H);
    list_del(a.node);
    a.node.next = H; // next mended, prev still poisoned
    list_del(a.node);
  });
  assert.equal(
    r.reports.map((x) => x.title),
    ["list_del corruption, ffff888003000020->prev is LIST_POISON2 (dead000000000122)"],
  );
  assert.match(reportText(r, "list_corruption")[0]!, /\nWARNING: CPU: 0 PID: 3 at lib\/list_debug.c:56 __list_del_entry_valid\n/);
});

test("6.1: a neighbour's stale link: prev->next (line 59) or next->prev (line 62), with (prev=)/(next=), and the unlink skipped", () => {
  const r = withList(I386_6, (H, a, b) => {
    list_add_tail(a.node, H);
    list_add_tail(b.node, H);
    b.node.prev = H; // as if a's unlink had been lost half-way
    list_del(a.node); // next (b) ->prev is H
    assert.ok(H.next === a.node && a.node.next === LIST_POISON1, "the unlink skipped, the entry poisoned");
    list_del(b.node); // prev (H) ->next is a
  });
  assert.equal(r.reports.map((x) => x.title), [
    "list_del corruption. next->prev should be c1800020, but was c1800000. (next=c1800040)",
    "list_del corruption. prev->next should be c1800040, but was c1800020. (prev=c1800000)",
  ]);
  assert.equal(reportText(r, "list_corruption").map((t) => t.split("\n")[2]), [
    "WARNING: CPU: 0 PID: 3 at lib/list_debug.c:62 __list_del_entry_valid",
    "WARNING: CPU: 0 PID: 3 at lib/list_debug.c:59 __list_del_entry_valid",
  ]);
});

test("2.6.34: list_del's WARN at lib/list_debug.c:51, header before the message, and the delete goes on", () => {
  let after: number[] = [];
  const r = withList(M26, (H, a, b) => {
    list_add_tail(a.node, H);
    list_add_tail(b.node, H);
    b.node.prev = H;
    list_del(a.node);
    after = ids(H);
  });
  assert.equal(reportText(r, "list_corruption")[0]!.split("\n"), [
    "------------[ cut here ]------------",
    "WARNING: at lib/list_debug.c:51 list_del()",
    "list_del corruption. next->prev should be c1800020, but was c1800000",
    "Pid: 2, comm: t Not tainted 2.6.34-mmsim #1",
    "Call Trace:",
    " warn_slowpath_fmt",
    " list_del",
    " threadfn",
    " kthread",
  ]);
  assert.equal(after, [2]);
});

test("list_add with a stale next->prev: 2.6.34 WARNs (line 26) and adds; 6.1 WARNs (line 27) and does not; 6.1's double add (line 33)", () => {
  const stale = (H: list_head<E>, a: E, b: E, c: E) => {
    list_add(a.node, H);
    a.node.prev = b.node;
    list_add(c.node, H);
  };
  const msg = "list_add corruption. next->prev should be prev (c1800000), but was c1800040. (next=c1800020).";
  let added26 = false;
  const r26 = withList(M26, (H, a, b, c) => {
    stale(H, a, b, c);
    added26 = H.next === c.node;
  });
  assert.equal(reportText(r26, "list_corruption")[0]!.split("\n").slice(0, 3), ["------------[ cut here ]------------", "WARNING: at lib/list_debug.c:26 __list_add()", msg]);
  assert.ok(added26);
  let added6 = true;
  const r6 = withList(I386_6, (H, a, b, c) => {
    stale(H, a, b, c);
    added6 = H.next === c.node;
  });
  assert.equal(reportText(r6, "list_corruption")[0]!.split("\n").slice(1, 3), [msg, "WARNING: CPU: 0 PID: 3 at lib/list_debug.c:27 __list_add_valid"]);
  assert.not.ok(added6);
  const rd = withList(I386_6, (H, a) => {
    list_add(a.node, H);
    list_add(a.node, H);
  });
  assert.equal(rd.reports.map((x) => x.title), ["list_add double add: new=c1800020, prev=c1800000, next=c1800020."]);
  assert.match(reportText(rd, "list_corruption")[0]!, /lib\/list_debug.c:33 __list_add_valid/);
});

test("2.6.34 with DEBUG_LIST: a second list_del faults reading entry->prev->next at LIST_POISON2 (00200200); the machine stops", () => {
  const r = withList(M26, (H, a) => {
    list_add(a.node, H);
    list_del(a.node);
    list_del(a.node);
  });
  assert.equal(r.reports.map((x) => x.text.split("\n")), [
    [
      "BUG: unable to handle kernel paging request at 00200200",
      "*pde = 00000000 ",
      "Oops: 0000 [#1] PREEMPT SMP ",
      "Pid: 2, comm: t Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " do_page_fault",
      " page_fault",
      " list_del",
      " threadfn",
      " kthread",
    ],
  ]);
  assert.match(r.stop, /^stopped: BUG: unable to handle kernel paging request at 00200200/);
});

test("without DEBUG_LIST a second list_del writes next->prev through LIST_POISON1: 00100104 (2.6.34), 00000104 (6.1 i386), a #GP (6.1 x86_64)", () => {
  const twice = (H: list_head<E>, a: E) => {
    list_add(a.node, H);
    list_del(a.node);
    list_del(a.node);
  };
  const head = (m: MachineSpec, n: number) => withList({ ...m, debug_list: false }, twice).reports.map((x) => x.text.split("\n").slice(0, n));
  assert.equal(head(M26, 3), [["BUG: unable to handle kernel paging request at 00100104", "*pde = 00000000 ", "Oops: 0002 [#1] PREEMPT SMP "]]);
  assert.equal(head(I386_6, 5), [
    ["BUG: kernel NULL pointer dereference, address: 00000104", "#PF: supervisor write access in kernel mode", "#PF: error_code(0x0002) - not-present page", "*pde = 00000000 ", "Oops: 0002 [#1] PREEMPT SMP"],
  ]);
  assert.equal(head(X86_64_6, 1), [["general protection fault, probably for non-canonical address 0xdead000000000108: 0000 [#1] PREEMPT SMP"]]);
});

test("list_for_each_entry deleting its cursor walks into LIST_POISON1 (a read fault); the _safe form does not", () => {
  const r = withList(I386_6, (H, a, b) => {
    list_add_tail(a.node, H);
    list_add_tail(b.node, H);
    for (const x of list_for_each_entry(H)) list_del(x.node);
  });
  assert.equal(r.reports.map((x) => x.text.split("\n").slice(0, 3)), [["BUG: kernel NULL pointer dereference, address: 00000100", "#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page"]]);
});

test("debug_list and debug_preempt are machine-file switches", () => {
  assert.equal(parseMachineFile({ debug_list: false, debug_preempt: false }), { debug_list: false, debug_preempt: false });
  assert.throws(() => parseMachineFile({ debug_list: 1 }), /"debug_list" must be true or false/);
});

test.run();
