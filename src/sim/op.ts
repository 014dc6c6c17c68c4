// Operations the engine runs directly. An Op is an Effect (it can be yielded with `yield*`, passed
// to Effect.flatMap, run by any fiber) whose work is a plain method, `run(act)`, called where the
// program reaches it. `run` returns the op's value, or PARK to end the step there (an interleaving
// point: the context resumes in the same op, `run` called again with `act.phase` as the op left
// it), or BECOME to continue as the effect it put in `act.x`.
//
// An op object holds only its arguments (its single-shot iterator's state is one module variable,
// which `yield*` sets and reads at once, before any other context can run), so one op value may
// be yielded again or by several contexts at once, as any Effect may: the kernel keeps one value
// of each op that takes no argument. What an op keeps across a park lives in the context's
// Activation (one per fiber, reused: a context is parked in at most one op at a time): the op,
// its phase and two scratch fields. The activation is itself what the parked context resumes
// with, so a park allocates nothing.
//
// Two ways to run them, chosen once at load (src/sim/effect_internals.ts):
// - fast: ops and activations are Effect primitives of their own (their prototype is Effect's,
//   their evaluate calls `run`), stepped by the engine's trampoline (stepper.ts) without a fiber
//   suspension; an op is its own single-shot iterator, so `yield* op` allocates nothing more;
// - fibers: when the Effect runtime in use lacks the internals the fast path relies on, an op is
//   wrapped in public API (Effect.suspend, a park with Effect.callback) and contexts run as
//   ordinary fibers resumed by the engine. Slower, same behaviour; a test compares trace hashes.
import * as Effect from "effect/Effect";
import { FAST, CONT_A, EVALUATE, IDENTIFIER, YIELD, primitiveProto } from "./effect_internals.ts";

// The sentinels are registered symbols, and PARKED one function per process, so that ops of a
// second copy of this module (a scenario file that loaded its own) still speak to this engine.

/** `run`'s return value that ends the step: the context parks inside the op. */
export const PARK: unique symbol = Symbol.for("mmsim/park");
/** `run`'s return value that continues at once as the effect in `act.x` (a tail call). */
export const BECOME: unique symbol = Symbol.for("mmsim/become");
/**
 * `run`'s return value that runs the effect in `act.x` and then resumes the op (in the phase it
 * set, with `act.i`, `act.n`, `act.m` and `act.y` as it left them) with the effect's value in
 * `act.x`. A failure of the effect goes past the op, as through a generator's `yield*`.
 */
export const CALL: unique symbol = Symbol.for("mmsim/call");

/** The engine's note in a fiber that it parked at an op (fiber._yielded). */
export const PARKED: () => void = ((globalThis as { [k: symbol]: () => void })[Symbol.for("mmsim/parked")] ??= () => {});

/** Where a context is inside the op it parked in. */
export interface Activation {
  op: OpBase | null;
  /** 0 when the op starts; what the op sets before a PARK or CALL when it resumes. */
  phase: number;
  /** Scratch the op keeps across parks and calls. */
  i: number;
  n: number;
  m: number;
  y: unknown;
  /** BECOME's and CALL's effect; after a CALL, its value. */
  x: unknown;
}

export interface OpBase {
  run(act: Activation): unknown;
}

/** A fiber as an op's evaluate sees it (Effect's FiberImpl), with the engine's fields. */
interface FiberLike {
  _yielded: unknown;
  readonly _stack: Record<string, unknown>[];
  readonly _deferredInterrupt: boolean;
  /** What the context resumes with (read by the stepper). */
  mmsim_next: unknown;
  mmsim_act: ActivationImpl | undefined;
  succeedWith(value: unknown): unknown;
}

/** The single-shot iterator result an op hands to `yield*` (read at once by the generator). */
const RESULT: { value: unknown; done: boolean } = { value: undefined, done: false };

function settle(act: ActivationImpl, r: unknown, fiber: FiberLike): unknown {
  for (;;) {
    if (r === PARK) {
      fiber.mmsim_next = act;
      fiber._yielded = PARKED;
      return YIELD;
    }
    if (r === CALL) {
      // The callee uses the context's activation: the op's own state waits in a stack frame.
      const callee = act.x;
      fiber._stack.push(new CallFrame(act) as unknown as Record<string, unknown>);
      act.op = null;
      act.x = undefined;
      act.y = undefined;
      return callee;
    }
    act.op = null;
    if (r === BECOME) {
      const next = act.x;
      act.x = undefined;
      return next;
    }
    act.x = undefined;
    // The op's value goes to the generator that yielded it, as Effect's Iterator frame would pass
    // it (its successCont): next(value), and its next effect is evaluated with the frame kept.
    // Done here without popping and pushing the frame back; anything else takes Effect's way.
    const stack = fiber._stack;
    const depth = stack.length;
    const top = depth > 0 ? stack[depth - 1] : undefined; // (no load at index -1: see PerCpu.top)
    if (top === undefined || top[IDENTIFIER] !== "Iterator" || fiber._deferredInterrupt) return fiber.succeedWith(r);
    fresh = null; // (a resumption: no op's yield* is starting)
    const st = (top as unknown as IteratorFrame).iterator.next(r);
    if (st.done === true) {
      stack.pop();
      return Effect.succeed(st.value);
    }
    const v = st.value as Record<string, unknown>;
    // The generator yielded an op (most of the time: known by its class without looking up a
    // property): it starts here, as its evaluate would start it, and its value goes on the same way.
    if (v instanceof OpClass) {
      const o = v as unknown as OpBase;
      act.op = o;
      act.phase = 0;
      r = o.run(act);
      continue;
    }
    // Another effect: evaluated next, the frame staying where it is.
    const id = v[IDENTIFIER];
    if (id !== "Success" && id !== "Failure") return v;
    stack.pop();
    if (id === "Failure") return v;
    // A Success exit yielded: the frame goes on with its value (its successCont loops).
    return (top[CONT_A] as (v: unknown, f: FiberLike) => unknown).call(top, v.value, fiber);
  }
}

