// Functions written as Effect generators, made once. `(args) => Effect.gen(function* () {...})`
// creates a new generator function on every call, and V8 (Node 20) gives every new generator
// function its own prototype object and object shape the first time it runs: about 1.3 us a call,
// more than a whole step of the engine (docs/how-it-works.md, "Generator functions made once"). A
// generator function written once and called with its arguments costs about 60 ns.
// - gen_fn(function* name(args) {...}): the kernel's own functions that are Effects (the API, and
//   those given to Effect's combinators); Effect.fnUntraced keeping the body's name (callbacks'
//   names are printed in backtraces and frames). A kernel helper only ever called as
//   `yield* helper(args)` is a plain generator function instead: `yield*` delegates to it, with
//   no Effect value, frame or exit of its own (about 12 ns a call against about 280 ns).
// - EffectFn / effect_fn: where the kernel calls a function of the scenario's (an interrupt
//   handler, a tasklet, a kthread, a work item), it takes either a function returning an Effect
//   or a generator function, made into one here once, when it is registered.
import * as Effect from "effect/Effect";

/** Effect.fnUntraced(body) (the body only: no pipeable arguments), named as `body` is. */
export function gen_fn<Eff extends Effect.Effect<any, any, any>, AEff, Args extends Array<any>>(
  body: (...args: Args) => Generator<Eff, AEff, never>,
): (...args: Args) => Effect.Effect<AEff, Effect.Error<Eff>, Effect.Services<Eff>> {
  const f = Effect.fnUntraced(body) as (...args: Args) => Effect.Effect<AEff, Effect.Error<Eff>, Effect.Services<Eff>>;
  return Object.defineProperty(f, "name", { value: body.name, configurable: true });
}

/**
 * A function of the scenario's that the kernel calls: one returning an Effect, or a generator
 * function over Effects (neither may fail: a failure is the scenario's bug).
 */
export type EffectFn<Args extends unknown[], A> = ((...args: Args) => Effect.Effect<A>) | ((...args: Args) => Generator<Effect.Effect<unknown, never, never>, A, any>);

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as abstract new () => unknown;

/**
 * `fn` as a function returning an Effect: a generator function made into one once (its name
 * kept); any other function checked call by call, a generator it returns (a function calling a
 * generator function, say) run as an Effect.gen body would be.
 */
export function effect_fn<Args extends unknown[], A>(fn: EffectFn<Args, A>): (...args: Args) => Effect.Effect<A> {
  if (fn instanceof GeneratorFunction) return gen_fn(fn as (...args: Args) => Generator<Effect.Effect<unknown, never, never>, A, never>) as (...args: Args) => Effect.Effect<A>;
  const f = fn as (...args: Args) => unknown;
  const checked = (...args: Args): Effect.Effect<A> => {
    const r = f(...args);
    return (Effect.isEffect(r) || !is_iterator(r) ? r : Effect.gen(() => r as Generator<Effect.Effect<unknown, never, never>, A, never>)) as Effect.Effect<A>;
  };
  return Object.defineProperty(checked, "name", { value: fn.name, configurable: true });
}

const is_iterator = (r: unknown): boolean => typeof r === "object" && r !== null && typeof (r as { next?: unknown }).next === "function";
