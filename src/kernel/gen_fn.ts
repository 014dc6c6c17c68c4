// Functions written as Effect generators, made once. `(args) => Effect.gen(function* () {...})`
// creates a new generator function on every call, and V8 (Node 20) gives every new generator
// function its own prototype object and object shape the first time it runs: about 1.3 us a call,
// more than a whole step of the engine (docs/how-it-works.md, "Generators made once"). A generator
// function written once and called with its arguments costs about 60 ns.
// - gen_fn(function* name(args) {...}): the kernel's own functions that are Effects (the API, and
//   those given to Effect's combinators); Effect.fnUntraced keeping the body's name (callbacks'
//   names are printed in backtraces and frames). A kernel helper only ever called as
//   `yield* helper(args)` is a plain generator function instead: `yield*` delegates to it, with
//   no Effect value, frame or exit of its own (about 12 ns a call against about 280 ns).
// - EffectFn / effect_fn: where the kernel calls a function of the scenario's (an interrupt
//   handler, a tasklet, a kthread, a work item), it takes either a function returning an Effect
//   or a generator function, made into one here once, when it is registered.
import * as Effect from "effect/Effect";

export const gen_fn: typeof Effect.fnUntraced = ((body: (...args: never[]) => Generator) =>
  Object.defineProperty(Effect.fnUntraced(body as never), "name", { value: body.name, configurable: true })) as never;

/** A function of the scenario's that the kernel calls: returning an Effect, or a generator function over Effects. */
export type EffectFn<Args extends unknown[], A> = ((...args: Args) => Effect.Effect<A>) | ((...args: Args) => Generator<Effect.Effect<unknown, unknown, never>, A, any>);

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as abstract new () => unknown;

/** `fn` as a function returning an Effect (a generator function made into one, once, its name kept). */
export function effect_fn<Args extends unknown[], A>(fn: EffectFn<Args, A>): (...args: Args) => Effect.Effect<A> {
  return fn instanceof GeneratorFunction ? (gen_fn(fn as never) as never) : (fn as (...args: Args) => Effect.Effect<A>);
}
