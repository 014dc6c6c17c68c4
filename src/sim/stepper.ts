// Runs one simulated context's Effect program a step at a time: from where it last parked up to
// its next park (an op that returned PARK, see op.ts) or its end. The engine calls step(); nothing
// else runs a context.
//
// Fast path (effect_internals.ts FAST): the program is evaluated by this file's trampoline against
// a fiber object of Effect's own (so every Effect primitive behaves as Effect defines it: its
// continuation stack, error channel, fiber refs and forks), but the trampoline replaces the
// fiber's run loop, and a park is an op returning Effect's Yield with a note in the fiber: no
// callback, no scheduler dispatch, no async-context resource per interleaving point. Resuming
// is evaluating what the op left to resume with. Measured on the bare 4-CPU spinlock model
// (bench/engine_options.ts, December 2026): 12.6 M steps/s, against 3.0 M for fibers parked with
// Effect.callback and 36 M for plain generators (docs/how-it-works.md).
//
// Fibers path: the program runs as an ordinary fiber on the run's scheduler, parked with
// Effect.callback and resumed by the engine through the callback.
//
// A context may also suspend in an Effect primitive of its own (scenario code awaiting a
// Deferred, say). Whoever completes it (another context's step, a timed event) resumes its fiber
// through the fiber's evaluate(): the stepper takes that over, keeps what the fiber is to resume
// with, and tells the CPU its context is ready (onWake), so the context goes on in a step of its
// own CPU, as a context woken any other way does. The fiber ends through Effect's own completion
// (its forked children interrupted, its observers told).
import * as Effect from "effect/Effect";
import * as Context from "effect/Context";
import * as Scheduler from "effect/Scheduler";
import type * as Exit from "effect/Exit";
import { CURRENT_FIBER, EVALUATE, FAST, FiberCtor, YIELD } from "./effect_internals.ts";
import { ActivationImpl, PARKED, parkedCallback, resumeActivation, type Activation } from "./op.ts";
import { SimError } from "./errors.ts";
import { EFFECT_RANGE } from "./effect_check.ts";

const NEW = 0;
const PARKED_HERE = 1;
/** Suspended in an Effect primitive that is not an op: resumed by whoever completes it. */
const ELSEWHERE = 2;
const DONE = 3;

/** Effect's FiberImpl, as the trampoline uses it. */
interface Fiber {
  _yielded: unknown;
  _asyncContext: unknown;
  evaluate(effect: unknown): void;
  _children: { readonly size: number } | undefined;
  _exit: unknown;
  _observers: unknown[] | undefined;
  /** What the context resumes with after parking at an op (set by the op's evaluate). */
  mmsim_next: unknown;
  mmsim_act: Activation | undefined;
  addObserver(cb: (exit: Exit.Exit<unknown, unknown>) => void): unknown;
}

const VOID = Effect.void;
const g = globalThis as unknown as Record<string, unknown>;
/** The fiber this file last made Effect's current fiber. */
let current: unknown = undefined;

/** After a run: Effect's current fiber is no longer one of the run's. */
export function clearCurrentFiber(): void {
  if (current !== undefined && g[CURRENT_FIBER] === current) g[CURRENT_FIBER] = undefined;
  current = undefined;
}

/** The context's Effect context: the run's scheduler, so forks and wake-ups stay deterministic. */
export function fiberContext(scheduler: Scheduler.Scheduler): Context.Context<never> {
  return Context.add(Context.empty(), Scheduler.Scheduler, scheduler) as Context.Context<never>;
}

/** Evaluates primitives until one yields; a throw becomes a defect, as in Effect's run loop. */
function trampoline(cur: unknown, fiber: Fiber): void {
  // What a parked context resumes with, its activation, is evaluated without looking evaluate up.
  const act = fiber.mmsim_act;
  for (;;) {
    try {
      for (;;) {
        cur = cur === act ? resumeActivation(act!, fiber) : (cur as Record<string, (f: Fiber) => unknown>)[EVALUATE]!(fiber);
        if (cur === YIELD) return;
      }
    } catch (error) {
      const valid = typeof cur === "object" && cur !== null && EVALUATE in cur;
      cur = Effect.die(valid ? error : notAnEffect(cur));
    }
  }
}

/** The defect for a value yielded where an Effect was expected. */
function notAnEffect(v: unknown): Error {
  // effect 3's Effects carry this key: another copy of the effect package than mmsim's.
  const other = typeof v === "object" && v !== null && Symbol.for("effect/Effect") in v;
  return new Error(
    other
      ? `Not a valid effect: an Effect of another copy of the effect package (effect 3?) was yielded; mmsim runs on effect ${EFFECT_RANGE}: make the project resolve one copy (npm ls effect)`
      : `Not a valid effect: ${String(v)}`,
  );
}

/** Effect's own evaluate() of a fiber: its run loop, then its completion when it ends. */
const fiberEvaluate = FiberCtor !== null ? ((FiberCtor as unknown as { prototype: Fiber }).prototype.evaluate as (this: Fiber, effect: unknown) => void) : null;

export class Stepper {
  private state = NEW;
  private fiber: Fiber | null = null;
  /** What the next step evaluates (fast path), or resumes the fiber with (fibers path, woken). */
  private next: unknown;
  /** Fibers path: the parked fiber's callback. */
  private resume: ((eff: Effect.Effect<unknown>) => void) | null = null;
  /** Fibers path: the stepper is resuming the fiber itself (its evaluate() is Effect's then). */
  private stepping = false;
  /** Fibers path: the fiber's own evaluate(). */
  private own: ((effect: unknown) => void) | null = null;

