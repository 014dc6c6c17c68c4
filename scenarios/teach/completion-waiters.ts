// complete() wakes one waiter, complete_all() every one (2 CPUs, kernel 2.6). A NIC driver loads
// its firmware in a thread of its own at probe time and signals &priv->fw_done when the card is
// ready; the two ports' open paths (eth0's and eth1's, one on each CPU) wait_for_completion() on
// it before they touch the card.
// - completion-two-waiters: the loader signals with complete(), which lets one waiter through
//   (done goes to 1, and the first waiter in the completion's queue takes it back to 0): eth1's
//   open, which waited first (its CPU was idle; eth0's had the loader to run first), opens; eth0's
//   sleeps in D state for ever, and the hung-task detector reports "INFO: task open/eth0:4
//   blocked for more than 120 seconds." (expected) with its backtrace through
//   wait_for_completion, on every seed. A completion counts complete()s: it is not a flag.
// - completion-two-waiters-fixed: the loader signals with complete_all(), for every waiter now
//   and every later one (a port opened after the firmware is up does not sleep at all). Both
//   ports open on every seed.
import { defineScenario, type Scenario } from "../../src/harness/scenario.ts";
import { complete, complete_all, init_completion, kthread_run, msleep, printk, udelay, wait_for_completion } from "../../src/kernel/index.ts";

/** How long the firmware takes to load (ms). */
const FW_LOAD_MS = 5;

interface State {
  /** Ports opened, in the order they opened. */
  readonly opened: string[];
  fw_loaded: boolean;
}

function completion_waiters(name: string, fixed: boolean): Scenario<State> {
  return defineScenario({
    name,
    description: fixed
      ? "the firmware loader signals its two waiters with complete_all(): both ports open"
      : "one complete() for two wait_for_completion() callers: the second sleeps for ever (hung task)",
    machine: { cpus: 2 },
    expected_reports: fixed ? [] : ["hung_task"],
    setup() {
      const st: State = { opened: [], fw_loaded: false };
      const fw_done = init_completion("&priv->fw_done");

      kthread_run(
        function* fw_loader(_: null) {
          yield* msleep(FW_LOAD_MS); // request_firmware(), then copy it to the card
          yield* udelay(100); // start the card's CPU
          st.fw_loaded = true;
          if (fixed) complete_all(fw_done);
          else complete(fw_done); // wrong: wakes one waiter, and there are two
        },
        null,
        "fw_loader",
        { cpus: [0] },
      );
      /** ndo_open(): waits for the firmware, then brings the port up. */
      function* port_open(port: string) {
        yield* wait_for_completion(fw_done);
        yield* udelay(20); // reset the port's PHY, enable its rings
        st.opened.push(port);
      }
      for (const [port, cpu] of [["eth0", 0], ["eth1", 1]] as const) kthread_run(port_open, port, `open/${port}`, { cpus: [cpu] });
      return st;
    },
    check(st, expect) {
      printk(`${name}: firmware ${st.fw_loaded ? "loaded" : "not loaded"}, opened: ${st.opened.join(" ") || "none"}`);
      expect.that(st.fw_loaded, "the firmware was not loaded");
      expect.equal(st.opened.length, 2, "ports opened");
    },
  });
}

export const completionTwoWaiters = completion_waiters("completion-two-waiters", false);
export const completionTwoWaitersFixed = completion_waiters("completion-two-waiters-fixed", true);
