// What the engine's fast path needs of Effect's runtime internals, found and checked once at load.
// effect 4.1 represents an Effect as a primitive object whose prototype carries its evaluate
// method under the string key "~effect/Effect/evaluate" and its name under
// "~effect/Effect/identifier"; a fiber (FiberImpl) evaluates primitives against itself, keeps its
// continuation stack in `_stack`, and a primitive that suspends stores a note in `_yielded` and
// returns the symbol "effect/Effect/Yield". None of this is exported API, so it is probed here
// with the public API: if any part is missing (another effect version), FAST is false and the
// engine runs every context as an ordinary fiber instead (slower, same behaviour), and
// test/sim/stepper.test.ts fails loudly so that the pinned range gets looked at. Probed: the
// evaluate, identifier, success- and failure-continuation keys; FiberImpl's constructor, its
// _stack, _yielded, _asyncContext, _children, _observers, _exit and _deferredInterrupt fields and its succeedWith, getCont,
// yieldWith, evaluate and addObserver methods; the Yield symbol; the current-fiber global; an
// Effect.gen body as an "Iterator" primitive with its generator in .iterator.
//
// Setting globalThis[Symbol.for("mmsim.engine")] = "fibers" before the simulator loads forces the
// fibers path (the tests compare both).
import * as Effect from "effect/Effect";

export const EVALUATE = "~effect/Effect/evaluate";
export const IDENTIFIER = "~effect/Effect/identifier";
/** A frame's success continuation (an Effect.gen body's is "next value to the generator"). */
export const CONT_A = "~effect/Effect/successCont";
/** A frame's failure continuation (a catch's handler). */
export const CONT_E = "~effect/Effect/failureCont";
export const YIELD: symbol = Symbol.for("effect/Effect/Yield");
/** Where Effect keeps the fiber that is running (read by forEach, Scope and Semaphore). */
export const CURRENT_FIBER = "~effect/Fiber/currentFiber";

interface Probe {
  readonly ok: boolean;
  readonly why: string;
  readonly proto: object;
  readonly fiberCtor: (new (context: unknown, interruptible: boolean) => unknown) | null;
}

function probe(): Probe {
  const fail = (why: string): Probe => ({ ok: false, why, proto: {}, fiberCtor: null });
  try {
    const sync = Effect.sync(() => 1) as unknown as Record<string, unknown>;
    const proto = Object.getPrototypeOf(sync) as Record<string, unknown>;
    if (typeof proto[EVALUATE] !== "function") return fail(`no "${EVALUATE}" method on a primitive`);
    if (proto[IDENTIFIER] !== "Sync") return fail(`"${IDENTIFIER}" of Effect.sync is ${String(proto[IDENTIFIER])}, not "Sync"`);
    const fiber = Effect.runFork(Effect.void) as unknown as Record<string, unknown>;
    for (const m of ["succeedWith", "getCont", "yieldWith", "evaluate"]) {
      if (typeof fiber[m] !== "function") return fail(`a fiber has no ${m}() method`);
    }
    if (!Array.isArray(fiber._stack)) return fail("a fiber has no _stack array");
    if (typeof fiber.addObserver !== "function") return fail("a fiber has no addObserver() method");
    for (const field of ["_yielded", "_asyncContext", "_children", "_observers", "_exit"]) if (!(field in fiber)) return fail(`a fiber has no ${field} field`);
    if (typeof fiber._deferredInterrupt !== "boolean") return fail("a fiber has no _deferredInterrupt flag");
    // The global Effect's forEach, Scope and Semaphore read the running fiber from.
    const current = Effect.runSync(Effect.withFiber((fb) => Effect.succeed((globalThis as unknown as Record<string, unknown>)[CURRENT_FIBER] === fb)));
    if (current !== true) return fail(`the running fiber is not in globalThis["${CURRENT_FIBER}"]`);
    if (typeof (Effect.map(Effect.void, () => 1) as unknown as Record<string, unknown>)[CONT_A] !== "function") return fail(`Effect.map has no "${CONT_A}"`);
    if (typeof (Effect.catchCause(Effect.void, () => Effect.void) as unknown as Record<string, unknown>)[CONT_E] !== "function") return fail(`Effect.catchCause has no "${CONT_E}"`);
    // Evaluate a small program the way the stepper will, and check the result.
    const Ctor = (fiber as { constructor: new (c: unknown, i: boolean) => Record<string, unknown> }).constructor;
    const f = new Ctor(fiber.context, true);
    // An Effect.gen body: a Suspend whose evaluation is an "Iterator" primitive holding the generator.
    const gen = Effect.gen(function* () {}) as unknown as Record<string, (this: unknown, f: unknown) => Record<string, unknown>>;
    const iter = gen[EVALUATE]!.call(gen, f);
    if (iter[IDENTIFIER] !== "Iterator" || typeof (iter.iterator as { next?: unknown } | undefined)?.next !== "function") return fail("an Effect.gen body is not an Iterator primitive with its generator in .iterator");
    let cur = Effect.map(Effect.succeed(20), (n) => n + 22) as unknown as Record<string, unknown>;
    for (let i = 0; i < 100; i++) {
      const next = (cur[EVALUATE] as (this: unknown, f: unknown) => unknown).call(cur, f);
      if (next === YIELD) {
        const y = f._yielded as { _tag?: string; value?: unknown } | undefined;
        if (y?._tag === "Success" && y.value === 42) return { ok: true, why: "", proto, fiberCtor: Ctor as Probe["fiberCtor"] };
        return fail(`evaluating Effect.map(succeed(20), +22) ended with ${String(y?._tag)}`);
      }
      cur = next as Record<string, unknown>;
    }
    return fail("evaluating Effect.map(succeed(20), +22) did not end");
  } catch (e) {
    return fail(`probe threw ${String(e)}`);
  }
}

const forced = (globalThis as { [k: symbol]: unknown })[Symbol.for("mmsim.engine")] === "fibers";
const found = probe();

/** The fast path is on: the runtime has what the stepper needs and nobody forced fibers. */
export const FAST: boolean = found.ok && !forced;
/** Why the fast path is off (empty when it is on or was switched off on purpose). */
export const FAST_MISSING: string = found.why;
/** The prototype ops inherit from on the fast path (Effect's Sync primitive's). */
export const primitiveProto: object = found.proto;
/** Effect's FiberImpl, to make the fibers the stepper drives. */
export const FiberCtor = found.fiberCtor;