  constructor(
    program: Effect.Effect<void>,
    private readonly context: Context.Context<never>,
    private readonly onExit: (exit: Exit.Exit<void, unknown>) => void,
    /** Told when something outside the context's own steps made it ready (it was suspended in a primitive of Effect's). */
    private readonly onWake: () => void = () => {},
  ) {
    this.next = program;
  }

  /**
   * Runs `program` from its start next, once the last one ended: a finished interrupt context's
   * stepper kept for the next interrupt on the same CPU (with its fiber, when that ended with
   * nothing of Effect's to finish; else a new one).
   */
  reset(program: Effect.Effect<void>): void {
    if (this.state !== DONE) throw new SimError("a stepper is reused before its program ended");
    this.next = program;
    this.resume = null;
    // A fiber Effect finished (its _exit set) cannot run again.
    if (!FAST || this.fiber?._exit !== undefined) this.fiber = null;
    this.state = NEW;
  }

  /** Can step() run the context now (it has not started, it parked at an op, or it was woken)? */
  ready(): boolean {
    return this.state === PARKED_HERE || this.state === NEW;
  }

  /** Runs the context from where it parked to its next park or its end. */
  step(): void {
    if (FAST) this.stepFast();
    else this.stepFiber();
  }

  private stepFast(): void {
    const fiber = this.fiber ?? this.newFiber();
    // Effect's forEach, Scope and Semaphore find the running fiber in a global; Effect's own run
    // loops restore it when they return, so it changes only when another fiber steps.
    if (current !== fiber) {
      current = fiber;
      g[CURRENT_FIBER] = fiber;
    }
    const cur = this.next;
    this.next = null;
    trampoline(cur, fiber);
    const y = fiber._yielded;
    if (y === PARKED) {
      fiber._yielded = undefined;
      this.next = fiber.mmsim_next;
      fiber.mmsim_next = null;
      this.state = PARKED_HERE;
    } else if (typeof y === "object" && y !== null && "_tag" in y) {
      fiber._yielded = undefined;
      const children = fiber._children;
      if ((children === undefined || children.size === 0) && fiber._observers?.length === 1) {
        // The end, with nothing of Effect's to finish (no forked child, nobody else observing):
        // the fiber stays as it is, to run the stepper's next program (reset()).
        this.exited(y as Exit.Exit<void, unknown>);
      } else {
        // Finished by Effect's own evaluate: its children interrupted first (which it hands back
        // to the context through evaluate(), as a resumption: the context goes on in its next
        // step), then its observers told, ours reporting to onExit.
        fiberEvaluate!.call(fiber, y);
      }
    } else this.state = ELSEWHERE;
  }

  // Apart from stepFast(), which then captures nothing (no closure context allocated per step).
  private newFiber(): Fiber {
    const fiber = (this.fiber = new FiberCtor!(this.context, true) as Fiber);
    fiber.mmsim_next = null;
    fiber.mmsim_act = new ActivationImpl();
    fiber.addObserver((exit) => this.exited(exit as Exit.Exit<void, unknown>));
    fiber.evaluate = (effect) => this.woken(effect);
    return fiber;
  }

  /**
   * The fiber is resumed from outside (a primitive of Effect's it suspended in was completed, or
   * it is interrupted): it goes on with `effect` in the context's next step, not here.
   */
  private woken(effect: unknown): void {
    if (this.state === DONE) return;
    const fiber = this.fiber!;
    const y = fiber._yielded;
    fiber._yielded = undefined;
    fiber._asyncContext = undefined;
    // Effect's suspended primitives leave a function that marks them resumed (a second resume is then ignored).
    if (typeof y === "function") (y as () => void)();
    this.next = effect;
    this.resume = null;
    this.state = PARKED_HERE;
    this.onWake();
  }

  private stepFiber(): void {
    parkedCallback.resume = null;
    this.stepping = true;
    try {
      if (this.state === NEW) {
        this.state = ELSEWHERE;
        const f = Effect.runFork(this.next as Effect.Effect<void>, { scheduler: this.scheduler() }) as unknown as Fiber;
        this.next = null;
        this.fiber = f;
        f.addObserver((exit) => this.exited(exit as Exit.Exit<void, unknown>));
        const own = f.evaluate;
        this.own = (effect) => own.call(f, effect);
        f.evaluate = (effect) => (this.stepping ? own.call(f, effect) : this.woken(effect));
      } else if (this.resume !== null) {
        const r = this.resume;
        this.resume = null;
        r(VOID);
      } else {
        // Woken from outside: the fiber goes on with what it was resumed with.
        const e = this.next;
        this.next = null;
        this.own!(e);
      }
    } finally {
      this.stepping = false;
    }
    if (this.state === DONE) return;
    if (parkedCallback.resume !== null) {
      this.resume = parkedCallback.resume;
      parkedCallback.resume = null;
      this.state = PARKED_HERE;
    } else this.state = ELSEWHERE;
  }

  private scheduler(): Scheduler.Scheduler {
    return Context.get(this.context, Scheduler.Scheduler);
  }

  private exited(exit: Exit.Exit<void, unknown>): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.onExit(exit);
  }
}
