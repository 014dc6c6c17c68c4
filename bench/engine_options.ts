// How to run a context's Effect program a step at a time: the options measured on the bare 4-CPU
// spinlock model (no kernel: a ticket lock, earliest clock first, the same Effect.gen bodies for
// every Effect option), to show what each costs per interleaving point. What mmsim uses is option
// "trampoline" (src/sim/stepper.ts, src/sim/op.ts, used here as they are). docs/how-it-works.md.
//   plain:      plain generators resumed by a loop (the floor: no Effect at all)
//   callback:   Effect fibers parked with Effect.callback and resumed through the callback (the
//               first engine: a fiber suspension, a scheduler dispatch and an AsyncResource a park)
//   runloop:    Effect fibers parked at an op and resumed by Effect's own fiber run loop
//   trampoline: Effect's fiber objects stepped by mmsim's trampoline, parks at ops
//   bespoke:    a hand-written interpreter of just the primitives this model uses (no fiber)
import * as Effect from "effect/Effect";
import { Stepper, fiberContext } from "../src/sim/stepper.ts";
import { OpClass, PARK, op, type Activation } from "../src/sim/op.ts";
import { SimScheduler } from "../src/sim/scheduler.ts";
import { IDENTIFIER, YIELD } from "../src/sim/effect_internals.ts";
import { best } from "./measure.ts";

const N = 4;
const ITER = 50_000;

/** The model's shared state; `cur` is the lane being stepped. */
const m = { clock: new Float64Array(N), owner: -1, waiters: [] as number[], spinning: new Uint8Array(N), count: 0, cur: 0 };
function reset(): void {
  m.clock.fill(0);
  m.owner = -1;
  m.waiters.length = 0;
  m.spinning.fill(0);
  m.count = 0;
}

// The model's operations, as plain functions: true when the lane parks.
const LOCK = 0;
const UNLOCK = 1;
const DELAY = 2;
function lockEnter(c: number): void {
  m.clock[c]! += 50;
}
/** Takes the lock, or queues (true: the lane spins until handed the lock). */
function lockTake(c: number): boolean {
  if (m.owner === -1) {
    m.owner = c;
    return false;
  }
  m.waiters.push(c);
  m.spinning[c] = 1;
  return true;
}
function unlock(c: number): void {
  const next = m.waiters.shift();
  m.owner = next ?? -1;
  if (next !== undefined) {
    m.spinning[next] = 0;
    m.clock[next] = Math.max(m.clock[next]!, m.clock[c]!) + 100;
  }
  m.clock[c]! += 50;
}

/** Earliest runnable lane, or -1. */
function pick(done: Uint8Array): number {
  let p = -1;
  for (let c = 0; c < N; c++) if (done[c] === 0 && m.spinning[c] === 0 && (p < 0 || m.clock[c]! < m.clock[p]!)) p = c;
  return p;
}

function check(): void {
  if (m.count !== N * ITER) throw new Error(`lost iterations: ${m.count}`);
}

// ---- plain generators
function runPlain(): number {
  reset();
  function* worker(c: number): Generator<void, void, void> {
    for (let i = 0; i < ITER; i++) {
      lockEnter(c);
      yield;
      if (lockTake(c)) yield;
      m.clock[c]! += 10;
      yield;
      m.count++;
      unlock(c);
      yield;
      m.clock[c]! += 5;
      yield;
    }
  }
  const gens = Array.from({ length: N }, (_, c) => worker(c));
  const done = new Uint8Array(N);
  let steps = 0;
  for (let p = pick(done); p >= 0; p = pick(done)) {
    steps++;
    if (gens[p]!.next().done === true) done[p] = 1;
  }
  check();
  return steps;
}

// ---- the Effect bodies, over a park primitive given per option
function body(lock: () => Effect.Effect<void>, unlockOp: () => Effect.Effect<void>, delay: (ns: number) => Effect.Effect<void>): Effect.Effect<void> {
  return Effect.gen(function* () {
    for (let i = 0; i < ITER; i++) {
      yield* lock();
      yield* delay(10);
      m.count++;
      yield* unlockOp();
      yield* delay(5);
    }
  });
}

/** The model's operations as mmsim ops (the real OpClass): phases kept in the activation. */
class ModelOp extends OpClass {
  constructor(
    readonly kind: number,
    readonly ns: number,
  ) {
    super();
  }
  run(act: Activation): unknown {
    const c = m.cur;
    if (act.phase === 0) {
      if (this.kind === LOCK) lockEnter(c);
      else if (this.kind === UNLOCK) unlock(c);
      else m.clock[c]! += this.ns;
      act.phase = 1;
      return PARK;
    }
    if (this.kind === LOCK && act.phase === 1 && lockTake(c)) {
      act.phase = 2;
      return PARK;
    }
    return undefined;
  }
}
const opBody = () =>
  body(
    () => op(new ModelOp(LOCK, 0)),
    () => op(new ModelOp(UNLOCK, 0)),
    (ns) => op(new ModelOp(DELAY, ns)),
  );

// ---- trampoline: src/sim/stepper.ts as mmsim runs it
function runTrampoline(): number {
  reset();
  const ctx = fiberContext(new SimScheduler());
  const done = new Uint8Array(N);
  const steppers = Array.from({ length: N }, (_, c) => new Stepper(opBody(), ctx, () => (done[c] = 1)));
  let steps = 0;
  for (let p = pick(done); p >= 0; p = pick(done)) {
    steps++;
    m.cur = p;
    steppers[p]!.step();
  }
  check();
  return steps;
}

