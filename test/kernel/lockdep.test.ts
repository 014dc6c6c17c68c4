// lockdep (CONFIG_PROVE_LOCKING, machine.lockdep): the circular, recursive and inconsistent-state
// reports in each era's format, written out from kernel/lockdep.c's printk()s; dependencies only
// from the nearest held lock of the same irq context, none into a trylock; off by default.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, run } from "../helpers.ts";
import { findScenario } from "../../scenarios/index.ts";
import {
  DEFINE_SPINLOCK,
  SINGLE_DEPTH_NESTING,
  might_sleep,
  msleep,
  spin_lock,
  spin_lock_bh,
  spin_lock_nested,
  spin_trylock,
  spin_unlock,
  spin_unlock_bh,
  tasklet_init,
  tasklet_schedule,
  spinlock_t,
  DEFINE_RWLOCK,
  read_lock,
  read_lock_bh,
  read_unlock,
  read_unlock_bh,
} from "../../src/kernel/index.ts";

const M = (era: "2.6" | "6" = "2.6") => ({ cpus: 1, lockdep: true, memory: { arch: "i386", kernel: era, mb: 64 } }) as const;
/** The lockdep report's lines up to "stack backtrace:". */
const lockdep = (r: ReturnType<typeof inTask>) => r.reports.filter((x) => x.kind === "lockdep").map((x) => x.text.split("\n").slice(0, x.text.split("\n").indexOf("stack backtrace:")));

/** Takes `first` then `second` (releasing both) for each pair, in task "t" (pid 3: the memory machine starts kswapd0 first). */
const pairs = (locks: () => Record<string, spinlock_t>, order: [string, string][]) => () =>
  Effect.gen(function* () {
    const l = locks();
    for (const [a, b] of order) {
      yield* spin_lock(l[a]!);
      yield* spin_lock(l[b]!);
      yield* spin_unlock(l[b]!);
      yield* spin_unlock(l[a]!);
    }
  });

const ab = () => ({ lock_a: DEFINE_SPINLOCK("lock_a"), lock_b: DEFINE_SPINLOCK("lock_b"), lock_c: DEFINE_SPINLOCK("lock_c") });

test("AB then BA in one task, nothing concurrent: 2.6.34's circular dependency report", () => {
  const r = inTask(pairs(ab, [["lock_a", "lock_b"], ["lock_b", "lock_a"]]), M());
  // Taken with interrupts and softirqs on: HARDIRQ-ON-W and SOFTIRQ-ON-W, "+.+" then the read
  // and reclaim-fs columns. The new lock is not yet counted as held when the chain is checked.
  assert.equal(lockdep(r), [
    [
      "=======================================================",
      "[ INFO: possible circular locking dependency detected ]",
      "2.6.34-mmsim #1",
      "-------------------------------------------------------",
      "t/3 is trying to acquire lock:",
      " (lock_a){+.+...}, at: threadfn",
      "",
      "but task is already holding lock:",
      " (lock_b){+.+...}, at: threadfn",
      "",
      "which lock already depends on the new lock.",
      "",
      "",
      "the existing dependency chain (in reverse order) is:",
      "",
      "-> #1 (lock_b){+.+...}:",
      "       lock_acquire",
      "       _raw_spin_lock",
      "       threadfn",
      "       kthread",
      "",
      "-> #0 (lock_a){+.+...}:",
      "       __lock_acquire",
      "       lock_acquire",
      "       _raw_spin_lock",
      "       threadfn",
      "       kthread",
      "",
      "other info that might help us debug this:",
      "",
      "1 lock held by t/3:",
      " #0:  (lock_b){+.+...}, at: threadfn",
      "",
    ],
  ]);
  assert.equal(r.reports.map((x) => x.title), ["[ INFO: possible circular locking dependency detected ]"]);
});

