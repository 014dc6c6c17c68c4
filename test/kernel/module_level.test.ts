// Kernel objects made outside a run (at a scenario module's top level, as Linux's DEFINE_*
// macros make them) start every run as they were made: a run that leaves one taken, completed,
// queued or waited on changes nothing in the next run of the process (a sweep's, a test's).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { seqcount_init, write_seqcount_begin, read_seqcount_begin, DEFINE_SEMAPHORE, down, init_completion, complete, wait_for_completion, call_rcu, rcu_head, msleep, kthread_run, DECLARE_WAIT_QUEUE_HEAD, wait_event_timeout } from "../../src/kernel/index.ts";
import { run, inline } from "../helpers.ts";

const sem = DEFINE_SEMAPHORE("mod_sem", 1);
const done = init_completion("mod_done");
const head = new rcu_head();
const wq = DECLARE_WAIT_QUEUE_HEAD("mod_wq");
const seq = seqcount_init("mod_seq");

/** Takes the semaphore and never gives it back; completes once and waits once; leaves an RCU callback queued; leaves a waiter on the wait queue's list by timing out. */
const leaves = inline(() => {
  kthread_run(function* taker() {
    yield* down(sem);
    complete(done);
    yield* wait_for_completion(done);
    yield* call_rcu(head, function* cb() {});
    yield* wait_event_timeout(wq, () => false, 1);
    // A reader first (an odd count left by the last run would make it spin), then a write section never ended.
    yield* read_seqcount_begin(seq);
    write_seqcount_begin(seq);
    yield* msleep(1);
  }, null, "taker");
});

test("a semaphore, a completion, an rcu_head, a wait queue and a seqcount made at module level start each run afresh", () => {
  const a = run(leaves, { seed: 1 });
  const b = run(leaves, { seed: 1 });
  assert.is(a.stop, "done");
  assert.is(b.stop, "done", "the second run's down() finds the semaphore free again");
  assert.equal(b.reports, []);
  assert.is(b.traceHash, a.traceHash);
});

test.run();