/** Effect's Iterator primitive (an Effect.gen body being run): its generator. */
interface IteratorFrame {
  readonly iterator: Iterator<unknown, unknown, unknown>;
}

function evaluateOp(this: OpBase, fiber: FiberLike): unknown {
  let act = fiber.mmsim_act;
  if (act === undefined) act = fiber.mmsim_act = new ActivationImpl();
  act.op = this;
  act.phase = 0;
  return settle(act, this.run(act), fiber);
}

/** Resuming a parked context: the op runs again from the phase it left. */
function evaluateActivation(this: ActivationImpl, fiber: FiberLike): unknown {
  return settle(this, this.op!.run(this), fiber);
}

/** The same, called directly by the stepper (which knows the fiber's activation): no lookup of evaluate. */
export function resumeActivation(act: Activation, fiber: unknown): unknown {
  return settle(act, act.op!.run(act), fiber as FiberLike);
}

/** An op waiting for the effect it called: its state, and its resumption as a success continuation. */
interface CallFrame {
  op: OpBase;
  phase: number;
  i: number;
  n: number;
  m: number;
  y: unknown;
}

function resumeCaller(this: CallFrame, value: unknown, fiber: FiberLike): unknown {
  let act = fiber.mmsim_act;
  if (act === undefined) act = fiber.mmsim_act = new ActivationImpl();
  act.op = this.op;
  act.phase = this.phase;
  act.i = this.i;
  act.n = this.n;
  act.m = this.m;
  act.y = this.y;
  act.x = value;
  return settle(act, this.op.run(act), fiber);
}

const CallFrame = (function () {
  const F = function (this: CallFrame, act: Activation) {
    this.op = act.op!;
    this.phase = act.phase;
    this.i = act.i;
    this.n = act.n;
    this.m = act.m;
    this.y = act.y;
  } as unknown as new (act: Activation) => CallFrame;
  (F as unknown as { prototype: unknown }).prototype = { [CONT_A]: resumeCaller };
  return F;
})();

/**
 * The op whose iterator `yield*` has just asked for and not yet stepped (null otherwise).
 * `yield* op` calls op[Symbol.iterator]() and at once op.next(): that first next() yields the op
 * itself; any later next() on it (the context resumed with the op's value) ends the `yield*`.
 * Kept here rather than in the op, so that an op value can be shared and its class's shape
 * never matters to the iterator protocol (a property of ops of many classes is a megamorphic
 * access on every `yield*`).
 */
let fresh: OpBase | null = null;

function opIterator(this: OpBase): OpBase {
  fresh = this;
  return this;
}

function opNext(this: OpBase, v: unknown): typeof RESULT {
  if (fresh === this) {
    fresh = null;
    RESULT.value = this;
    RESULT.done = false;
  } else {
    RESULT.value = v;
    RESULT.done = true;
  }
  return RESULT;
}

/** A context's activation (on the fast path an Effect primitive: what a parked context resumes with). */
export const ActivationImpl: new () => Activation = (function () {
  const A = function (this: Activation) {
    this.op = null;
    this.phase = 0;
    this.i = 0;
    this.n = 0;
    this.m = 0;
    this.y = undefined;
    this.x = undefined;
  } as unknown as new () => Activation;
  if (FAST) {
    const proto = Object.create(primitiveProto) as Record<PropertyKey, unknown>;
    proto[IDENTIFIER] = "mmsim/Resume";
    proto[EVALUATE] = evaluateActivation;
    (A as unknown as { prototype: unknown }).prototype = proto;
  }
  return A;
})();
type ActivationImpl = Activation;

/**
 * The base of every op class (a subclass defines `run`). On the fast path its prototype chain
 * reaches Effect's primitive prototype, so an op is an Effect to every combinator; with fibers
 * it is a plain object that `op()` wraps.
 */
export const OpClass: abstract new () => object = (function () {
  const Base = function (this: OpBase) {} as unknown as abstract new () => object;
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
  return Effect.suspend(() => {
    const act = new ActivationImpl();
    act.op = o;
    const go = (): Effect.Effect<A> => {
      const r = o.run(act);
      if (r === PARK) return Effect.flatMap(CALLBACK_PARK, go);
      if (r === BECOME) return act.x as Effect.Effect<A>;
      if (r === CALL)
        return Effect.flatMap(act.x as Effect.Effect<unknown>, (v) => {
          act.x = v;
          return go();
        });
      return Effect.succeed(r as A);
    };
    return go();
  });
}

/** An op as the Effect kernel code returns: itself on the fast path, wrapped on the fibers path. */
export const op: <A>(o: OpBase) => Effect.Effect<A> = FAST ? (o) => o as unknown as Effect.Effect<never> : asEffect;

/** An interleaving point and nothing else: the step ends here; the context resumes with void. */
class ParkOp extends OpClass {
  run(act: Activation): unknown {
    if (act.phase === 0) {
      act.phase = 1;
      return PARK;
    }
    return undefined;
  }
}

const park_op: Effect.Effect<void> = op(new ParkOp());
export const park = (): Effect.Effect<void> => park_op;