test("a three-lock chain in 6.1's words: the chain, 'Chain exists of', the unsafe scenario", () => {
  const r = inTask(pairs(ab, [["lock_a", "lock_b"], ["lock_b", "lock_c"], ["lock_c", "lock_a"]]), M("6"));
  const text = lockdep(r)[0]!;
  assert.equal(text.slice(0, 9), [
    "======================================================",
    "WARNING: possible circular locking dependency detected",
    "6.1.0-mmsim #1 Not tainted",
    "------------------------------------------------------",
    "t/3 is trying to acquire lock:",
    // Instances at the assumed .data address, 64 bytes apart in the order lockdep first saw them.
    "c1800000 (lock_a){+.+.}-{2:2}, at: threadfn",
    "",
    "but task is already holding lock:",
    "c1800080 (lock_c){+.+.}-{2:2}, at: threadfn",
  ]);
  // The path lock_a -> lock_b -> lock_c, printed from its end: #2 lock_c (taken under lock_b),
  // #1 lock_b (under lock_a), #0 lock_a now. 6.1's traces start at the lock function.
  const from = text.indexOf("the existing dependency chain (in reverse order) is:");
  assert.equal(text.slice(from + 2, from + 7), ["-> #2 (lock_c){+.+.}-{2:2}:", "       _raw_spin_lock", "       threadfn", "       kthread", ""]);
  assert.is(text[from + 7], "-> #1 (lock_b){+.+.}-{2:2}:");
  const other = text.indexOf("other info that might help us debug this:");
  assert.equal(text.slice(other + 2), [
    "Chain exists of:",
    "  lock_a --> lock_b --> lock_c",
    "",
    " Possible unsafe locking scenario:",
    "",
    "       CPU0                    CPU1",
    "       ----                    ----",
    "  lock(lock_c);",
    "                               lock(lock_b);",
    "                               lock(lock_c);",
    "  lock(lock_a);",
    "",
    " *** DEADLOCK ***",
    "",
    "1 lock held by t/3:",
    " #0: c1800080 (lock_c){+.+.}-{2:2}, at: threadfn",
    "",
  ]);
});

test("a trylock adds no dependency, so BA after A-trylock(B) is no cycle; the same class twice is recursion", () => {
  const clean = inTask(
    () =>
      Effect.gen(function* () {
        const a = DEFINE_SPINLOCK("lock_a");
        const b = DEFINE_SPINLOCK("lock_b");
        yield* spin_lock(a);
        assert.is(yield* spin_trylock(b), 1);
        yield* spin_unlock(b);
        yield* spin_unlock(a);
        yield* spin_lock(b);
        yield* spin_lock(a);
        yield* spin_unlock(a);
        yield* spin_unlock(b);
      }),
    M(),
  );
  assert.equal(clean.reports, []);
  const rec = inTask(
    () =>
      Effect.gen(function* () {
        // Two devices' locks initialised at one site: one class, "&dev->lock".
        const d1 = DEFINE_SPINLOCK("&dev->lock");
        const d2 = DEFINE_SPINLOCK("&dev->lock");
        yield* spin_lock(d1);
        yield* spin_lock(d2);
        yield* spin_unlock(d2);
        yield* spin_unlock(d1);
      }),
    M("6"),
  );
  const text = lockdep(rec)[0]!;
  assert.equal(text.slice(0, 4), ["============================================", "WARNING: possible recursive locking detected", "6.1.0-mmsim #1 Not tainted", "--------------------------------------------"]);
  assert.equal(text.slice(text.indexOf("other info that might help us debug this:") + 1), [
    " Possible unsafe locking scenario:",
    "",
    "       CPU0",
    "       ----",
    "  lock(&dev->lock);",
    "  lock(&dev->lock);",
    "",
    " *** DEADLOCK ***",
    "",
    " May be due to missing lock nesting notation",
    "",
    "1 lock held by t/3:",
    " #0: c1800000 (&dev->lock){+.+.}-{2:2}, at: threadfn",
    "",
  ]);
});

test("irq-lock-deadlock with lockdep: the inconsistent hardirq usage is reported on seed 1, which does not deadlock", () => {
  const scn = findScenario("irq-lock-deadlock")!;
  const plain = run(scn, { seed: 1 });
  assert.equal(plain.reports, []); // this seed never has the interrupt land inside the lock
  const r = run(scn, { seed: 1, machine: { lockdep: true } });
  // lockdep watches and changes nothing: the same steps and time (the trace differs by the report).
  assert.equal([r.steps, r.virtualTimeNs], [plain.steps, plain.virtualTimeNs]);
  const text = lockdep(r)[0]!;
  assert.equal(text.slice(0, 12), [
    "=================================",
    "[ INFO: inconsistent lock state ]",
    "2.6.34-mmsim #1",
    "---------------------------------",
    "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.",
    // In the handler: hardirq context (count 1), softirqs not disabled, interrupts off.
    "update_stats/3 [HC1[1]:SC0[0]:HE0:SE1] takes:",
    " (dev_lock){?.+...}, at: eth0_interrupt",
    "{HARDIRQ-ON-W} state was registered at:",
    "  __lock_acquire",
    "  lock_acquire",
    "  _raw_spin_lock",
    "  update_stats",
  ]);
});

