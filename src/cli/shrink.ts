// `mmsim shrink <scenario> --seed N`: the smallest schedule that still fails the seed's way
// (src/harness/shrink.ts), written as a schedule file, and the decisions left told as a story.
import { shrink, type Measures, type ShrinkResult } from "../harness/shrink.ts";
import { runScenario } from "../harness/run.ts";
import { parseSeed } from "../sim/rng.ts";
import { MAX_CPUS } from "../hw/machine.ts";
import { describe } from "../harness/decisions.ts";
import type { TraceRecord } from "../sim/trace.ts";
import { UsageError, intOption, parseArgs } from "./args.ts";
import { loadScenario, withScenarioName } from "./load.ts";
import { RUN_OPTIONS, machineAndFaults, strategyOption, swarmOption } from "./options.ts";
import { schedulePath, writeSchedule } from "./run.ts";
import type { Io } from "./io.ts";

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const sec = (ns: number): string => (ns / 1e9).toFixed(6);

export const measures_text = (m: Measures): string =>
  `${plural(m.cpus, "CPU")}, ${plural(m.delays, "delay")}, ${plural(m.picks, "tie-break")}, ${plural(m.interrupts, "interrupt")}, ${plural(m.steps, "step")}`;

/** The story: the decisions that matter and the last events before the report on its CPU, in time order, then the report. */
export function story(s: ShrinkResult): string[] {
  const r = s.result;
  const report = r.reports.find((x) => x.kind === s.target);
  const out: string[] = [];
  if (r.decisions!.length === 0) out.push("  no scheduling decision is needed: with the lowest CPU first at every tie, no delays and no interrupts it fails the same way");
  const lines: { time: number; text: string }[] = r.decisions!.map((d) => ({ time: d.time, text: d.text }));
  let tail = `  => ${s.target === "expectation" ? `expectation failed: ${r.expectations[0]}` : r.stop}`;
  if (report !== undefined) {
    // What the report's CPU did just before (from the run's trace ring); an interrupt a decision already tells is left out.
    const at = r.trace.findIndex((e) => e.name === "bug_report" && e.detail === report.title && e.ts === report.ts);
    const told = (e: TraceRecord) => e.name === "irq_handler_entry" && r.decisions!.some((d) => d.kind === "irq" && d.cpu === e.cpu && d.time === e.ts);
    const before = r.trace.slice(0, Math.max(0, at)).filter((e) => e.cpu === report.cpu && e.name !== "bug_report").slice(-3);
    for (const e of before) if (!told(e)) lines.push({ time: e.ts, text: `CPU${e.cpu} [${e.who}] ${describe(e)}` });
    tail = `  ${sec(report.ts)}  CPU${report.cpu}${at >= 0 ? ` [${r.trace[at]!.who}]` : ""} => ${report.title}`;
  }
  out.push(...lines.sort((a, b) => a.time - b.time).map((l) => `  ${sec(l.time)}  ${l.text}`), tail);
  return out;
}

export function cmdShrink(argv: readonly string[], io: Io): number {
  const { schedule: _schedule, "trace-tail": _tail, trace: _trace, proc: _proc, verify: _verify, "check-determinism": _det, ...rest } = RUN_OPTIONS;
  const p = parseArgs("shrink", argv, {
    ...rest,
    budget: { value: true, help: "the most candidate runs to try (default 1000)" },
    out: { value: true, help: "file to write the shrunk schedule to" },
  });
  if (p.positional.length !== 1) throw new UsageError("shrink takes one scenario");
  const { scenario, source } = loadScenario(withScenarioName(p.positional[0]!, p.options.get("scenario")));
  if (!p.options.has("seed")) throw new UsageError("shrink needs --seed N (the failing seed, as a sweep printed it)");
  const seed = parseSeed(p.options.get("seed")!);
  const cpus = intOption(p, "cpus", 1, MAX_CPUS);
  const stepLimit = intOption(p, "steps", 1, 1e9);
  const budget = intOption(p, "budget", 1, 1e6) ?? 1000;
  const machine = machineAndFaults(p);
  const swarm = swarmOption(p, scenario, cpus, machine.spec);
  const base = { seed, ...(cpus !== undefined ? { cpus } : {}), ...(stepLimit !== undefined ? { stepLimit } : {}), machine: machine.spec, swarm };
  const strategy = strategyOption(p, () => runScenario(scenario, base).steps);
  const s = shrink(scenario, { ...base, strategy: strategy.spec }, budget);
  const r = s.result;
  const path = p.options.get("out") ?? schedulePath(s.original, "shrunk");
  const writeError = writeSchedule(path, r, source, machine.raw, s.stepLimit, strategy.spec, { script: s.script, fails: s.target });
  const report = r.reports.find((x) => x.kind === s.target);
  if (p.options.has("json")) {
    io.out(JSON.stringify({ scenario: scenario.name, seed, fails: s.target, title: report?.title ?? null, before: s.before, after: s.after, runs: s.runs, exhausted: s.exhausted, decisions: [...r.decisions!].sort((a, b) => a.time - b.time), traceHash: r.traceHash, ...(writeError === null ? { schedule: path } : { scheduleError: writeError }) }));
  } else {
    io.out(`shrink: ${scenario.name}, seed ${String(seed)}: ${report !== undefined ? `[${s.target}] ${report.title}` : s.target}`);
    io.out(`  the seed's run: ${measures_text(s.before)}`);
    io.out(`  shrunk:         ${measures_text(s.after)} (${plural(s.runs, "run")} tried${s.exhausted ? "; the budget ran out, --budget N tries more" : ""})`);
    io.out("what happens:");
    for (const l of story(s)) io.out(l);
    if (writeError === null) io.out(`wrote ${path}\n  replay: mmsim replay ${path}`);
  }
  if (writeError !== null) {
    io.err(`mmsim: ${writeError}`);
    return 2;
  }
  return 1;
}
