// A seqlock reader without the retry loop: a driver's receive path counts packets and bytes
// under a seqlock (write_seqlock, two stores, write_sequnlock); its get_stats() takes the count
// with read_seqbegin() and reads the pair, but never asks read_seqretry() whether a writer came
// in meanwhile. Most snapshots are whole; when the receive path's update lands between the
// reader's two loads, the snapshot pairs the new packet count with the old byte count (a torn
// read). read_seqbegin() alone does not help: it only waits while a writer is inside, it cannot
// know about one that starts after it. Fixed: do { ... } while (read_seqretry(...)).
import * as Effect from "effect/Effect";
import { defineScenario } from "../../src/harness/scenario.ts";
import { DEFINE_SEQLOCK, READ_ONCE, WRITE_ONCE, kthread_run, read_seqbegin, read_seqretry, shared, udelay, write_seqlock, write_sequnlock } from "../../src/kernel/index.ts";
import { bug_pair } from "./pair.ts";

const PACKETS = 16;
const SNAPSHOTS = 16;
const MTU = 1500;

export default bug_pair("bug-seqlock-no-retry", "a seqlock reader that takes read_seqbegin() but never loops on read_seqretry()", "expectation", (name, fixed) =>
  defineScenario({
    name,
    description: fixed
      ? "get_stats() loops on read_seqretry(): every snapshot of the packet and byte counts is whole"
      : "get_stats() reads the packet and byte counts after read_seqbegin() without read_seqretry(): rare torn snapshots",
    machine: { cpus: 2 },
    setup() {
      const stats_lock = DEFINE_SEQLOCK("&priv->stats_lock");
      const packets = shared(0);
      const bytes = shared(0);
      const torn: string[] = [];
      kthread_run(
        function* rx_poll(_: null) {
          for (let i = 1; i <= PACKETS; i++) {
            yield* udelay(40); // the rest of the packet's processing
            yield* write_seqlock(stats_lock);
            yield* WRITE_ONCE(packets, i);
            yield* WRITE_ONCE(bytes, i * MTU);
            yield* write_sequnlock(stats_lock);
          }
        },
        null,
        "rx_poll",
        { cpus: [1] },
      );
      kthread_run(
        function* get_stats(_: null) {
          for (let i = 0; i < SNAPSHOTS; i++) {
            yield* udelay(37); // the caller's work between two reads of the statistics
            let p: number;
            let b: number;
            let seq: number;
            do {
              seq = yield* read_seqbegin(stats_lock);
              p = yield* READ_ONCE(packets);
              b = yield* READ_ONCE(bytes);
            } while (fixed && (yield* read_seqretry(stats_lock, seq)) !== 0);
            if (b !== p * MTU) torn.push(`packets=${p} bytes=${b}`);
          }
        },
        null,
        "get_stats",
        { cpus: [0] },
      );
      return { torn };
    },
    check(st, expect) {
      expect.that(st.torn.length === 0, `torn statistics snapshots (packets and bytes from different updates): ${st.torn.join(", ")}`);
    },
  }),
);
