// Measuring helpers for the benches: best-of timing, the repository root (the benches run compiled
// from dist/bench or as sources from bench/), and the table `npm run bench` prints: each figure
// beside issue 11's floor and goal, with a pass/short mark.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";

/** The repository root, whether this file runs from bench/ or from dist/bench/. */
export const ROOT = ((): string => {
  let d = import.meta.dirname;
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(d, "package.json"))) return d;
    d = resolve(d, "..");
  }
  throw new Error(`no package.json above ${import.meta.dirname}`);
})();

/** The fastest of `reps` runs of `f` (ms), and the value of that run. */
export function best<T>(reps: number, f: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const v = f();
    const t = performance.now() - t0;
    if (t < ms) {
      ms = t;
      value = v;
    }
  }
  return { ms, value };
}

export const load = (): string => loadavg()[0]!.toFixed(2);

/** Runs one measurement of bench/child.ts in a process of its own and returns its JSON. */
export function child<T>(what: string, ...args: (number | string)[]): T {
  const flags = what === "page-memory" ? ["--expose-gc"] : [];
  const r = spawnSync(process.execPath, [...flags, join(import.meta.dirname, "child.js"), what, ...args.map(String)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench ${what} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The best (by `better`) of `rounds` results of each measurement, taken in turns so that load from elsewhere hits them alike. */
export function rounds<T>(n: number, better: (a: T, b: T) => boolean, ...runs: (() => T)[]): T[] {
  const best: (T | undefined)[] = runs.map(() => undefined);
  for (let r = 0; r < n; r++) {
    runs.forEach((run, i) => {
      const v = run();
      if (best[i] === undefined || better(v, best[i]!)) best[i] = v;
    });
  }
  return best as T[];
}

/** A row of the table: what was measured, its value, and the floor and goal it is held to. */
export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly floor: string;
  readonly goal: string;
  /** true: meets the floor; false: short of it; null: not measured (with the reason as value). */
  readonly pass: boolean | null;
  readonly note?: string;
}

export function printTable(rows: readonly Row[]): void {
  const w = [Math.max(...rows.map((r) => r.figure.length)), Math.max(...rows.map((r) => r.value.length)), Math.max(5, ...rows.map((r) => r.floor.length)), Math.max(4, ...rows.map((r) => r.goal.length))];
  const line = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c.padEnd(w[2]!)}  ${d.padEnd(w[3]!)}  ${e}`;
  console.log(line("figure", "measured", "floor", "goal", ""));
  for (const r of rows) {
    console.log(line(r.figure, r.value, r.floor, r.goal, r.pass === null ? "(not measured)" : r.pass ? "pass" : "SHORT"));
    if (r.note !== undefined) console.log(`  ${r.note}`);
  }
}
