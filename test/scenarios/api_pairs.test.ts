// Kernel-API pairs of scenarios/teach/ beyond the spinlock, per-CPU, list, RCU and deferred-work
// ones, a classic mistake and its fix each: the mistake reports as Linux would on the seeds
// given, and the twin is clean on seeds 1..30.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const scn = (name: string) => findScenario(name)!;
const logline = (r: ReturnType<typeof runScenario>, re: RegExp) => r.log.map((l) => re.exec(l)).find((m) => m !== null);
const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1);

test("semaphore-tasklet: kernel 6's might_sleep at semaphore.c:58 on every seed, a real sleep in softirq on 13 of 1..30; the trylock twin defers on exactly those seeds and is clean", () => {
  const slept: number[] = [];
  const deferred: number[] = [];
  for (const seed of SEEDS) {
    const bad = runScenario(scn("semaphore-tasklet"), { seed });
    assert.is(bad.failed, false, bad.expectations.join("; ")); // the reports are expected
    assert.is(bad.reports[0]!.title, "BUG: sleeping function called from invalid context at kernel/locking/semaphore.c:58");
    if (bad.reports.length > 1) {
      slept.push(seed);
      assert.equal(bad.reports.slice(1).map((x) => x.title), ["BUG: scheduling while atomic: swapper/0/0/0x00000101", "Kernel panic - not syncing: scheduling in interrupt context (irq/11)"]);
      assert.match(bad.reports[1]!.text, /\n __schedule_bug\n schedule\n schedule_timeout\n __down\n down\n rx_action\n tasklet_action\n __do_softirq\n irq_exit\n/);
    }
    const ok = runScenario(scn("semaphore-tasklet-trylock"), { seed });
    assert.is(ok.failed, false, ok.expectations.join("; "));
    assert.equal(ok.reports, []);
    const m = logline(ok, /semaphore-tasklet-trylock: \d+ packets in (\d+) batches, (\d+) acknowledged \((\d+) by the work item\), 10 commands/)!;
    assert.is(m[2], m[1], `seed ${seed}: every batch acknowledged`);
    if (m[3] !== "0") deferred.push(seed);
  }
  assert.equal(slept, [6, 8, 9, 10, 12, 15, 17, 19, 21, 22, 23, 28, 30]);
  // Where the bug's down() found the mailbox busy, the twin's down_trylock() did too (the runs
  // are the same up to there) and handed the acknowledgement to the work item.
  assert.equal(deferred, slept);
  const r1 = runScenario(scn("semaphore-tasklet"), { seed: 1 });
  assert.equal(r1.reports.map((x) => x.text.split("\n")), [
    [
      "BUG: sleeping function called from invalid context at kernel/locking/semaphore.c:58",
      "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0",
      "preempt_count: 100, expected: 0",
      "RCU nest depth: 0, expected: 0",
      "no locks held by swapper/0/0.",
      "CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <IRQ>",
      " __might_resched",
      " __might_sleep",
      " down",
      " rx_action",
      " tasklet_action",
      " __do_softirq",
      " irq_exit",
      " do_IRQ",
      " common_interrupt",
      " </IRQ>",
    ],
  ]);
  // 2.6.34's down() has no might_sleep(): seed 1 (no contention) is silent, seed 6 is not.
  const m26 = { memory: { arch: "i386" as const, kernel: "2.6" as const, mb: 64 } };
  assert.equal(runScenario(scn("semaphore-tasklet"), { seed: 1, machine: m26 }).reports, []);
  assert.equal(
    runScenario(scn("semaphore-tasklet"), { seed: 6, machine: m26 }).reports.map((x) => x.title),
    ["BUG: scheduling while atomic: swapper/0/0/0x00000101", "Kernel panic - not syncing: scheduling in interrupt context (irq/11)"],
  );
});