test("a lock a tasklet takes, taken elsewhere with softirqs on: {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}; spin_lock_bh is clean", () => {
  const go = (bh: boolean) =>
    inTask(
      () =>
        Effect.gen(function* () {
          const l = DEFINE_SPINLOCK("q_lock");
          const t = tasklet_init(() => Effect.gen(function* () {
            yield* spin_lock(l);
            yield* spin_unlock(l);
          }), null);
          if (bh) yield* spin_lock_bh(l);
          else yield* spin_lock(l);
          if (bh) yield* spin_unlock_bh(l);
          else yield* spin_unlock(l);
          yield* tasklet_schedule(t);
          yield* msleep(1); // ksoftirqd runs it
        }),
      M("6"),
    );
  assert.equal(lockdep(go(true)), []);
  const text = lockdep(go(false))[0]!;
  // Raised from process context, the tasklet runs in ksoftirqd: serving a softirq (SC1[1]) with
  // hardirqs on.
  assert.is(text[4], "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.");
  assert.match(text[5]!, /^\S+ \[HC0\[0\]:SC1\[1\]:HE1:SE0\] takes:$/);
  assert.ok(text.includes("  <Interrupt>"), text.join("\n")); // print_usage_bug_scenario's word for both
});

test("without machine.lockdep nothing is checked and held locks print as before", () => {
  const r = inTask(pairs(ab, [["lock_a", "lock_b"], ["lock_b", "lock_a"]]), { cpus: 1 });
  assert.equal(r.reports, []);
});

test("spin_lock_nested(SINGLE_DEPTH_NESTING): a second lock of the class in a fixed order is subclass 1, no report; held locks print it as name/1", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const d1 = DEFINE_SPINLOCK("&dev->lock");
        const d2 = DEFINE_SPINLOCK("&dev->lock");
        for (let i = 0; i < 2; i++) {
          yield* spin_lock(d1);
          yield* spin_lock_nested(d2, SINGLE_DEPTH_NESTING);
          if (i === 1) might_sleep("threadfn"); // prints the held locks
          yield* spin_unlock(d2);
          yield* spin_unlock(d1);
        }
      }),
    M("6"),
  );
  assert.equal(lockdep(r), []);
  const text = r.reports[0]!.text.split("\n");
  assert.equal(text.slice(text.indexOf("2 locks held by t/3:"), text.indexOf("2 locks held by t/3:") + 3), [
    "2 locks held by t/3:",
    " #0: c1800000 (&dev->lock){+.+.}-{2:2}, at: threadfn",
    " #1: c1800040 (&dev->lock/1){+.+.}-{2:2}, at: threadfn",
  ]);
});

test("the subclass is a class of its own: nested-then-plain after plain-then-nested is a circular dependency between &dev->lock and &dev->lock/1", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const d1 = DEFINE_SPINLOCK("&dev->lock");
        const d2 = DEFINE_SPINLOCK("&dev->lock");
        yield* spin_lock(d1);
        yield* spin_lock_nested(d2, 1);
        yield* spin_unlock(d2);
        yield* spin_unlock(d1);
        yield* spin_lock_nested(d2, 1);
        yield* spin_lock(d1);
        yield* spin_unlock(d1);
        yield* spin_unlock(d2);
      }),
    M(),
  );
  assert.equal(lockdep(r)[0]!.slice(4, 27), [
    "t/3 is trying to acquire lock:",
    " (&dev->lock){+.+...}, at: threadfn",
    "",
    "but task is already holding lock:",
    " (&dev->lock/1){+.+...}, at: threadfn",
    "",
    "which lock already depends on the new lock.",
    "",
    "",
    "the existing dependency chain (in reverse order) is:",
    "",
    "-> #1 (&dev->lock/1){+.+...}:",
    "       lock_acquire",
    "       _raw_spin_lock_nested",
    "       threadfn",
    "       kthread",
    "",
    "-> #0 (&dev->lock){+.+...}:",
    "       __lock_acquire",
    "       lock_acquire",
    "       _raw_spin_lock",
    "       threadfn",
    "       kthread",
  ]);
});

