// The deferred-work scenarios: tasklet-sleep (GFP_KERNEL in a tasklet, fixed with a work item) and
// del-timer-sync-lock (del_timer_sync under the lock its callback takes, fixed by stopping the
// timer after unlocking): each bug reports as Linux would, on every seed, and its twin never does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const scn = (name: string) => findScenario(name)!;
const logline = (r: ReturnType<typeof runScenario>, re: RegExp) => r.log.map((l) => re.exec(l)).find((m) => m !== null);

test("tasklet-sleep: kmalloc(GFP_KERNEL) in the tasklet is might_sleep's report; the fixed driver's work item allocates in events/0", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const bad = runScenario(scn("tasklet-sleep"), { seed });
    assert.is(bad.failed, false, bad.expectations.join("; ")); // the report is expected
    assert.equal(bad.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at mm/slab.c:3101"]);
    assert.match(bad.reports[0]!.text, /\nin_atomic\(\): 1, irqs_disabled\(\): 0, pid: 0, name: swapper\/0\n/);
    assert.match(bad.reports[0]!.text, /\n __might_sleep\n __kmalloc\n rx_action\n tasklet_action\n __do_softirq\n/);
    const ok = runScenario(scn("tasklet-sleep-fixed"), { seed });
    assert.is(ok.failed, false, ok.expectations.join("; "));
    assert.equal(ok.reports, []);
    // Every packet got a buffer: the pool (16, refilled below 8) never ran dry at 20000 packets/s.
    const m = logline(ok, /tasklet-sleep-fixed: (\d+) packets, (\d+) buffers, (\d+) dropped, (\d+) refills/)!;
    assert.is(m[2], m[1], `seed ${seed}`);
    assert.is(m[3], "0", `seed ${seed}`);
  }
});

test("del-timer-sync-lock: lockdep's circular dependency on every seed, a lockup on some; the fixed twin is clean", () => {
  let lockups = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const bad = runScenario(scn("del-timer-sync-lock"), { seed });
    assert.is(bad.failed, false, bad.expectations.join("; "));
    assert.is(bad.reports[0]!.title, "[ INFO: possible circular locking dependency detected ]");
    assert.match(bad.reports[0]!.text, /\nifdown\/4 is trying to acquire lock:\n \(&priv->watchdog\)\{\+\.-\.\.\.\}, at: ifdown\n\nbut task is already holding lock:\n \(&priv->lock\)\{\+\.-\.\.\.\}, at: ifdown\n/);
    if (bad.reports.length > 1) {
      lockups++;
      assert.equal(bad.reports.slice(1).map((x) => x.text.split("\n")[1]), ["deadlock: ifdown waits for &priv->watchdog, local-timer waits for &priv->lock", "deadlock: ifdown waits for &priv->watchdog, local-timer waits for &priv->lock"]);
    }
    const ok = runScenario(scn("del-timer-sync-lock-fixed"), { seed });
    assert.is(ok.failed, false, ok.expectations.join("; "));
    assert.equal(ok.reports, []);
  }
  assert.ok(lockups > 0, "no seed of 1..30 deadlocked");
});

test.run();