test("rwlock-irq-deadlock: the hard lockup on 21 of 1..30 (seed 1 among them), lockdep's {HARDIRQ-ON-R} -> {IN-HARDIRQ-W} on every seed; read_lock_irqsave is clean", () => {
  const locked: number[] = [];
  for (const seed of SEEDS) {
    const bad = runScenario(scn("rwlock-irq-deadlock"), { seed });
    assert.is(bad.failed, false, bad.expectations.join("; "));
    if (bad.reports.length > 0) {
      locked.push(seed);
      assert.equal(bad.reports.map((x) => x.title), ["NMI watchdog: Watchdog detected hard LOCKUP on cpu 0"]);
      assert.equal(bad.reports[0]!.text.split("\n").slice(1, 7), [
        "deadlock: irq/11 waits for &br->hash_lock, br_forward cannot run",
        "CPU#0 (hardirq context, preempt_count 00010002, irqs off):",
        "  #0 interrupt irq/11 (interrupting br_forward/3): holding no spinlock, spinning in write_lock on &br->hash_lock",
        "     at _raw_write_lock <- eth0_interrupt <- handle_IRQ_event <- handle_edge_irq <- do_IRQ <- common_interrupt",
        "  #1 task br_forward/3: holding &br->hash_lock (read_lock)",
        "     at br_forward <- kthread",
      ]);
    } else {
      assert.ok(logline(bad, /rwlock-irq-deadlock: \d+ packets learned, 40 lookups/), `seed ${seed}`);
    }
    const withLockdep = runScenario(scn("rwlock-irq-deadlock"), { seed, machine: { lockdep: true } });
    assert.is(withLockdep.failed, false);
    assert.is(withLockdep.reports[0]!.title, "[ INFO: inconsistent lock state ]");
    assert.equal(withLockdep.reports[0]!.text.split("\n").slice(4, 7), [
      "inconsistent {HARDIRQ-ON-R} -> {IN-HARDIRQ-W} usage.",
      "br_forward/3 [HC1[1]:SC0[0]:HE0:SE1] takes:",
      " (&br->hash_lock){-+.+..}, at: eth0_interrupt",
    ]);
    for (const machine of [undefined, { lockdep: true }]) {
      const ok = runScenario(scn("rwlock-irq-irqsave"), { seed, machine });
      assert.is(ok.failed, false, ok.expectations.join("; "));
      assert.equal(ok.reports, []);
    }
  }
  assert.equal(locked.length, 21);
  assert.ok(locked.includes(1));
});

test("completion-two-waiters: one complete() lets eth1's open through and leaves eth0's hung on every seed; with complete_all() both open", () => {
  for (const seed of SEEDS) {
    const bad = runScenario(scn("completion-two-waiters"), { seed });
    assert.is(bad.failed, false, bad.expectations.join("; "));
    assert.equal(bad.reports.map((x) => x.text.split("\n")), [
      [
        "INFO: task open/eth0:4 blocked for more than 120 seconds.",
        '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
        "open/eth0       D     4",
        " schedule",
        " wait_for_completion",
        " port_open",
        " kthread",
      ],
    ]);
    const ok = runScenario(scn("completion-two-waiters-fixed"), { seed });
    assert.is(ok.failed, false, ok.expectations.join("; "));
    assert.equal(ok.reports, []);
    assert.match(logline(ok, /completion-two-waiters-fixed: firmware loaded, opened: (.*)/)![1]!, /^(eth0 eth1|eth1 eth0)$/);
  }
});

test("atomic-check-then-act: buffers leak on every seed (seed 1: 5 of 40, kmemleak's report and the failed check); atomic_dec_and_test frees every one", () => {
  for (const seed of SEEDS) {
    const bad = runScenario(scn("atomic-check-then-act"), { seed });
    assert.is(bad.failed, true);
    const m = logline(bad, /atomic-check-then-act: 40 buffers allocated, (\d+) freed, (\d+) leaked/)!;
    const leaked = Number(m[2]);
    assert.ok(leaked > 0, `seed ${seed}`);
    assert.is(Number(m[1]) + leaked, 40);
    assert.equal(bad.reports.map((x) => x.title), [`kmemleak: ${leaked} new suspected memory leak${leaked === 1 ? "" : "s"} (see /sys/kernel/debug/kmemleak)`]);
    assert.equal(bad.expectations, [`buffers freed: expected 40, got ${40 - leaked}`]);
    const ok = runScenario(scn("atomic-dec-and-test"), { seed });
    assert.is(ok.failed, false, ok.expectations.join("; "));
    assert.equal(ok.reports, []);
  }
  const r1 = runScenario(scn("atomic-check-then-act"), { seed: 1 });
  assert.is(r1.reports[0]!.title, "kmemleak: 5 new suspected memory leaks (see /sys/kernel/debug/kmemleak)");
  assert.equal(r1.expectations, ["buffers freed: expected 40, got 35"]);
  assert.equal(r1.reports[0]!.text.split("\n").slice(1, 7), [
    "unreferenced object 0xc3c00980 (size 256):",
    '  comm "rx", pid 4, jiffies 0 (age 0.000s)',
    "  backtrace:",
    "    __kmalloc",
    "    rx",
    "    kthread",
  ]);
});

test.run();
