// The simulated call stack of a context (ExecContext.frames), which reports print as their
// backtrace: with_frames(names, eff) runs `eff` with `names` pushed, and pops them when `eff`
// ends, whether it succeeds or fails (a BUG() or a SIGKILL unwinding through it), as
// Effect.ensuring would. On the engine's fast path this is one stack frame of Effect's own kind
// (a success and a failure continuation) instead of ensuring's half a dozen primitives per call.
import * as Effect from "effect/Effect";
import type * as Cause from "effect/Cause";
import { CONT_A, CONT_E, EVALUATE, FAST, IDENTIFIER, primitiveProto } from "../sim/effect_internals.ts";
import { kernel } from "./kernel.ts";

interface FiberLike {
  readonly _stack: unknown[];
  succeedWith(value: unknown): unknown;
}

/** Pops what a scope pushed: a frame on the fiber's continuation stack. */
interface Pop {
  frames: string[];
  n: number;
}

function pop(p: Pop): void {
  // pop() n times rather than splice(), which makes an array of what it removes.
  const f = p.frames;
  for (let i = 0; i < p.n; i++) f.pop();
}

const PopImpl = (function () {
  const P = function (this: Pop, frames: string[], n: number) {
    this.frames = frames;
    this.n = n;
  } as unknown as new (frames: string[], n: number) => Pop;
  const proto: Record<string, unknown> = {
    [CONT_A](this: Pop, value: unknown, fiber: FiberLike): unknown {
      pop(this);
      return fiber.succeedWith(value);
    },
    [CONT_E](this: Pop, cause: Cause.Cause<unknown>): unknown {
      pop(this);
      return Effect.failCause(cause);
    },
  };
  (P as unknown as { prototype: unknown }).prototype = proto;
  return P;
})();

interface Scope {
  readonly names: readonly string[];
  readonly eff: Effect.Effect<unknown>;
}

function evaluateScope(this: Scope, fiber: FiberLike): unknown {
  const frames = kernel().this_ctx().frames;
  for (const n of this.names) frames.push(n);
  fiber._stack.push(new PopImpl(frames, this.names.length));
  return this.eff;
}

const ScopeImpl: (new (names: readonly string[], eff: Effect.Effect<unknown>) => Scope) | null = FAST
  ? (function () {
      const S = function (this: { names: readonly string[]; eff: Effect.Effect<unknown> }, names: readonly string[], eff: Effect.Effect<unknown>) {
        this.names = names;
        this.eff = eff;
      } as unknown as new (names: readonly string[], eff: Effect.Effect<unknown>) => Scope;
      const proto = Object.create(primitiveProto) as Record<PropertyKey, unknown>;
      proto[IDENTIFIER] = "mmsim/Frames";
      proto[EVALUATE] = evaluateScope;
      (S as unknown as { prototype: unknown }).prototype = proto;
      return S;
    })()
  : null;

/** Runs `eff` with `names` on the running context's simulated call stack (outermost first). */
export function with_frames<A, E>(names: readonly string[], eff: Effect.Effect<A, E>): Effect.Effect<A, E> {
  if (ScopeImpl !== null) return new ScopeImpl(names, eff as Effect.Effect<unknown>) as unknown as Effect.Effect<A, E>;
  return Effect.suspend(() => {
    const frames = kernel().this_ctx().frames;
    frames.push(...names);
    return Effect.ensuring(eff, Effect.sync(() => void frames.splice(frames.length - names.length, names.length)));
  });
}
