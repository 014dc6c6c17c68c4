// The stepper and ops without a kernel: a program runs from park to park, an op value may be
// yielded again and by several programs at once, Effect's combinators and error channel work
// across parks, a throw becomes a defect, and Effect work a program starts runs on the run's
// scheduler only when it is flushed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import { Stepper, fiberContext } from "../../src/sim/stepper.ts";
import { OpClass, PARK, op, park, type Activation } from "../../src/sim/op.ts";
import { SimScheduler } from "../../src/sim/scheduler.ts";
import { FAST, FAST_MISSING } from "../../src/sim/effect_internals.ts";

const sched = new SimScheduler();
const ctx = fiberContext(sched);

/** Steps `program` until it ends; the exit and how many steps it took. */
function runToEnd<A>(program: Effect.Effect<A>): { exit: Exit.Exit<A, unknown>; steps: number; log: string[] } {
  let exit: Exit.Exit<A, unknown> | undefined;
  const s = new Stepper(program as Effect.Effect<void>, ctx, (e) => (exit = e as Exit.Exit<A, unknown>));
  let steps = 0;
  while (exit === undefined) {
    assert.ok(s.ready(), "the program is parked at an op between steps");
    s.step();
    sched.flush();
    steps++;
    if (steps > 1000) throw new Error("does not end");
  }
  return { exit, steps, log: [] };
}

/** An op that parks `n` times, counting in `act.n`, and returns how many times it ran. */
class Parks extends OpClass {
  constructor(readonly n: number) {
    super();
  }
  run(act: Activation): unknown {
    if (act.phase === 0) {
      act.phase = 1;
      act.n = 0;
    } else act.n++;
    return act.n < this.n ? PARK : act.n;
  }
}
const parks = (n: number): Effect.Effect<number> => op(new Parks(n));

test("the fast path is on with the effect version installed", () => {
  assert.is(FAST_MISSING, "");
  assert.is(FAST, true);
});

test("a program runs from park to park: each park ends a step", () => {
  const r = runToEnd(
    Effect.gen(function* () {
      yield* park();
      const a = yield* parks(3);
      yield* park();
      return a + 1;
    }),
  );
  // Five parks (one, three inside `parks`, one), so six steps: the last runs to the end.
  assert.is(r.steps, 6);
  assert.equal(r.exit, Exit.succeed(4));
});

test("one op value yielded again, and by two programs at once, keeps each program's own state", () => {
  const shared = parks(2);
  const prog = Effect.gen(function* () {
    const a = yield* shared;
    const b = yield* shared;
    return a + b;
  });
  let ea: Exit.Exit<number, unknown> | undefined;
  let eb: Exit.Exit<number, unknown> | undefined;
  const a = new Stepper(prog as Effect.Effect<void>, ctx, (e) => (ea = e as Exit.Exit<number, unknown>));
  const b = new Stepper(prog as Effect.Effect<void>, ctx, (e) => (eb = e as Exit.Exit<number, unknown>));
  // Interleave: a, b, a, b, ... each parked inside the same op object.
  for (let i = 0; i < 10 && (ea === undefined || eb === undefined); i++) {
    if (ea === undefined) a.step();
    if (eb === undefined) b.step();
  }
  assert.equal(ea, Exit.succeed(4));
  assert.equal(eb, Exit.succeed(4));
});

test("Effect combinators and the error channel work across parks", () => {
  const order: string[] = [];
  const r = runToEnd(
    Effect.gen(function* () {
      const xs = yield* Effect.forEach([1, 2, 3], (x) => Effect.map(parks(x), (n) => n * 10));
      const caught = yield* Effect.catch(
        Effect.flatMap(park(), () => Effect.fail("boom")),
        (e) => Effect.succeed(`caught ${e}`),
      );
      yield* Effect.ensuring(
        Effect.flatMap(park(), () => Effect.sync(() => void order.push("body"))),
        Effect.sync(() => void order.push("finalizer")),
      );
      return [xs, caught];
    }),
  );
  assert.equal(r.exit, Exit.succeed([[10, 20, 30], "caught boom"]));
  assert.equal(order, ["body", "finalizer"]);
});

test("a throw inside a program is a defect of its exit, as Effect's own run loop makes it", () => {
  const err = new Error("scenario bug");
  const r = runToEnd(
    Effect.gen(function* () {
      yield* park();
      throw err;
    }),
  );
  assert.ok(Exit.isFailure(r.exit));
  assert.is(Exit.isFailure(r.exit) && r.exit.cause.reasons[0]?._tag, "Die");
});

test("Effect work a program forks runs when the scheduler is flushed, not before", () => {
  const seen: string[] = [];
  let exit: Exit.Exit<void, unknown> | undefined;
  const s = new Stepper(
    Effect.gen(function* () {
      yield* Effect.forkChild(Effect.sync(() => void seen.push("child")));
      seen.push("parent");
      yield* park();
    }),
    ctx,
    (e) => (exit = e),
  );
  s.step();
  assert.equal(seen, ["parent"]);
  sched.flush();
  assert.equal(seen, ["parent", "child"]);
  s.step();
  assert.ok(exit !== undefined && Exit.isSuccess(exit));
});

test.run();
