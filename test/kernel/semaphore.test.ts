// Semaphores (kernel/locking/semaphore.c): the count, the FIFO hand-over in up(), down_trylock's
// inverted return, -EINTR and -ETIME, and 6.1's might_sleep() in down(), with the values worked
// out from semaphore.c's rules. On a 1-CPU machine ksoftirqd/0 is pid 1 and scenario tasks run
// in the order they were made, each until it sleeps.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, inline, run } from "../helpers.ts";
import {
  DEFINE_SEMAPHORE,
  DEFINE_SPINLOCK,
  EINTR,
  ETIME,
  TASK_INTERRUPTIBLE,
  down,
  down_interruptible,
  down_timeout,
  down_trylock,
  jiffies,
  kthread_run,
  msleep,
  sema_init,
  semaphore,
  spin_lock,
  spin_unlock,
  tasklet_init,
  tasklet_schedule,
  up,
  type Task,
} from "../../src/kernel/index.ts";
import { try_to_wake_up } from "../../src/kernel/sched/core.ts";

test("a count of 2: two tasks go down at once, the next two sleep and get it in the order they came, each from an up(); the count ends at 2", () => {
  const log: string[] = [];
  const scn = inline(
    () => {
      const sem = DEFINE_SEMAPHORE("sem", 2);
      const worker = function* (name: string) {
        yield* down(sem);
        log.push(`${name} down: count ${sem.count}, ${sem.wait_list.length} waiting`);
        yield* msleep(2);
        yield* up(sem);
        log.push(`${name} up: count ${sem.count}, ${sem.wait_list.length} waiting`);
      };
      for (const name of ["a", "b", "c", "d"]) kthread_run(worker, name, name);
      return sem;
    },
    { cpus: 1 },
    { check: (sem) => void log.push(`end: count ${sem.count}`) },
  );
  assert.equal(run(scn).reports, []);
  // a and b take the two (2 -> 1 -> 0); c and d find 0 and queue in that order. a and b sleep
  // to the same jiffy and wake in that order: a's up() hands the semaphore to c (the count stays
  // 0, d still waits), b's to d; then c and d run and give theirs back: 1, then 2.
  assert.equal(log, [
    "a down: count 1, 0 waiting",
    "b down: count 0, 0 waiting",
    "a up: count 0, 1 waiting",
    "b up: count 0, 0 waiting",
    "c down: count 0, 0 waiting",
    "d down: count 0, 0 waiting",
    "c up: count 1, 0 waiting",
    "d up: count 2, 0 waiting",
    "end: count 2",
  ]);
});

test("a binary semaphore: three waiters are handed it one after another in arrival order", () => {
  const order: string[] = [];
  const scn = inline(
    () => {
      const sem = DEFINE_SEMAPHORE("sem"); // DEFINE_SEMAPHORE's count defaults to 1
      const worker = function* (name: string) {
        yield* down(sem);
        order.push(`${name}:${sem.wait_list.length}`);
        yield* msleep(1);
        yield* up(sem);
      };
      for (const name of ["w1", "w2", "w3", "w4"]) kthread_run(worker, name, name);
      return sem;
    },
    { cpus: 1 },
    { check: (sem) => void order.push(`count ${sem.count}`) },
  );
  run(scn);
  // w1 takes it; w2, w3, w4 queue. Each up() hands it to the head of the list.
  assert.equal(order, ["w1:0", "w2:2", "w3:1", "w4:0", "count 1"]);
});

test("down_trylock: 0 and one taken while the count is above 0, 1 and nothing changed at 0 (inverted from spin_trylock)", () => {
  const seen: number[] = [];
  inTask(() =>
    Effect.gen(function* () {
      const sem = new semaphore("sem");
      sema_init(sem, 1);
      seen.push(yield* down_trylock(sem), sem.count);
      seen.push(yield* down_trylock(sem), sem.count);
      yield* up(sem);
      seen.push(sem.count);
      seen.push(yield* down_trylock(sem), sem.count);
    }),
  );
  assert.equal(seen, [0, 0, 1, 0, 1, 0, 0]);
  assert.throws(() => sema_init(new semaphore("bad"), -1), /sema_init\(bad, -1\): the count must be a whole number from 0/);
});

