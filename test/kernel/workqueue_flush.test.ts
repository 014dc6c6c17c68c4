// flush_work() on a delayed work whose timer is still pending: it is on no pool's list (6.1's
// start_flush_work finds no pwq and returns false at once; flush_delayed_work is the call that
// waits for it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { INIT_DELAYED_WORK, flush_work, kthread_run, schedule_delayed_work } from "../../src/kernel/index.ts";
import { run, inline } from "../helpers.ts";

const K6 = { cpus: 2, memory: { arch: "x86_64", kernel: "6", mb: 64 } } as const;

test("flush_work() of a delayed work whose timer is pending returns false at once", () => {
  const st = { flushed: null as boolean | null, ran: 0 };
  const r = run(inline(() => {
    const dw = INIT_DELAYED_WORK(function* slow_fn() { st.ran++; }, "&dev->dwork");
    kthread_run(function* t() {
      schedule_delayed_work(dw, 100);
      st.flushed = yield* flush_work(dw.work);
    }, null, "t");
  }, K6));
  assert.equal(r.reports, []);
  assert.is(st.flushed, false);
});

test.run();
