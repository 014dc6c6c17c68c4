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
// (bench/engine_options.ts): 9.7 M steps/s, against 3.4 M for fibers parked with
// Effect.callback and 39 M for plain generators (README, "How it works").
//
// Fibers path: the program runs as an ordinary fiber on the run's scheduler, parked with
// Effect.callback and resumed by the engine through the callback.
//
// A context that suspends in an Effect primitive of its own (Effect.callback in scenario code) is
// resumed by whoever completes it, as any fiber would be, and can be stepped again once it
// parks at an op.
import * as Effect from "effect/Effect";
import * as Context from "effect/Context";
import * as Scheduler from "effect/Scheduler";
import type * as Exit from "effect/Exit";
import { CURRENT_FIBER, EVALUATE, FAST, FiberCtor, YIELD } from "./effect_internals.ts";
import { ActivationImpl, OpClass, PARKED, parkedCallback, type Activation } from "./op.ts";
import { SimError } from "./errors.ts";

const NEW = 0;
const PARKED_HERE = 1;
/** Suspended in an Effect primitive that is not an op: resumed by whoever completes it. */
const ELSEWHERE = 2;
const DONE = 3;

/** Effect's FiberImpl, as the trampoline uses it. */
interface Fiber {
  _yielded: unknown;
  _asyncContext: unknown;
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

/**
 * Evaluates primitives until one yields; a throw becomes a defect, as in Effect's run loop.
 * Effect's forEach, Scope and Semaphore find the running fiber in a global: it is set before
 * evaluating any primitive that is not the engine's own (an op or an activation, which never
 * read it), and only when another fiber ran since (Effect's own run loop restores it on return).
 */
function trampoline(cur: unknown, fiber: Fiber): void {
  for (;;) {
    try {
      for (;;) {
        if (current !== fiber && !(cur instanceof OpClass) && !(cur instanceof ActivationImpl)) {
          current = fiber;
          g[CURRENT_FIBER] = fiber;
        }
        cur = (cur as Record<string, (f: Fiber) => unknown>)[EVALUATE]!(fiber);
        if (cur === YIELD) return;
      }
    } catch (error) {
      const valid = typeof cur === "object" && cur !== null && EVALUATE in cur;
      cur = Effect.die(valid ? error : new Error(`Not a valid effect: ${String(cur)}`));
    }
  }
}

export class Stepper {
  private state = NEW;
  private fiber: Fiber | null = null;
  /** Fast path: what the next step evaluates. */
  private next: unknown;
  /** Fibers path: the parked fiber's callback. */
  private resume: ((eff: Effect.Effect<unknown>) => void) | null = null;

  constructor(
    program: Effect.Effect<void>,
    private readonly context: Context.Context<never>,
    private readonly onExit: (exit: Exit.Exit<void, unknown>) => void,
  ) {
    this.next = program;
  }

  /**
   * Runs `program` from its start next, once the last one ended: a finished context's stepper
   * (and its fiber) reused for the next interrupt on the same CPU.
   */
  reset(program: Effect.Effect<void>): void {
    if (this.state !== DONE) throw new SimError("a stepper is reused before its program ended");
    this.next = program;
    this.resume = null;
    this.state = NEW;
  }

  /** Can step() run the context now (it has not started, or it parked at an op)? */
  ready(): boolean {
    if (this.state === PARKED_HERE || this.state === NEW) return true;
    return this.state === ELSEWHERE && (FAST ? this.fiber!._yielded === PARKED : this.resume !== null);
  }

  get finished(): boolean {
    return this.state === DONE;
  }

  /** Runs the context from where it parked to its next park or its end. */
  step(): void {
    if (FAST) this.stepFast();
    else this.stepFiber();
  }

  private stepFast(): void {
    let fiber = this.fiber;
    if (fiber === null) fiber = this.newFiber();
    else if (this.state === ELSEWHERE) {
      fiber._yielded = undefined;
      fiber._asyncContext = undefined;
      this.next = fiber.mmsim_next;
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
      this.exited(y as Exit.Exit<void, unknown>);
    } else this.state = ELSEWHERE;
  }

  // Apart from stepFast(), which then captures nothing (no closure context allocated per step).
  private newFiber(): Fiber {
    const fiber = (this.fiber = new FiberCtor!(this.context, true) as Fiber);
    fiber.mmsim_next = null;
    fiber.mmsim_act = new ActivationImpl();
    // Ended by Effect's own run loop after an outside resume: the observer still reports it.
    fiber.addObserver((exit) => this.exited(exit as Exit.Exit<void, unknown>));
    return fiber;
  }

  private stepFiber(): void {
    parkedCallback.resume = null;
    if (this.state === NEW) {
      this.state = ELSEWHERE;
      const f = Effect.runFork(this.next as Effect.Effect<void>, { scheduler: this.scheduler() });
      this.next = null;
      f.addObserver((exit) => this.exited(exit));
    } else {
      const r = this.resume!;
      this.resume = null;
      r(VOID);
    }
    if (this.state !== DONE && parkedCallback.resume !== null) {
      this.resume = parkedCallback.resume;
      parkedCallback.resume = null;
    }
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
