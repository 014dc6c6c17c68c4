// refcount_t (6.1's lib/refcount.c): normal use is silent; an underflow, an addition on 0 and a
// refcount_dec() to 0 saturate the count at REFCOUNT_SATURATED (INT_MIN / 2) and warn once per
// kind, at the lines 6.1's REFCOUNT_WARN()s sit on (28, 25, 31).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask, reportText } from "../helpers.ts";
import { REFCOUNT_INIT, REFCOUNT_SATURATED, refcount_dec, refcount_dec_and_test, refcount_inc, refcount_inc_not_zero, refcount_read } from "../../src/kernel/index.ts";

const M6 = { cpus: 1, memory: { arch: "x86_64", kernel: "6", mb: 64 } } as const;

test("get and put to zero: dec_and_test is true once, inc_not_zero refuses a dead object, nothing reported", () => {
  const seen: (number | boolean)[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const ref = REFCOUNT_INIT(1);
        yield* refcount_inc(ref);
        seen.push(refcount_read(ref), yield* refcount_dec_and_test(ref), yield* refcount_dec_and_test(ref), yield* refcount_inc_not_zero(ref), refcount_read(ref));
      }),
    M6,
  );
  assert.equal(seen, [2, false, true, false, 0]);
  assert.equal(r.reports, []);
});

test("a put too many: 'refcount_t: underflow; use-after-free.' at lib/refcount.c:28, the count saturated, the warning once", () => {
  const seen: (number | boolean)[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        const ref = REFCOUNT_INIT(1);
        seen.push(yield* refcount_dec_and_test(ref)); // the last reference: true, 0
        seen.push(yield* refcount_dec_and_test(ref)); // 0 - 1 < 0: underflow, saturated
        seen.push(refcount_read(ref));
        seen.push(yield* refcount_dec_and_test(ref)); // still negative: the same kind, no second warning
        yield* refcount_inc(REFCOUNT_INIT(0)); // another kind: addition on 0
      }),
    M6,
  );
  assert.equal(seen, [true, false, REFCOUNT_SATURATED, false]);
  assert.equal(r.reports.map((x) => [x.kind, x.title]), [
    ["refcount", "refcount_t: underflow; use-after-free."],
    ["refcount", "refcount_t: addition on 0; use-after-free."],
  ]);
  const lines = reportText(r, "refcount")[0]!.split("\n");
  // One CPU: ksoftirqd/0 is pid 1, kswapd0 2, the task 3.
  assert.equal(lines.slice(0, 3), ["------------[ cut here ]------------", "refcount_t: underflow; use-after-free.", "WARNING: CPU: 0 PID: 3 at lib/refcount.c:28 refcount_warn_saturate"]);
  const trace = lines.slice(3).join("\n");
  assert.match(trace, /refcount_warn_saturate\n.*refcount_sub_and_test\n.*threadfn/s);
  assert.match(reportText(r, "refcount")[1]!, /\nWARNING: CPU: 0 PID: 3 at lib\/refcount\.c:25 refcount_warn_saturate\n/);
});

test("refcount_dec() dropping the last reference leaks the object (line 31); 2.6.34's WARN order on a 2.6 machine", () => {
  const r = inTask(() => refcount_dec(REFCOUNT_INIT(1)), { cpus: 1 });
  assert.equal(reportText(r, "refcount")[0]!.split("\n").slice(0, 3), [
    "------------[ cut here ]------------",
    "WARNING: at lib/refcount.c:31 refcount_warn_saturate()",
    "refcount_t: decrement hit 0; leaking memory.",
  ]);
});

test.run();
