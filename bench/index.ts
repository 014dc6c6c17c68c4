// npm run bench: every figure of issue 11 in one run, each beside its floor and goal. Run from
// the compiled dist/ (no TypeScript loader in the measured process).
import { load, printTable, type Row } from "./measure.ts";
import { mmsimSpin, perSecond, plainSpin, simpySpin } from "./spin.ts";
import { bareBuddyPairs, simPairs } from "./alloc.ts";
import { costPerStep } from "./cpus.ts";

const rows: Row[] = [];
const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const M = (n: number): string => `${(n / 1e6).toFixed(3)} M`;

// ---- the spinlock model: mmsim, plain generators, SimPy 2
const CPUS = 4;
const ITER = 20_000;
const sim = perSecond(mmsimSpin(CPUS, ITER));
const plain = perSecond(plainSpin(CPUS, ITER));
const simpy = simpySpin(CPUS, ITER);
console.log(`spinlock model, ${CPUS} CPUs x ${ITER} loops (load average ${load()})`);
console.log(`  mmsim:            ${M(sim.iterations)} loops/s, ${M(sim.steps)} steps/s`);
console.log(`  plain generators: ${M(plain.iterations)} loops/s, ${M(plain.steps)} steps/s`);
if ("skipped" in simpy) console.log(`  SimPy 2: skipped: ${simpy.skipped}`);
else {
  const s = perSecond(simpy);
  console.log(`  SimPy 2:          ${M(s.iterations)} loops/s, ${M(s.steps)} yields/s`);
  const x = sim.iterations / s.iterations;
  rows.push({ figure: "spinlock model vs SimPy 2 (loops/s)", value: `${fmt(x)}x`, floor: ">= 3x", goal: ">= 6x", pass: x >= 3 });
}
if ("skipped" in simpy) rows.push({ figure: "spinlock model vs SimPy 2 (loops/s)", value: "skipped", floor: ">= 3x", goal: ">= 6x", pass: null, note: simpy.skipped });
const vsPlain = sim.iterations / plain.iterations;
rows.push({ figure: "spinlock model vs plain generators (loops/s)", value: `1/${fmt(1 / vsPlain, 1)}`, floor: ">= 1/6", goal: ">= 1/3", pass: vsPlain >= 1 / 6 });

// ---- allocator pairs against the bare buddy loop
const bare = bareBuddyPairs();
const pages = simPairs("page");
const km = simPairs("kmalloc");
console.log(`allocator pairs, 4 CPUs (bare buddy loop ${M(bare)} pairs/s)`);
console.log(`  alloc_page + __free_page: ${M(pages.rate)} pairs/s (${pages.steps} steps)`);
console.log(`  kmalloc(64) + kfree:      ${M(km.rate)} pairs/s (${km.steps} steps)`);
rows.push({ figure: "order-0 page pairs vs bare buddy loop", value: `1/${fmt(bare / pages.rate, 1)}`, floor: ">= 1/4", goal: ">= 1/2", pass: pages.rate >= bare / 4 });
rows.push({ figure: "kmalloc(64) pairs vs bare buddy loop", value: `1/${fmt(bare / km.rate, 1)}`, floor: ">= 1/6", goal: ">= 1/2", pass: km.rate >= bare / 6 });

// ---- cost per step from 2 to 64 CPUs
const per = costPerStep();
console.log(`cost per step, same total work: ${per.map((p) => `${p.cpus} CPUs ${fmt(p.ns, 0)} ns`).join(", ")}`);
const growth = Math.max(...per.map((p) => p.ns)) / Math.min(...per.map((p) => p.ns));
rows.push({ figure: "cost per step, 2..64 CPUs (max/min)", value: `${fmt(growth)}x`, floor: "<= 1.2x", goal: "1x", pass: growth <= 1.2 });

console.log("");
printTable(rows);
