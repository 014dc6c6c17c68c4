// atomic_xchg/atomic_cmpxchg, xchg/cmpxchg on a shared variable, the bit operations on a
// DECLARE_BITMAP and the barriers: values as Linux's definitions give them, each atomic an
// interleaving point costing a step (50 ns) and a locked instruction (20 ns).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../helpers.ts";
import {
  ATOMIC_INIT, DECLARE_BITMAP, READ_ONCE, __clear_bit, __set_bit, __test_and_set_bit, atomic_cmpxchg, atomic_dec_return, atomic_inc_and_test, atomic_read,
  atomic_sub_and_test, atomic_xchg, barrier, bitmap_weight, change_bit, clear_bit, cmpxchg, find_first_bit, find_first_zero_bit, find_next_bit,
  for_each_set_bit, kthread_run, ktime_get_ns, set_bit, shared, smp_mb, smp_rmb, smp_wmb, test_and_change_bit, test_and_clear_bit, test_and_set_bit,
  test_bit, udelay, xchg,
} from "../../src/kernel/index.ts";
import { inline, run } from "../helpers.ts";

test("atomic_xchg returns the old value and stores the new; atomic_cmpxchg stores only on a match and returns what it found", () => {
  const seen: unknown[] = [];
  const r = inTask(() =>
    Effect.gen(function* () {
      const v = ATOMIC_INIT(5);
      seen.push(yield* atomic_xchg(v, 7), atomic_read(v)); // 5, 7
      seen.push(yield* atomic_cmpxchg(v, 7, 9), atomic_read(v)); // matched: 7, 9
      seen.push(yield* atomic_cmpxchg(v, 1, 2), atomic_read(v)); // no match: 9, 9
      seen.push(yield* atomic_dec_return(v), yield* atomic_inc_and_test(ATOMIC_INIT(-1)), yield* atomic_sub_and_test(8, v)); // 8, true, true
    }),
  );
  assert.equal(seen, [5, 7, 7, 9, 9, 9, 8, true, true]);
  assert.equal(r.reports, []);
});

test("xchg/cmpxchg on a shared variable: the old value back, the store only when cmpxchg's old matches (===)", () => {
  const seen: unknown[] = [];
  inTask(() =>
    Effect.gen(function* () {
      const x = shared<string | null>("a");
      seen.push(yield* xchg(x, "b"), x.value); // "a", "b"
      seen.push(yield* cmpxchg(x, "b", "c"), x.value); // "b", "c"
      seen.push(yield* cmpxchg(x, null, "d"), x.value); // "c", "c"
    }),
  );
  assert.equal(seen, ["a", "b", "b", "c", "c", "c"]);
});

test("each atomic and set_bit costs a step and a locked instruction (70 ns); smp_mb 70, smp_rmb/smp_wmb/barrier a step (50)", () => {
  const d: number[] = [];
  inTask(() =>
    Effect.gen(function* () {
      const v = ATOMIC_INIT(0);
      const m = DECLARE_BITMAP("m", 8);
      const x = shared(0);
      // The least of three tries: a try may include an interrupt taken at the interleaving point.
      for (const eff of [atomic_xchg(v, 1), atomic_cmpxchg(v, 1, 2), xchg(x, 1), set_bit(3, m), test_and_clear_bit(3, m), smp_mb(), smp_rmb(), smp_wmb(), barrier()]) {
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
  assert.equal(d, [70, 70, 70, 70, 70, 70, 50, 50, 50]);
});

test("a bitmap of 70 bits: i386 longs (3 words), set/clear/change/test_and_* by Linux's bit numbering, find_* and the weight", () => {
  const seen: unknown[] = [];
  let words: number[] = [];
  inTask(() =>
    Effect.gen(function* () {
      const m = DECLARE_BITMAP("m", 70);
      yield* set_bit(0, m);
      yield* set_bit(33, m); // long 1, bit 1
      yield* set_bit(69, m); // long 2, bit 5
      words = [...m.words]; // [1, 2, 32]
      seen.push(yield* test_and_set_bit(33, m)); // already set: true
      seen.push(yield* test_and_clear_bit(33, m), test_bit(33, m), yield* test_and_clear_bit(33, m)); // true, false, false
      yield* change_bit(5, m); // set
      seen.push(m.words[0]); // 1 | 32 = 33
      seen.push(yield* test_and_change_bit(5, m), test_bit(5, m)); // true, false
      yield* clear_bit(0, m);
      seen.push(find_first_bit(m, 70), find_next_bit(m, 70, 70), find_first_zero_bit(m, 70), bitmap_weight(m, 70)); // 69, 70, 0, 1
      __set_bit(64, m);
      seen.push(__test_and_set_bit(64, m), [...for_each_set_bit(m, 70)]); // true, [64, 69]
      __clear_bit(64, m);
      seen.push(m.words[2]); // 32
    }),
  );
  assert.equal(words, [1, 2, 32]);
  assert.equal(seen, [true, true, false, false, 33, true, false, 69, 70, 0, 1, true, [64, 69], 32]);
});

test("on x86_64 a long is 64 bits: 70 bits take 2 longs (4 words); bit 33 is in the first long's upper word", () => {
  let words: number[] = [];
  inTask(
    () =>
      Effect.gen(function* () {
        const m = DECLARE_BITMAP("m", 70);
        yield* set_bit(33, m);
        words = [...m.words];
      }),
    { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 64 } },
  );
  assert.equal(words, [0, 2, 0, 0]);
});

test("a bit outside the bitmap is the scenario's error, named", () => {
  assert.throws(() => inTask(() => Effect.suspend(() => set_bit(8, DECLARE_BITMAP("flags", 8)))), /set_bit\(8, flags\): bit 8 is outside the bitmap's 8 bits/);
});

test("test_and_set_bit from 4 CPUs on one bit: exactly one caller finds it clear (an atomic RMW)", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const winners: number[] = [];
    run(
      inline(() => {
        const m = DECLARE_BITMAP("lock", 1);
        const go = shared(false);
        for (let c = 0; c < 4; c++)
          kthread_run(
            () =>
              Effect.gen(function* () {
                while (!(yield* READ_ONCE(go))) yield* udelay(1);
                if (!(yield* test_and_set_bit(0, m))) winners.push(c);
              }),
            null,
            `t${c}`,
            { cpus: [c] },
          );
        kthread_run(() => Effect.gen(function* () { yield* udelay(5); go.value = true; }), null, "go", { cpus: [0] });
      }, { cpus: 4 }),
      { seed },
    );
    assert.equal(winners.length, 1, `seed ${seed}`);
  }
});

test.run();
