// Per-CPU variables (DEFINE_PER_CPU, per_cpu_ptr, this_cpu_*, __this_cpu_*, get_cpu/put_cpu)
// and CONFIG_DEBUG_PREEMPT's check (lib/smp_processor_id.c): each CPU's copy holds what ran on
// that CPU; smp_processor_id()/this_cpu_ptr() from a task that may migrate, with preemption and
// interrupts on, is reported in each era's format, and every exemption Linux makes holds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, reportText, run } from "../helpers.ts";
import {
  DEFINE_PER_CPU, __this_cpu_inc, __this_cpu_read, get_cpu, get_cpu_var, kthread_run, ktime_get_ns, local_irq_disable, local_irq_enable, per_cpu,
  per_cpu_ptr, preempt_count, preempt_disable, preempt_enable, put_cpu, put_cpu_var, smp_processor_id, this_cpu_add, this_cpu_add_return, this_cpu_inc,
  this_cpu_ptr, this_cpu_read, this_cpu_sub, this_cpu_write, type PerCpuVar,
} from "../../src/kernel/index.ts";
import type { MachineSpec } from "../../src/harness/scenario.ts";

const K6: MachineSpec = { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 } };

test("each CPU's copy: tasks bound to CPU0 and CPU1 update only their own; per_cpu reads any; a function init gives each CPU its own object", () => {
  let v!: PerCpuVar<number>;
  let s!: PerCpuVar<{ n: number }>;
  const seen: unknown[] = [];
  const r = run(
    inline(() => {
      v = DEFINE_PER_CPU(0, "events");
      s = DEFINE_PER_CPU(() => ({ n: 0 }), "stats");
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 3; i++) yield* this_cpu_inc(v);
            yield* this_cpu_add(v, 10);
            this_cpu_ptr(s).value.n = 7;
          }),
        null,
        "on0",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 5; i++) yield* this_cpu_inc(v);
            yield* this_cpu_sub(v, 2);
            seen.push(yield* this_cpu_add_return(v, 1), yield* this_cpu_read(v)); // 4, 4
            yield* this_cpu_write(v, 40);
            seen.push(smp_processor_id(), per_cpu_ptr(v, 1).value);
          }),
        null,
        "on1",
        { cpus: [1] },
      );
    }),
  );
  assert.equal(seen, [4, 4, 1, 40]);
  assert.equal([per_cpu(v, 0), per_cpu(v, 1), per_cpu(s, 0).n, per_cpu(s, 1).n, per_cpu(s, 0) !== per_cpu(s, 1)], [13, 40, 7, 0, true]);
  assert.equal(r.reports, [], "bound tasks may use smp_processor_id()");
});

test("2.6.34: smp_processor_id() in a preemptible task free to migrate: the report, 'caller is', the backtrace through debug_smp_processor_id", () => {
  const r = inTask(() => Effect.sync(() => void smp_processor_id()));
  assert.equal(reportText(r, "debug_preempt")[0]!.split("\n"), [
    "BUG: using smp_processor_id() in preemptible [00000000] code: t/3",
    "caller is threadfn",
    "Pid: 3, comm: t Not tainted 2.6.34-mmsim #1",
    "Call Trace:",
    " debug_smp_processor_id",
    " threadfn",
    " kthread",
  ]);
});