test("down_interruptible: -EINTR once a pending SIGKILL wakes the sleeper, which leaves the wait list; down() is not woken that way", () => {
  const seen: (number | string)[] = [];
  const scn = inline(
    () => {
      const sem = DEFINE_SEMAPHORE("sem", 0);
      const d_sem = DEFINE_SEMAPHORE("d_sem", 0);
      const sleeper = kthread_run(function* sleeper(_: null) {
        seen.push(yield* down_interruptible(sem));
        seen.push(`list ${sem.wait_list.length}`);
      }, null, "sleeper");
      const d_sleeper = kthread_run(function* d_sleeper(_: null) {
        yield* down(d_sem);
        seen.push("d_sleeper got it");
      }, null, "d_sleeper");
      kthread_run(
        function* killer(p: [Task, Task]) {
          yield* msleep(1);
          // signal_wake_up(): SIGKILL pending, interruptible sleepers woken.
          p[0].sigkill = true;
          p[1].sigkill = true;
          seen.push(`woken ${try_to_wake_up(p[0], TASK_INTERRUPTIBLE)} ${try_to_wake_up(p[1], TASK_INTERRUPTIBLE)}`);
          yield* msleep(1);
          yield* up(sem); // nobody waits now: the count goes up
          seen.push(`count ${sem.count}`);
          yield* up(d_sem); // hands it to d_sleeper
        },
        [sleeper, d_sleeper],
        "killer",
      );
    },
    { cpus: 1 },
  );
  run(scn);
  assert.equal(seen, ["woken 1 0", -EINTR, "list 0", "count 1", "d_sleeper got it"]);
  assert.is(EINTR, 4);
});

test("down_timeout: -ETIME after exactly `timeout` jiffies when nobody ups; 0 at once when the count allows", () => {
  const seen: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const sem = DEFINE_SEMAPHORE("sem", 0);
        const start = jiffies();
        seen.push(yield* down_timeout(sem, 10), jiffies() - start, sem.wait_list.length);
        yield* up(sem);
        seen.push(yield* down_timeout(sem, 10), sem.count);
      }),
    { cpus: 1 },
  );
  assert.equal(seen, [-ETIME, 10, 0, 0, 0]);
  assert.is(ETIME, 62);
});

test("6.1: down() in a tasklet is reported by might_sleep at kernel/locking/semaphore.c:58 though it does not sleep; 2.6.34 has no check there", () => {
  const body = () =>
    Effect.gen(function* () {
      const sem = DEFINE_SEMAPHORE("sem", 1);
      const t = tasklet_init(function* rx_action() {
        yield* down(sem);
        yield* up(sem);
      }, null);
      yield* tasklet_schedule(t);
      yield* msleep(1); // ksoftirqd/0 runs the tasklet
    });
  const r6 = inTask(body, { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 64 } });
  // Serving a softirq in ksoftirqd/0 (pid 1): preempt_count SOFTIRQ_OFFSET (0x100), interrupts on.
  assert.equal(r6.reports.map((x) => x.text.split("\n")), [
    [
      "BUG: sleeping function called from invalid context at kernel/locking/semaphore.c:58",
      "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1, name: ksoftirqd/0",
      "preempt_count: 100, expected: 0",
      "RCU nest depth: 0, expected: 0",
      "no locks held by ksoftirqd/0/1.",
      "CPU: 0 PID: 1 Comm: ksoftirqd/0 Not tainted 6.1.0-mmsim #1",
      "Call Trace:",
      " <TASK>",
      " __might_resched",
      " __might_sleep",
      " down",
      " rx_action",
      " tasklet_action",
      " __do_softirq",
      " run_ksoftirqd",
      " kthread",
      " </TASK>",
    ],
  ]);
  const r26 = inTask(body, { cpus: 1, memory: { arch: "i386", kernel: "2.6", mb: 64 } });
  assert.equal(r26.reports, []);
});

test("6.1: down() under a spinlock: in_atomic, the held lock, preempt_count 1", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const sem = DEFINE_SEMAPHORE("cfg_sem", 1);
        const l = DEFINE_SPINLOCK("cfg_lock");
        yield* spin_lock(l);
        yield* down(sem);
        yield* up(sem);
        yield* spin_unlock(l);
      }),
    { cpus: 1, memory: { arch: "i386", kernel: "6", mb: 64 } },
  );
  assert.equal(r.reports[0]!.text.split("\n").slice(0, 6), [
    "BUG: sleeping function called from invalid context at kernel/locking/semaphore.c:58",
    "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 3, name: t",
    "preempt_count: 1, expected: 0",
    "RCU nest depth: 0, expected: 0",
    "1 lock held by t/3:",
    " #0:  (cfg_lock){....}, at: spin_lock",
  ]);
});

test("down() with nobody to up(): the task is hung in D state (the hung-task report at 120 s)", () => {
  const r = inTask(
    () =>
      Effect.gen(function* () {
        yield* down(DEFINE_SEMAPHORE("sem", 0));
      }),
    { cpus: 1 },
  );
  assert.equal(r.reports.map((x) => x.text.split("\n")), [
    [
      "INFO: task t:2 blocked for more than 120 seconds.",
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      "t               D     2",
      " schedule",
      " schedule_timeout",
      " __down",
      " down",
      " threadfn",
      " kthread",
    ],
  ]);
});

test.run();