test("a subclass of MAX_LOCKDEP_SUBCLASSES (8): 'BUG: looking up invalid subclass: 8' and lockdep is off; without lockdep spin_lock_nested is spin_lock", () => {
  const body = () =>
    Effect.gen(function* () {
      const d1 = DEFINE_SPINLOCK("&dev->lock");
      const d2 = DEFINE_SPINLOCK("&dev->lock");
      yield* spin_lock_nested(d1, 8);
      yield* spin_lock(d2); // recursion of the class, unseen: lockdep is off
      yield* spin_unlock(d2);
      yield* spin_unlock(d1);
    });
  const r = inTask(body, M());
  assert.equal(r.reports.map((x) => x.text.split("\n")), [
    [
      "BUG: looking up invalid subclass: 8",
      "turning off the locking correctness validator.",
      "Pid: 3, comm: t Not tainted 2.6.34-mmsim #1",
      "Call Trace:",
      " look_up_lock_class",
      " register_lock_class",
      " __lock_acquire",
      " lock_acquire",
      " _raw_spin_lock_nested",
      " threadfn",
      " kthread",
    ],
  ]);
  assert.equal(inTask(body, { cpus: 1 }).reports, []);
  assert.throws(() => spin_lock_nested(new spinlock_t("l"), -1), /spin_lock_nested\(l, -1\): the subclass must be a whole number from 0/);
});

test("a chain through a read lock, A -> L(read) -> B, closed by B -> A: 6.1 reports it for a process-context reader; not for a recursive one (not a strong path), nor 2.6.34 (recursive reads add no dependencies)", () => {
  const chain = (era: "2.6" | "6", bh: boolean) =>
    inTask(
      () =>
        Effect.gen(function* () {
          const a = DEFINE_SPINLOCK("lock_a");
          const l = DEFINE_RWLOCK("tbl_lock");
          const b = DEFINE_SPINLOCK("lock_b");
          // With bottom halves off, in_interrupt() is true: 6.1's read_lock is then a recursive read.
          const rl = bh ? read_lock_bh : read_lock;
          const ru = bh ? read_unlock_bh : read_unlock;
          yield* spin_lock(a);
          yield* rl(l);
          yield* ru(l);
          yield* spin_unlock(a);
          yield* rl(l);
          yield* spin_lock(b);
          yield* spin_unlock(b);
          yield* ru(l);
          yield* spin_lock(b);
          yield* spin_lock(a);
          yield* spin_unlock(a);
          yield* spin_unlock(b);
        }),
      M(era),
    );
  for (const bh of [false, true]) assert.equal(chain("2.6", bh).reports, [], `2.6 bh ${bh}`);
  // A -(EN)-> L -(SN)-> B: a strong path from the new lock to the held one, a cycle. With the
  // read recursive, A -(ER)-> L then L -(SN)-> B: -(*R)-> followed by -(S*)->, not strong.
  assert.equal(chain("6", true).reports, []);
  const text = lockdep(chain("6", false))[0]!;
  assert.equal(text.slice(text.indexOf("the existing dependency chain (in reverse order) is:"), text.indexOf("other info that might help us debug this:") + 4), [
    "the existing dependency chain (in reverse order) is:",
    "",
    "-> #2 (lock_b){+.+.}-{2:2}:",
    "       _raw_spin_lock",
    "       threadfn",
    "       kthread",
    "",
    "-> #1 (tbl_lock){.+.+}-{2:2}:",
    "       _raw_read_lock",
    "       threadfn",
    "       kthread",
    "",
    "-> #0 (lock_a){+.+.}-{2:2}:",
    "       __lock_acquire",
    "       lock_acquire",
    "       _raw_spin_lock",
    "       threadfn",
    "       kthread",
    "",
    "other info that might help us debug this:",
    "",
    "Chain exists of:",
    "  lock_a --> tbl_lock --> lock_b",
  ]);
});

test.run();
