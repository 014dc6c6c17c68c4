// npm run bench:bugs: for each planted bug (scenarios/bugs/), how many seeds a sweep needs to
// find it with the random walk and with PCT (depth 3, k = the steps of a random-walk run of
// seed 1): the median over five seed ranges (1.., 1001.., ...), each searched up to 200 seeds
// ("-" when a range finds nothing: the median counts it as more than 200). Then every seed
// either strategy ran is run on the bug's fixed twin, with the same strategy: none may fail.
import { runScenario } from "../src/harness/run.ts";
import { BUGS } from "../scenarios/bugs/index.ts";
import type { StrategySpec } from "../src/sim/strategy.ts";

const RANGES = [1, 1001, 2001, 3001, 4001];
const CAP = 200;

function firstFailing(scn: (typeof BUGS)[number]["bug"], from: number, strategy: StrategySpec | undefined, ran: number[]): number {
  for (let n = 1; n <= CAP; n++) {
    ran.push(from + n - 1);
    if (runScenario(scn, { seed: from + n - 1, strategy }).failed) return n;
  }
  return Infinity;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (x: number): string => (x === Infinity ? "-" : String(x));

console.log(`planted bugs: seeds to first detection (median of ${RANGES.length} ranges, up to ${CAP} seeds each)`);
console.log(`  ${"bug".padEnd(28)} ${"random".padStart(8)} ${"pct".padStart(8)}   per range (random | pct)              fixed twin`);
let totals = { random: 0, pct: 0 };
const t0 = performance.now();
for (const b of BUGS) {
  const steps = runScenario(b.bug, { seed: 1 }).steps;
  const strategies: [string, StrategySpec | undefined][] = [["random", undefined], ["pct", { name: "pct", depth: 3, steps }]];
  const found: Record<string, number[]> = {};
  let fixedRuns = 0;
  let fixedFailures = 0;
  for (const [name, strategy] of strategies) {
    const ran: number[] = [];
    found[name] = RANGES.map((from) => firstFailing(b.bug, from, strategy, ran));
    for (const seed of ran) {
      fixedRuns++;
      if (runScenario(b.fixed, { seed, strategy }).failed) fixedFailures++;
    }
  }
  const mr = median(found.random!);
  const mp = median(found.pct!);
  if (mr <= mp) totals.random++;
  if (mp <= mr) totals.pct++;
  console.log(
    `  ${b.name.padEnd(28)} ${show(mr).padStart(8)} ${show(mp).padStart(8)}   ${found.random!.map(show).join(",").padEnd(18)} | ${found.pct!.map(show).join(",").padEnd(18)} ${fixedFailures === 0 ? `clean over ${fixedRuns} runs` : `${fixedFailures} FAILING of ${fixedRuns}`}`,
  );
}
console.log(`  as good or better: random ${totals.random} of ${BUGS.length}, pct ${totals.pct} of ${BUGS.length}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