test("this_cpu_ptr() asks smp_processor_id() (both eras); 6.1's __this_cpu_inc checks itself: 'BUG: using __this_cpu_add()'; 2.6.34's does not", () => {
  const r26 = inTask(() => Effect.gen(function* () { const v = DEFINE_PER_CPU(0); this_cpu_ptr(v); yield* __this_cpu_inc(v); }));
  assert.equal(r26.reports.map((x) => x.title), ["BUG: using smp_processor_id() in preemptible [00000000] code: t/3"]);
  const r6 = inTask(() => Effect.gen(function* () { const v = DEFINE_PER_CPU(0); yield* __this_cpu_inc(v); yield* __this_cpu_read(v); }), K6);
  // 2 CPUs, kernel 6: ksoftirqd/0 and /1 are pids 1 and 2, kswapd0 3, the task 4, on CPU1 (CPU0 runs the boot work first).
  assert.equal(reportText(r6, "debug_preempt").map((t) => t.split("\n")), [
    [
      "BUG: using __this_cpu_add() in preemptible [00000000] code: t/4",
      "caller is threadfn",
      "CPU: 1 PID: 4 Comm: t Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " check_preemption_disabled",
      " threadfn",
      " kthread",
      " </TASK>",
    ],
    [
      "BUG: using __this_cpu_read() in preemptible [00000000] code: t/4",
      "caller is threadfn",
      "CPU: 1 PID: 4 Comm: t Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " check_preemption_disabled",
      " threadfn",
      " kthread",
      " </TASK>",
    ],
  ]);
});

test("no report with preemption off (get_cpu/put_cpu, get_cpu_var, preempt_disable), interrupts off, or debug_preempt/preempt off", () => {
  const counts: number[] = [];
  const body = () =>
    Effect.gen(function* () {
      const v = DEFINE_PER_CPU(0);
      const cpu = get_cpu();
      counts.push(preempt_count());
      yield* __this_cpu_inc(v);
      yield* put_cpu();
      get_cpu_var(v).value += cpu + 1;
      yield* put_cpu_var(v);
      preempt_disable();
      smp_processor_id();
      yield* preempt_enable();
      local_irq_disable();
      smp_processor_id();
      yield* local_irq_enable();
      counts.push(preempt_count());
    });
  for (const m of [{ cpus: 2 }, K6]) assert.equal(inTask(body, m).reports, []);
  assert.equal(counts, [1, 0, 1, 0]);
  const call = () => Effect.sync(() => void smp_processor_id());
  assert.equal(inTask(call, { cpus: 2, debug_preempt: false }).reports, []);
  assert.equal(inTask(call, { cpus: 2, preempt: false }).reports, [], "DEBUG_PREEMPT depends on PREEMPT");
});

test("a task on a one-CPU machine: 2.6.34 exempts it (cpus_allowed is this CPU's mask); 6.1 reports (not a per-CPU kthread)", () => {
  const call = () => Effect.sync(() => void smp_processor_id());
  assert.equal(inTask(call, { cpus: 1 }).reports, []);
  assert.equal(inTask(call, { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 64 } }).reports.map((x) => x.title), ["BUG: using smp_processor_id() in preemptible [00000000] code: t/3"]);
});

test("printk_ratelimit: 12 calls within 5 s print 10 reports", () => {
  const r = inTask(() => Effect.sync(() => { for (let i = 0; i < 12; i++) smp_processor_id(); }));
  assert.equal(reportText(r, "debug_preempt").length, 10);
});

test("this_cpu_inc is one interleaving point (50 ns); __this_cpu_inc a load and a store, two (100 ns)", () => {
  const d: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const v = DEFINE_PER_CPU(0);
        for (const eff of [this_cpu_inc(v), __this_cpu_inc(v)]) {
          let least = Infinity;
          for (let i = 0; i < 3; i++) {
            const t0 = ktime_get_ns();
            yield* eff;
            least = Math.min(least, ktime_get_ns() - t0);
          }
          d.push(least);
        }
      }),
    { cpus: 1, hz: 100 },
  );
  assert.equal(d, [50, 100]);
});

test("DEFINE_PER_CPU outside a run, or per_cpu_ptr of a CPU the machine lacks, is the scenario's error", () => {
  assert.throws(() => DEFINE_PER_CPU(0, "x"), /DEFINE_PER_CPU\(x\): call it in setup\(\) or later/);
  assert.throws(() => inTask(() => Effect.sync(() => per_cpu_ptr(DEFINE_PER_CPU(0, "x"), 2))), /per_cpu_ptr\(x, 2\): no CPU 2 on a 2-CPU machine/);
});

test.run();
