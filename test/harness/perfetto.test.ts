// The Chrome Trace Event export: slices and instants for a hand-written record sequence, and a
// real run's file well formed (every slice closed, nested per CPU, in time order).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chrome_trace } from "../../src/harness/perfetto.ts";
import type { TraceRecord } from "../../src/sim/trace.ts";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const rec = (ts: number, cpu: number, who: string, name: string, detail: string): TraceRecord => ({ ts, cpu, who, name, detail });

test("a task, an interrupt with its softirq, a contended lock, an allocation: the events Perfetto gets", () => {
  const records = [
    rec(1000, 0, "worker-3", "lock_acquire", "stats_lock"),
    rec(1500, 1, "reader-4", "lock_acquire", "stats_lock"),
    rec(1500, 1, "reader-4", "lock_contended", "stats_lock"),
    rec(2000, 0, "worker-3", "irq_handler_entry", "irq=11 name=eth0"),
    rec(2400, 0, "worker-3", "irq_handler_exit", "irq=11 ret=handled"),
    rec(2400, 0, "worker-3", "softirq_entry", "vec=6 [action=TASKLET]"),
    rec(2600, 0, "worker-3", "mm_page_alloc", "page=1234 order=0"),
    rec(2900, 0, "worker-3", "softirq_exit", "vec=6 [action=TASKLET]"),
    rec(3000, 0, "worker-3", "lock_release", "stats_lock"),
    rec(3000, 0, "worker-3", "lock_acquired", "stats_lock (1540 ns)"),
    rec(3500, 0, "worker-3", "sched_switch", "prev_comm=worker prev_pid=3 prev_state=D ==> next_comm=swapper/0 next_pid=0"),
  ];
  const ev = chrome_trace(records, "mmsim: t seed 1", 2, 4000).traceEvents.filter((e) => e.ph !== "M");
  const brief = ev.map((e) => `${e.ph} ${e.tid} ${e.ts} ${e.name}${e.id !== undefined ? ` #${e.id}` : ""}`);
  assert.equal(brief, [
    "B 0 0 worker-3", // CPU0's first task, from the start
    "b 0 1 hold stats_lock #1",
    "B 1 0 reader-4",
    "b 1 1.5 spin stats_lock #3", // its hold slice (#2) was dropped: it spun first
    "B 0 2 irq 11 eth0",
    "E 0 2.4 ",
    "B 0 2.4 softirq TASKLET",
    "i 0 2.6 mm_page_alloc",
    "E 0 2.9 ",
    "e 0 3 hold stats_lock #1",
    "e 1 3 spin stats_lock #3", // handed over on release: CPU1 holds it now
    "b 1 3 hold stats_lock #4",
    "E 0 3.5 ",
    "B 0 3.5 swapper/0-0",
    "e 1 4 hold stats_lock #4", // still held at the end
    "E 0 4 ",
    "E 1 4 ",
  ]);
});

test("a real run's trace file: slices balanced and nested per CPU, in time order, async slices matched", () => {
  const r = runScenario(findScenario("zone-lock")!, { seed: 1, traceAll: true });
  assert.is(r.traceAll!.length, r.traceEvents);
  const ev = chrome_trace(r.traceAll!, "z", r.cpus, r.virtualTimeNs).traceEvents;
  const depth = new Map<number, number>();
  const last = new Map<number, number>();
  const open = new Set<string>();
  for (const e of ev) {
    if (e.ph === "B" || e.ph === "E") {
      assert.ok((last.get(e.tid) ?? 0) <= e.ts!, `CPU${e.tid} goes back in time at ${e.ts}`);
      last.set(e.tid, e.ts!);
      depth.set(e.tid, (depth.get(e.tid) ?? 0) + (e.ph === "B" ? 1 : -1));
      assert.ok(depth.get(e.tid)! >= 0);
    }
    if (e.ph === "b") open.add(e.id!);
    if (e.ph === "e") assert.ok(open.delete(e.id!), `unmatched end of ${e.name}`);
  }
  assert.equal([...depth.values()], Array(r.cpus).fill(0));
  assert.is(open.size, 0);
  assert.ok(ev.some((e) => e.name === "spin &zone->lock") || ev.some((e) => e.name === "hold &zone->lock"));
});

test.run();
