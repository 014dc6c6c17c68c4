// Effect in a simulated context beyond the kernel's ops: a context suspended in a primitive of
// Effect's (a Deferred) and completed by another context's step goes on in a step of its own CPU;
// a forked child is interrupted when its context ends; Effect's current fiber is the context's
// own after a park; a reused interrupt context starts with DS as a new one would. The same file
// runs on the fibers path too (test/determinism.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import * as Deferred from "effect/Deferred";
import * as Fiber from "effect/Fiber";
import { inline, run } from "../helpers.ts";
import { IRQ_HANDLED, cpu_relax, current_ds, gdt_selectors, kthread_run, loadsegment, request_irq, smp_processor_id, udelay } from "../../src/kernel/index.ts";

test("a Deferred awaited on CPU0 and completed on CPU1 resumes the waiter on CPU0, in a step of its own", () => {
  const order: string[] = [];
  const scn = inline(
    () => {
      const d = Deferred.makeUnsafe<number>();
      kthread_run(
        () =>
          Effect.gen(function* () {
            const v = yield* Deferred.await(d);
            order.push(`waiter got ${v} on CPU${smp_processor_id()}`);
            yield* cpu_relax();
            order.push("waiter done");
          }),
        null,
        "waiter",
        { cpus: [0] },
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            yield* udelay(5);
            yield* Deferred.succeed(d, 42);
            order.push(`waker completed it on CPU${smp_processor_id()}`);
            yield* udelay(5);
            order.push("waker done");
          }),
        null,
        "waker",
        { cpus: [1] },
      );
    },
    { cpus: 2 },
  );
  for (const verify of [false, true]) {
    order.length = 0;
    const r = run(scn, { verify });
    assert.is(r.stop, "done");
    // The waker's step ends after it completes the Deferred; the waiter's code runs later, on CPU0.
    assert.equal(order.slice(0, 2), ["waker completed it on CPU1", "waiter got 42 on CPU0"]);
    assert.ok(order.includes("waiter done") && order.includes("waker done"));
  }
});

test("a child forked in a context is interrupted when the context ends", () => {
  const seen: string[] = [];
  const scn = inline(() => {
    kthread_run(
      () =>
        Effect.gen(function* () {
          yield* Effect.forkChild(Effect.onInterrupt(Effect.never, () => Effect.sync(() => void seen.push("child interrupted"))));
          yield* cpu_relax();
        }),
      null,
      "parent",
    );
  });
  const r = run(scn);
  assert.is(r.stop, "done");
  assert.equal(seen, ["child interrupted"]);
});

test("Effect's current fiber is the context's own after a park, whichever context stepped before", () => {
  const same: boolean[] = [];
  const scn = inline(
    () => {
      for (const cpu of [0, 1]) {
        kthread_run(
          () =>
            Effect.gen(function* () {
              const mine = yield* Effect.fiber;
              for (let i = 0; i < 5; i++) {
                yield* cpu_relax();
                same.push(Fiber.getCurrent() === mine);
              }
            }),
          null,
          `t${cpu}`,
          { cpus: [cpu] },
        );
      }
    },
    { cpus: 2 },
  );
  run(scn);
  assert.is(same.length, 10);
  assert.ok(same.every((x) => x));
});

test("an interrupt context reused for the next interrupt starts with DS as a new one: __USER_DS, whatever the last handler loaded", () => {
  const seen: number[] = [];
  const scn = inline(
    () => {
      const { __KERNEL_DS, __USER_DS } = gdt_selectors();
      request_irq(
        11,
        () =>
          Effect.sync(() => {
            seen.push(current_ds());
            loadsegment("ds", __KERNEL_DS);
            return IRQ_HANDLED;
          }),
        0,
        "eth0",
        null,
      );
      kthread_run(
        () =>
          Effect.gen(function* () {
            for (let i = 0; i < 20; i++) yield* udelay(10);
          }),
        null,
        "busy",
        { cpus: [0] },
      );
      return __USER_DS;
    },
    { cpus: 1, nics: [{ name: "eth0", irq: 11, rate: 50_000 }] },
  );
  const r = run(scn);
  assert.is(r.stop, "done");
  assert.ok(seen.length >= 3, `${seen.length} interrupts`);
  assert.equal(seen, seen.map(() => 0x7b));
});

test.run();
