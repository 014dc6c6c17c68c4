// The kernel's tracepoints: each event type prints its detail as Linux's TP_printk does (the
// text mmsim printed before events became numbers, byte for byte), and a real run's tracepoints
// carry the right task, lock and arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { Trace, trace_event_type } from "../../src/sim/trace.ts";
import * as TP from "../../src/kernel/trace.ts";
import { TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, TASK_DEAD } from "../../src/kernel/sched/task.ts";
import { DEFINE_SPINLOCK, printk, spin_lock, spin_trylock, spin_unlock } from "../../src/kernel/index.ts";
import { inTask } from "../helpers.ts";

/** The detail of one event of `type`, its string fields interned. */
function detail(type: number, fields: readonly (number | string)[], text: string | null = null): string {
  const t = new Trace(1);
  const a = fields.map((f) => (typeof f === "string" ? t.intern(f) : f));
  t.emit(type, 0, 0, -1, a[0], a[1], a[2], a[3], a[4], a[5], text);
  const r = t.recent()[0]!;
  assert.is(r.name, trace_event_type(type).name);
  return r.detail;
}

const CASES: [number, (number | string)[], string, string?][] = [
  [TP.TP_IRQ_HANDLER_ENTRY, [11, "eth0"], "irq=11 name=eth0"],
  [TP.TP_IRQ_HANDLER_EXIT, [11, 1], "irq=11 ret=handled"],
  [TP.TP_IRQ_HANDLER_EXIT, [11, 0], "irq=11 ret=unhandled"],
  [TP.TP_LOCAL_TIMER_ENTRY, [239], "vector=239"],
  [TP.TP_LOCAL_TIMER_EXIT, [239], "vector=239"],
  [TP.TP_IPI_ENTRY, ["Rescheduling interrupts"], "(Rescheduling interrupts)"],
  [TP.TP_IPI_EXIT, ["Function call interrupts"], "(Function call interrupts)"],
  [TP.TP_SOFTIRQ_RAISE, [6], "vec=6 [action=TASKLET]"],
  [TP.TP_SOFTIRQ_ENTRY, [3], "vec=3 [action=NET_RX]"],
  [TP.TP_SOFTIRQ_EXIT, [1], "vec=1 [action=TIMER]"],
  [TP.TP_TASKLET_ENTRY, ["rx_action"], "function=rx_action"],
  [TP.TP_TASKLET_EXIT, ["rx_action"], "function=rx_action"],
  [TP.TP_SCHED_SWITCH, ["worker", 3, TASK_UNINTERRUPTIBLE, "swapper/0", 0], "prev_comm=worker prev_pid=3 prev_state=D ==> next_comm=swapper/0 next_pid=0"],
  [TP.TP_SCHED_SWITCH, ["a", 4, TASK_RUNNING, "b", 5], "prev_comm=a prev_pid=4 prev_state=R ==> next_comm=b next_pid=5"],
  [TP.TP_SCHED_SWITCH, ["a", 4, TASK_INTERRUPTIBLE, "b", 5], "prev_comm=a prev_pid=4 prev_state=S ==> next_comm=b next_pid=5"],
  [TP.TP_SCHED_SWITCH, ["a", 4, TASK_DEAD, "b", 5], "prev_comm=a prev_pid=4 prev_state=X ==> next_comm=b next_pid=5"],
  [TP.TP_SCHED_WAKEUP, ["worker", 3, 1], "comm=worker pid=3 target_cpu=001"],
  [TP.TP_SCHED_PROCESS_EXIT, ["worker", 3], "comm=worker pid=3"],
  [TP.TP_LOCK_ACQUIRE, [0, "&zone->lock"], "&zone->lock"],
  [TP.TP_LOCK_ACQUIRE, [TP.TRACE_LOCK_TRY, "&zone->lock"], "try &zone->lock"],
  [TP.TP_LOCK_ACQUIRE, [TP.TRACE_LOCK_TRY | TP.TRACE_LOCK_READ, "tasklist_lock"], "try read tasklist_lock"],
  [TP.TP_LOCK_RELEASE, ["&zone->lock"], "&zone->lock"],
  [TP.TP_LOCK_CONTENDED, ["stats_lock"], "stats_lock"],
  [TP.TP_LOCK_ACQUIRED, ["stats_lock", 1540], "stats_lock (1540 ns)"],
  [TP.TP_BPRINT, [], "stats/3: 464 packets received so far", "stats/3: 464 packets received so far"],
  [TP.TP_BUG_REPORT, [], "BUG: spinlock recursion on CPU#0, update_stats/3", "BUG: spinlock recursion on CPU#0, update_stats/3"],
];

test("each core tracepoint prints its detail as Linux's TP_printk (and mmsim before numeric events) does", () => {
  for (const [type, fields, want, text] of CASES) assert.is(detail(type, fields, text ?? null), want, trace_event_type(type).name);
  // Every tracepoint this module defines is covered.
  const defined = Object.entries(TP).filter(([k]) => k.startsWith("TP_")).map(([, v]) => v as number);
  assert.equal([...new Set(CASES.map((c) => c[0]))].sort(), [...new Set(defined)].sort());
});

test("a run's tracepoints: the running task, lock names, trylock flags, wait times, printk text", () => {
  const r = inTask(() =>
    Effect.gen(function* () {
      const l = DEFINE_SPINLOCK("my_lock");
      yield* spin_lock(l);
      yield* spin_unlock(l);
      yield* spin_trylock(l);
      yield* spin_unlock(l);
      printk("hello 1");
    }),
  );
  const mine = r.trace.filter((e) => e.who === "t-3").map((e) => `${e.cpu} ${e.name}: ${e.detail}`);
  assert.equal(mine.filter((l) => / lock_|bprint/.test(l)), ["0 lock_acquire: my_lock", "0 lock_release: my_lock", "0 lock_acquire: try my_lock", "0 lock_release: my_lock", "0 bprint: hello 1"]);
  assert.ok(r.trace.some((e) => e.name === "sched_process_exit" && e.detail === "comm=t pid=3"));
});

test.run();