// ---- runloop: the same ops, resumed by Effect's own FiberImpl.runLoop
interface RunLoopFiber {
  _yielded: unknown;
  _asyncContext: unknown;
  mmsim_next: unknown;
  runLoop(e: unknown): unknown;
}
function runRunLoop(): number {
  reset();
  const done = new Uint8Array(N);
  const fibers: RunLoopFiber[] = [];
  const next: unknown[] = [];
  for (let c = 0; c < N; c++) {
    m.cur = c;
    const f = Effect.runFork(opBody()) as unknown as RunLoopFiber; // runs to its first park
    f._asyncContext = undefined;
    fibers.push(f);
    next.push(f.mmsim_next);
  }
  let steps = N;
  for (let p = pick(done); p >= 0; p = pick(done)) {
    steps++;
    m.cur = p;
    const f = fibers[p]!;
    f._yielded = undefined;
    const r = f.runLoop(next[p]);
    if (r !== YIELD) done[p] = 1;
    else next[p] = f.mmsim_next;
  }
  check();
  return steps;
}

// ---- callback: Effect fibers parked with Effect.callback (the first engine)
function runCallback(): number {
  reset();
  const done = new Uint8Array(N);
  const resume: (((e: Effect.Effect<void>) => void) | null)[] = Array(N).fill(null);
  const park = (): Effect.Effect<void> =>
    Effect.callback<void>((r) => {
      resume[m.cur] = r;
    });
  const sched = new SimScheduler();
  const mk = () =>
    body(
      () =>
        Effect.suspend(() => {
          lockEnter(m.cur);
          return Effect.flatMap(park(), () => (lockTake(m.cur) ? park() : Effect.void));
        }),
      () =>
        Effect.suspend(() => {
          unlock(m.cur);
          return park();
        }),
      (ns) =>
        Effect.suspend(() => {
          m.clock[m.cur]! += ns;
          return park();
        }),
    );
  for (let c = 0; c < N; c++) {
    m.cur = c;
    Effect.runFork(mk(), { scheduler: sched }).addObserver(() => (done[c] = 1));
  }
  let steps = N;
  const VOID = Effect.void;
  for (let p = pick(done); p >= 0; p = pick(done)) {
    steps++;
    m.cur = p;
    const r = resume[p]!;
    resume[p] = null;
    r(VOID);
    sched.flush();
  }
  check();
  return steps;
}

// ---- bespoke: an interpreter of Suspend, Iterator, Success and the model's ops, no fiber
interface Frame {
  iterator: Iterator<unknown, unknown, unknown>;
}
function runBespoke(): number {
  reset();
  const done = new Uint8Array(N);
  const acts = Array.from({ length: N }, () => ({ op: null as ModelOp | null, phase: 0, i: 0, n: 0, m: 0, y: undefined as unknown, x: undefined as unknown }));
  const stacks: Frame[][] = Array.from({ length: N }, () => []);
  const cur: unknown[] = Array.from({ length: N }, () => opBody());
  const vals: unknown[] = Array(N).fill(undefined);
  const drive = (c: number): boolean => {
    const stack = stacks[c]!;
    const act = acts[c]!;
    let e = cur[c];
    let v = vals[c];
    for (;;) {
      if (e === null) {
        const top = stack[stack.length - 1];
        if (top === undefined) return false;
        const st = top.iterator.next(v);
        if (st.done === true) {
          stack.pop();
          v = st.value;
          continue;
        }
        e = st.value;
        continue;
      }
      const prim = e as Record<string, unknown>;
      const id = prim[IDENTIFIER];
      if (id === "mmsim/Op") {
        const o = e as ModelOp;
        act.op = o;
        act.phase = 0;
        if (o.run(act) === PARK) {
          cur[c] = act;
          return true;
        }
        e = null;
        v = undefined;
      } else if (id === "mmsim/Resume") {
        if (act.op!.run(act) === PARK) return true;
        e = null;
        v = undefined;
      } else if (id === "Suspend") e = (prim["~effect/Effect/args"] as () => unknown)();
      else if (id === "Iterator") {
        stack.push(prim as unknown as Frame);
        v = (prim as { initial?: unknown }).initial;
        e = null;
      } else throw new Error(`bespoke interpreter: no ${String(id)}`);
    }
  };
  // The activation stands for "resume the op" (its identifier is checked above).
  for (const a of acts) (a as Record<string, unknown>)[IDENTIFIER] = "mmsim/Resume";
  let steps = 0;
  for (let p = pick(done); p >= 0; p = pick(done)) {
    steps++;
    m.cur = p;
    if (!drive(p)) done[p] = 1;
  }
  check();
  return steps;
}

export const OPTIONS: readonly (readonly [string, () => number])[] = [
  ["plain", runPlain],
  ["callback", runCallback],
  ["runloop", runRunLoop],
  ["trampoline", runTrampoline],
  ["bespoke", runBespoke],
];

/** Steps per second of each option, best of `reps` (interleaved, so load shifts hit all alike). */
export function measureEngineOptions(reps = 5): { name: string; stepsPerSec: number }[] {
  const bestMs = new Map<string, number>();
  const steps = new Map<string, number>();
  for (let r = 0; r < reps; r++) {
    for (const [name, f] of OPTIONS) {
      const b = best(1, f);
      steps.set(name, b.value);
      bestMs.set(name, Math.min(bestMs.get(name) ?? Infinity, b.ms));
    }
  }
  return OPTIONS.map(([name]) => ({ name, stepsPerSec: steps.get(name)! / (bestMs.get(name)! / 1000) }));
}
