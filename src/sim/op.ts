// Operations the engine runs directly. An Op is an Effect (it can be yielded with `yield*`, passed
// to Effect.flatMap, run by any fiber) whose work is a plain method, `run()`, called at the point
// where the program reaches it. `run()` returns the op's value, or PARK to end the step there (an
// interleaving point), or BECOME to continue as another effect. On a PARK the op has said what
// the context resumes with (`this.resume_with`: itself, to run again in its next phase, or an
// Exit carrying its value).
//
// Two ways to run them, chosen once at load (src/sim/effect_internals.ts):
// - fast: the op is an Effect primitive of its own (its prototype is Effect's, its evaluate is
//   `run()`), stepped by the engine's trampoline (stepper.ts) without a fiber suspension, and it
//   is its own single-shot iterator, so `yield* op` allocates nothing more;
// - fibers: when the Effect runtime in use does not have the internals the fast path relies on,
//   an op is wrapped in public API (Effect.suspend, a park with Effect.callback) and contexts run
//   as ordinary fibers resumed by the engine. Slower, same behaviour; a test runs both and
//   compares trace hashes.
import * as Effect from "effect/Effect";
import { FAST, EVALUATE, IDENTIFIER, YIELD, primitiveProto } from "./effect_internals.ts";

/** `run()`'s return value that ends the step: the context parks and resumes with `resume_with`. */
export const PARK: unique symbol = Symbol("mmsim/park");
/** `run()`'s return value that continues with `resume_with` at once (a tail call, no park). */
export const BECOME: unique symbol = Symbol("mmsim/become");

/** The engine's note that a context parked at an op (fiber._yielded). */
export const PARKED = (): void => {};

/** The single-shot iterator result an op hands to `yield*` (read at once by the generator). */
const RESULT: { value: unknown; done: boolean } = { value: undefined, done: false };

export interface OpFields {
  /** Fast path: where `yield*` stands (0 before the op is yielded, 1 after). */
  it: number;
  /** What a parked context resumes with, or the effect a BECOME continues as. */
  resume_with: unknown;
}

/** An op: its fields and its work (a subclass of OpClass defines `run()`). */
export interface OpBase extends OpFields {
  run(): unknown;
}

/** A fiber as an op's evaluate sees it (Effect's FiberImpl). */
interface FiberLike {
  _yielded: unknown;
  /** What the context resumes with (read by the stepper). */
  mmsim_next: unknown;
  succeedWith(value: unknown): unknown;
}

function evaluateOp(this: OpBase, fiber: FiberLike): unknown {
  const r = this.run();
  if (r === PARK) {
    fiber.mmsim_next = this.resume_with;
    fiber._yielded = PARKED;
    return YIELD;
  }
  if (r === BECOME) return this.resume_with;
  return fiber.succeedWith(r);
}

function opIterator(this: OpBase): OpBase {
  this.it = 0;
  return this;
}

function opNext(this: OpBase, v: unknown): typeof RESULT {
  if (this.it === 0) {
    this.it = 1;
    RESULT.value = this;
    RESULT.done = false;
  } else {
    RESULT.value = v;
    RESULT.done = true;
  }
  return RESULT;
}

/**
 * The base of every op class. On the fast path its prototype chain reaches Effect's primitive
 * prototype, so an op is an Effect to every combinator; with fibers it is a plain object that
 * `op()` wraps.
 */
export const OpClass: abstract new () => OpFields = (function () {
  const Base = function (this: OpBase) {
    this.it = 0;
    this.resume_with = undefined;
  } as unknown as abstract new () => OpFields;
  if (FAST) {
    const proto = Object.create(primitiveProto) as Record<PropertyKey, unknown>;
    proto[IDENTIFIER] = "mmsim/Op";
    proto[EVALUATE] = evaluateOp;
    proto[Symbol.iterator] = opIterator;
    proto.next = opNext;
    (Base as unknown as { prototype: unknown }).prototype = proto;
  }
  return Base;
})();

/** The context's callback when an op parks on the fibers path (stepper.ts takes it). */
export const parkedCallback = { resume: null as ((eff: Effect.Effect<unknown>) => void) | null };

const CALLBACK_PARK: Effect.Effect<void> = Effect.callback<void>((resume) => {
  parkedCallback.resume = resume as (eff: Effect.Effect<unknown>) => void;
});

/** The fibers path: an op as public-API Effect code with the same steps. */
function asEffect<A>(o: OpBase): Effect.Effect<A> {
  const go = (): Effect.Effect<A> => {
    const r = o.run();
    if (r === BECOME) return o.resume_with as Effect.Effect<A>;
    if (r !== PARK) return Effect.succeed(r as A);
    return Effect.flatMap(CALLBACK_PARK, () => (o.resume_with === o ? go() : (o.resume_with as Effect.Effect<A>)));
  };
  return Effect.suspend(go);
}

/** An op as the Effect kernel code returns: itself on the fast path, wrapped on the fibers path. */
export const op: <A>(o: OpBase) => Effect.Effect<A> = FAST ? (o) => o as unknown as Effect.Effect<never> : asEffect;

const VOID_EXIT: Effect.Effect<void> = Effect.void;

class ParkOp extends OpClass {
  run(): unknown {
    this.resume_with = VOID_EXIT;
    return PARK;
  }
}

/** An interleaving point and nothing else: the step ends here; the context resumes with void. */
export const park = (): Effect.Effect<void> => op(new ParkOp());
