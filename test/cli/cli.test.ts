// The mmsim command as a user runs it: exit codes, output shape, bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { BUGS } from "../../scenarios/bugs/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "mmsim.js");
const dir = mkdtempSync(join(tmpdir(), "mmsim-cli-"));

function mmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * main() in this process, as the launcher calls it (same io contract, cwd in the test directory),
 * for commands that load no scenario file and start no worker thread. Spawning costs a second
 * of start-up each; the tests spawn for one bad input, scenario files, worker threads, a plain
 * run and an exit code the process itself must give.
 */
function inProcess(...args: string[]) {
  let out = "";
  let err = "";
  const io = { out: (t: string) => void (out += t + "\n"), err: (t: string) => void (err += t.endsWith("\n") ? t : t + "\n"), exit: () => {} };
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = main(args, io);
    return { code: code === "pending" ? null : code, out, err };
  } finally {
    process.chdir(cwd);
  }
}

function badInput(args: string[], message: string, run = args.some((a) => a.endsWith(".ts")) ? mmsim : inProcess) {
  const r = run(...args);
  assert.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
  assert.is(r.err, `mmsim: ${message}\n`);
  assert.is(r.out, "");
  assert.not.match(r.err, /\n\s+at /);
}

test("bad input: exit 2, one line naming what was wrong and what is accepted, nothing written", () => {
  badInput(["frobnicate"], 'unknown command "frobnicate" (accepted: run, sweep, merge, shrink, replay, proc, list, help)', mmsim);
  badInput(["run", "no-such"], 'unknown scenario "no-such" (run "mmsim list" for the names, or give a scenario file path)');
  badInput(["run", "demo", "--sed", "3"], 'unknown option --sed for "mmsim run" (accepted: --seed, --scenario, --cpus, --json, --schedule, --steps, --trace-tail, --trace, --machine, --proc, --verify, --failslab, --fail-page-alloc, --lockdep, --kmemleak, --kasan, --detect, --no-detect, --swarm, --check-determinism, --strategy, --depth, --pct-steps, --preemptions)');
  badInput(["run", "demo", "--cpus", "65"], '--cpus must be an integer from 1 to 64, got "65"');
  badInput(["run", "demo", "--cpus", "two"], '--cpus must be an integer from 1 to 64, got "two"');
  badInput(["run", "demo", "--seed"], "--seed needs a value (a 32-bit integer or a string)");
  badInput(["run", "demo", "--json=yes"], "--json takes no value");
  badInput(["sweep", "counter-nolock"], "sweep needs --seeds A..B");
  badInput(["sweep", "counter-nolock", "--seeds", "5-9"], '--seeds must look like A..B (e.g. 1..1000), got "5-9"');
  badInput(["sweep", "counter-nolock", "--seeds", "9..5"], "--seeds 9..5: the first seed must not exceed the last");
  badInput(["run", "./missing.ts"], "scenario file ./missing.ts does not exist");
  badInput(["replay", "missing.json"], "cannot read schedule missing.json: ENOENT: no such file or directory, open 'missing.json'");
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ format: "mmsim-schedule", version: 1 }));
  badInput(["replay", "bad.json"], "bad.json was written by mmsim schedule format version 1; this mmsim reads version 2: record it again with mmsim run <scenario> --seed N --schedule bad.json");
  writeFileSync(join(dir, "noscn.ts"), "export const x = 1;\n");
  badInput(["run", "./noscn.ts"], "./noscn.ts exports no scenario (export default defineScenario({ ... }), or several as named exports)");
  // Two scenarios under one name: the name cannot pick one.
  const scn = (name: string) => `{ name: "${name}", description: "d", setup() { kthread_run(function* () {}, null, "t"); } }`;
  writeFileSync(join(dir, "twice.ts"), `import { kthread_run } from "mmsim";\nexport const a = ${scn("same")};\nexport const b = ${scn("same")};\n`);
  badInput(["run", "./twice.ts#same"], './twice.ts has two scenarios named "same" (a scenario\'s name picks it: give each its own)', mmsim);
  badInput(["run", "tasklet-smp", "--cpus", "1"], "scenario tasklet-smp: irq_set_affinity(11): irq 11 routed to CPU 1, but the machine has 1 CPU");
  writeFileSync(
    join(dir, "throws.ts"),
    [
      `import * as Effect from ${JSON.stringify(join(ROOT, "node_modules/effect/dist/Effect.js"))};`,
      `import { defineScenario } from ${JSON.stringify(join(ROOT, "src/harness/scenario.ts"))};`,
      `import { kthread_run } from ${JSON.stringify(join(ROOT, "src/kernel/index.ts"))};`,
      `export default defineScenario({ name: "throws", description: "x", setup() {`,
      `  kthread_run((_: null) => Effect.sync(() => { throw new RangeError("bad index 7"); }), null, "t");`,
      `} });`,
    ].join("\n"),
  );
  const t = mmsim("run", "./throws.ts");
  assert.is(t.code, 2);
  assert.match(t.err, /^mmsim: scenario throws threw RangeError: bad index 7 \(at .*throws\.ts:5:\d+\)+\n$/);
  const ts = mmsim("sweep", "./throws.ts", "--seeds", "1..4", "--jobs", "2");
  assert.is(ts.code, 2);
  assert.match(ts.err, /^mmsim: scenario throws threw RangeError: bad index 7/);
  writeFileSync(join(dir, "arm.json"), JSON.stringify({ arch: "arm" }));
  badInput(["proc", "buddyinfo", "--machine", "arm.json"], 'machine file arm.json: "arch" must be "i386" or "x86_64", got "arm"');
  writeFileSync(join(dir, "zones.json"), JSON.stringify({ arch: "i386", zones: [{ name: "DMA32", managed: 10 }] }));
  badInput(["proc", "buddyinfo", "--machine", "zones.json"], 'machine file zones.json: zone "DMA32" does not exist on i386 (accepted: DMA, Normal, HighMem)');
  badInput(["run", "slab-tasklet", "--failslab", "probabilty=10"], '--failslab: failslab: unknown attribute "probabilty" (accepted: probability, interval, times, space, verbose, task-filter, ignore-gfp-wait)');
  badInput(["sweep", "slab-tasklet", "--seeds", "1..2", "--fail-page-alloc", "probability=101"], "--fail-page-alloc: fail_page_alloc: probability must be an integer from 0 to 100, got 101");
  badInput(["run", "counter-nolock", "--strategy", "fifo"], '--strategy must be random, pct or pb, got "fifo"');
  badInput(["sweep", "counter-nolock", "--seeds", "1..2", "--depth", "2"], "--depth is for --strategy pct");
  badInput(["sweep", "counter-nolock", "--seeds", "1..9", "--shard", "3/3"], '--shard must be I/N with 0 <= I < N <= 100000 (e.g. 0/4 ... 3/4), got "3/3"');
  badInput(["merge"], "merge takes the shard files (mmsim sweep ... --shard I/N > shard-I.jsonl)");
  badInput(["proc", "pagetypeinfo"], 'proc takes one file name (accepted: buddyinfo, zoneinfo, meminfo, vmstat, vmallocinfo, slabinfo), got "pagetypeinfo"');
  badInput(["run", "demo", "--swarm"], "--swarm: scenario demo declares no swarm ranges (a scenario's swarm: { cpus: [min, max], ... }; shipped ones that do: bug-sleep-in-atomic-rare, bug-sleep-in-atomic-rare-fixed)");
  badInput(["sweep", "counter-nolock", "--seeds", "1..2", "--swarm"], "--swarm: scenario counter-nolock declares no swarm ranges (a scenario's swarm: { cpus: [min, max], ... }; shipped ones that do: bug-sleep-in-atomic-rare, bug-sleep-in-atomic-rare-fixed)");
  badInput(["run", "bug-sleep-in-atomic-rare", "--swarm", "--machine", "arm.json"], 'machine file arm.json: "arch" must be "i386" or "x86_64", got "arm"');
  badInput(["run", "demo", "--proc", "buddyinfo"], "scenario demo: /proc/buddyinfo needs a machine with memory (machine.memory or --machine FILE)");
  badInput(["run", "demo", "--no-detect", "lockdep,kasn"], '--no-detect: unknown detector "kasn" (accepted: lockdep, kmemleak, kasan, might_sleep, spinlock, list, preempt, watchdog, hung_task)');
  badInput(["sweep", "demo", "--seeds", "1..2", "--lockdep", "--no-detect", "lockdep"], 'detector "lockdep" is both turned on and off');
  assert.equal(readdirSync(dir).sort(), ["arm.json", "bad.json", "noscn.ts", "throws.ts", "twice.ts", "zones.json"]);
});

test("proc buddyinfo: a fresh 128 MiB i386 machine, and the machine file of issue 3", () => {
  // DMA 4096 pages = 4 order-10 blocks; Normal 28672 pages = 28.
  const r = inProcess("proc", "buddyinfo");
  assert.is(r.code, 0, r.err);
  const row = (zone: string, counts: number[]) => `Node 0, zone ${zone.padStart(8)} ${counts.map((c) => `${String(c).padStart(6)} `).join("")}`;
  assert.is(r.out, [row("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]), row("Normal", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28])].join("\n") + "\n");
  writeFileSync(
    join(dir, "m.json"),
    JSON.stringify({ arch: "x86_64", kernel: "6", cpus: 2, zones: [{ name: "DMA", managed: 3840 }, { name: "DMA32", managed: 772808 }, { name: "Normal", managed: 131072 }], min_free_kbytes: 67584 }),
  );
  const m = inProcess("proc", "buddyinfo", "--machine", "m.json");
  assert.is(m.code, 0, m.err);
  // DMA: 3840 = 3*1024 + 512 + 256 from pfn 0. Normal: 131072 = 128*1024 from pfn 1048576.
  const lines = m.out.split("\n");
  assert.is(lines[0], row("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3]));
  assert.is(lines[2], row("Normal", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128]));
  // zoneinfo of the same machine (6.1 format): min_free_kbytes 67584 -> pages_min 16896 over
  // 907720 lowmem pages; Normal: tmp = 16896 * 131072 / 907720 = 2439, d = max(609, 131) -> 2439/3048/3657.
  const z = inProcess("proc", "zoneinfo", "--machine", "m.json");
  assert.is(z.code, 0, z.err);
  assert.match(z.out, /Node 0, zone   Normal\n  pages free     131072\n        boost    0\n        min      2439\n        low      3048\n        high     3657\n        spanned  131072\n/);
  rmSync(join(dir, "m.json"));
});

test("--lockdep: irq-lock-deadlock's seed 1 never deadlocks, but lockdep reports the inconsistent usage; the replay command keeps the flag", () => {
  const r = inProcess("run", "irq-lock-deadlock", "--lockdep");
  assert.is(r.code, 1, r.err);
  assert.match(r.out, /\] \[ INFO: inconsistent lock state \]\n/);
  assert.match(r.out, /\n  replay by seed: +mmsim run irq-lock-deadlock --seed 1 --lockdep\n/);
  rmSync(join(dir, "irq-lock-deadlock.seed-1.schedule.json"));
});

test("--kasan: refused on demo's kernel 2.6 machine, naming the field; kasan-use-after-free reports as it expects, its fixed twin is clean", () => {
  const bad = inProcess("run", "demo", "--kasan");
  assert.is(bad.code, 2, bad.out);
  assert.match(bad.err, /machine\.kasan needs machine memory .* with "kernel": "6" and "arch": "x86_64"/);
  const r = inProcess("run", "kasan-use-after-free");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /\] BUG: KASAN: use-after-free in rx_action\n.*\] Write of size 4 at addr ffff888[0-9a-f]{9} by task swapper\/0\/0\n/);
  const fixed = inProcess("run", "kasan-use-after-free-fixed", "--kasan");
  assert.is(fixed.code, 0, fixed.out);
  assert.not.match(fixed.out, /KASAN/);
});

test("--kmemleak: the leaked mempool element of bug-mempool-leak is reported at the end, its fixed twin is clean", () => {
  const r = inProcess("run", "bug-mempool-leak", "--kmemleak");
  assert.is(r.code, 1, r.err);
  assert.match(r.out, /\] kmemleak: 1 new suspected memory leak \(see \/sys\/kernel\/debug\/kmemleak\)\n.*\] unreferenced object 0x[0-9a-f]{8} \(size 512\):\n/);
  assert.match(r.out, /\n  replay by seed: +mmsim run bug-mempool-leak --seed 1 --kmemleak\n/);
  rmSync(join(dir, "bug-mempool-leak.seed-1.schedule.json"));
  const fixed = inProcess("run", "bug-mempool-leak-fixed", "--kmemleak");
  assert.is(fixed.code, 0, fixed.out);
  assert.not.match(fixed.out, /kmemleak/);
});

test("shrink: the story of irq-lock-deadlock seed 3, a shrunk schedule that replays with its decisions in words; bad input", () => {
  const r = inProcess("shrink", "irq-lock-deadlock", "--seed", "3");
  assert.is(r.code, 1, r.err);
  assert.match(r.out, /^shrink: irq-lock-deadlock, seed 3: \[spinlock\] BUG: spinlock recursion on CPU#0, update_stats\/2\n/);
  assert.match(r.out, /\n  the seed's run: 2 CPUs, 23 delays, 0 tie-breaks, 5 interrupts, 182 steps\n  shrunk:         1 CPU, 0 delays, 0 tie-breaks, /);
  assert.match(r.out, /\nwhat happens:\n(  \d\.\d{6}  .*\n)+  \d\.\d{6}  CPU0 \[update_stats-2\] => BUG: spinlock recursion on CPU#0, update_stats\/2\n/);
  assert.match(r.out, /  CPU0 takes IRQ 11 \(eth0\) in update_stats-2 holding dev_lock after it takes dev_lock\n/);
  assert.match(r.out, /\nwrote irq-lock-deadlock\.seed-3\.shrunk\.schedule\.json\n/);
  const file = JSON.parse(readFileSync(join(dir, "irq-lock-deadlock.seed-3.shrunk.schedule.json"), "utf8"));
  assert.is(file.fails, "spinlock");
  assert.is(file.cpus, 1);
  assert.ok(file.decisions.length > 0 && file.decisions.every((d: { text: string }) => typeof d.text === "string"));
  const rep = inProcess("replay", "irq-lock-deadlock.seed-3.shrunk.schedule.json");
  assert.is(rep.code, 1);
  assert.match(rep.out, /\nscheduling decisions \(shrunk schedule\): \d+\n/);
  assert.match(rep.out, /\nreplay: same trace as recorded \([0-9a-f]{16}\)\n/);
  rmSync(join(dir, "irq-lock-deadlock.seed-3.shrunk.schedule.json"));
  badInput(["shrink", "irq-lock-deadlock"], "shrink needs --seed N (the failing seed, as a sweep printed it)");
  badInput(["shrink", "bug-abba-fixed", "--seed", "1"], "scenario bug-abba-fixed: seed 1 does not fail (no report, every expectation met): nothing to shrink");
  badInput(["shrink", "irq-lock-deadlock", "--seed", "3", "--budget", "0"], '--budget must be an integer from 1 to 1000000, got "0"');
});

test("--no-detect might_sleep: sleep-in-atomic runs clean (exit 0); a failing run's replay command keeps --detect / --no-detect", () => {
  const r = inProcess("run", "sleep-in-atomic", "--no-detect", "might_sleep");
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /\nreports: none\n/);
  const f = inProcess("run", "sleep-in-atomic", "--detect", "lockdep,watchdog", "--no-detect", "hung_task");
  assert.is(f.code, 1);
  assert.match(f.out, /\n  replay by seed: +mmsim run sleep-in-atomic --seed 1 --detect lockdep,watchdog --no-detect hung_task\n/);
  rmSync(join(dir, "sleep-in-atomic.seed-1.schedule.json"));
});

test("--check-determinism: the run twice in one process, the same trace hash", () => {
  const r = inProcess("run", "counter-spinlock", "--check-determinism", "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.determinism, { same: true, traceHashes: [j.traceHash, j.traceHash] });
  const text = inProcess("run", "counter-spinlock", "--check-determinism");
  assert.match(text.out, /\ndeterminism: the same trace hash in two runs \([0-9a-f]{16}\)\n$/);
});

test("sweep --shard I/N writes JSON lines; merge finds the same first failing seed as one sweep, and refuses an incomplete set", () => {
  const whole = inProcess("sweep", "counter-nolock", "--seeds", "1..30");
  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = inProcess("sweep", "counter-nolock", "--seeds", "1..30", "--shard", `${i}/3`);
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines[0], { format: "mmsim-shard", version: 2, scenario: "counter-nolock", seeds: { from: 1, to: 30 }, shard: { index: i, count: 3 }, all: false, replayArgs: "" });
    // Shard i runs seeds 1 + i, 4 + i, ...
    assert.ok(lines.slice(1, -1).every((o: { seed: number }) => (o.seed - 1) % 3 === i));
    writeFileSync(join(dir, `shard-${i}.jsonl`), r.out);
    files.push(`shard-${i}.jsonl`);
  }
  const merged = inProcess("merge", ...files);
  const firstSeed = (out: string) => out.split("\n").find((l) => l.startsWith("seed "));
  assert.is(firstSeed(merged.out), firstSeed(whole.out));
  assert.is(merged.code, 1);
  const short = inProcess("merge", files[0]!, files[2]!);
  assert.is(short.code, 2);
  assert.is(short.err, "mmsim: shard 1/3 missing (merge needs all 3)\n");
  for (const f of files) rmSync(join(dir, f));
});

test("--trace FILE: the whole run as Chrome Trace Event JSON, named in the output", () => {
  const r = inProcess("run", "counter-spinlock", "--trace", "t.json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(readFileSync(join(dir, "t.json"), "utf8"));
  assert.is(j.traceEvents[0].args.name, "mmsim: counter-spinlock seed 1");
  assert.match(r.out, new RegExp(`\\ntrace: t\\.json \\(${j.traceEvents.length > 0 ? "\\d+" : "0"} events; open it in Perfetto, ui\\.perfetto\\.dev\\)\\n$`));
  rmSync(join(dir, "t.json"));
  const bad = inProcess("run", "counter-spinlock", "--trace", "/nonexistent-dir/t.json");
  assert.is(bad.code, 2);
  assert.match(bad.err, /^mmsim: cannot write trace \/nonexistent-dir\/t\.json: ENOENT/);
});

test("--swarm: the drawn machine in run's summary and JSON, in the schedule (replay rebuilds it), in sweep's failing seeds, shards and merge", () => {
  const SWARM_LINE = /\nswarm: cpus [1-4], mb \d+, pcp (on|off), eth0 \d+\/s\n/;
  const j = JSON.parse(inProcess("run", "bug-sleep-in-atomic-rare", "--swarm", "--seed", "3", "--json").out);
  assert.ok(j.swarm.cpus >= 1 && j.swarm.cpus <= 4 && j.swarm.mb >= 16 && j.swarm.mb <= 128, JSON.stringify(j.swarm));
  assert.is(j.cpus, j.swarm.cpus);
  const file = JSON.parse(readFileSync(join(dir, j.schedule), "utf8"));
  assert.equal(file.swarm, j.swarm);
  const b = JSON.parse(inProcess("replay", j.schedule, "--json").out);
  assert.is(b.sameTrace, true);
  assert.equal(b.swarm, j.swarm);
  const text = inProcess("run", "bug-sleep-in-atomic-rare", "--swarm", "--seed", "3");
  assert.match(text.out, SWARM_LINE);
  assert.match(text.out, /\n  replay by seed: +mmsim run bug-sleep-in-atomic-rare --seed 3 --swarm\n/);
  rmSync(join(dir, j.schedule));
  // Seeds 1..3 draw different machines (the same ones a run of each seed draws).
  const sw = JSON.parse(inProcess("sweep", "bug-sleep-in-atomic-rare", "--seeds", "1..3", "--all", "--swarm", "--json").out);
  assert.ok(sw.failing.length > 0);
  for (const f of sw.failing) {
    assert.equal(f.swarm, JSON.parse(inProcess("run", "bug-sleep-in-atomic-rare", "--swarm", "--seed", String(f.seed), "--json", "--schedule", "x.json").out).swarm);
    assert.is(f.replay, `mmsim run bug-sleep-in-atomic-rare --seed ${f.seed} --swarm`);
  }
  rmSync(join(dir, "x.json"));
  const st = inProcess("sweep", "bug-sleep-in-atomic-rare", "--seeds", "1..3", "--all", "--swarm");
  assert.match(st.out, /\nseed \d+: BUG: sleeping function called from invalid context at mm\/slab\.c:3101\n  swarm: cpus [1-4], mb \d+, pcp (on|off), eth0 \d+\/s\n/);
  const shards = [0, 1].map((i) => inProcess("sweep", "bug-sleep-in-atomic-rare", "--seeds", "1..3", "--all", "--swarm", "--shard", `${i}/2`).out);
  assert.is(JSON.parse(shards[0]!.split("\n")[0]!).replayArgs, " --swarm");
  assert.ok(shards[0]!.split("\n").slice(1, -2).every((l) => "cpus" in JSON.parse(l).swarm));
  shards.forEach((o, i) => writeFileSync(join(dir, `sw-${i}.jsonl`), o));
  const merged = inProcess("merge", "sw-0.jsonl", "sw-1.jsonl", "--json");
  assert.equal(JSON.parse(merged.out).failing, sw.failing);
  for (const i of [0, 1]) rmSync(join(dir, `sw-${i}.jsonl`));
});

test("list names every shipped scenario with its description", () => {
  const r = inProcess("list");
  assert.is(r.code, 0);
  const names = r.out.trim().split("\n").map((l) => l.split(/\s+/)[0]);
  assert.equal(names, [
    "demo",
    "counter-spinlock",
    "counter-nolock",
    "irq-lock-deadlock",
    "irq-lock-irqsave",
    "sleep-in-atomic",
    "msleep-in-atomic",
    "kmalloc-in-atomic",
    "kmalloc-atomic-ok",
    "rcu-sleep-in-reader",
    "rcu-sleep-in-reader-fixed",
    "tasklet-smp",
    "atomic-storm",
    "fragmentation",
    "zone-lock",
    "zone-lock-nopcp",
    "oom-killer",
    "false-sharing",
    "false-sharing-padded",
    "percpu-counter",
    "percpu-counter-get-cpu",
    "list-race",
    "list-race-locked",
    "stale-tlb",
    "stale-tlb-fixed",
    "kmap-pressure",
    "kmap-atomic-irq",
    "kmap-atomic-irq-fixed",
    "tlb-reach",
    "vfree-shootdown",
    "vmalloc-fault",
    "mempool-io",
    "mempool-io-nopool",
    "slab-tasklet",
    "slab-tasklet-kernel",
    "kmalloc-vmalloc",
    "slab-colour",
    "slab-colour-off",
    "slab-use-after-free",
    "slab-use-after-free-fixed",
    "kasan-use-after-free",
    "kasan-use-after-free-fixed",
    "rcu-use-after-free",
    "rcu-use-after-free-fixed",
    "tasklet-sleep",
    "tasklet-sleep-fixed",
    "del-timer-sync-lock",
    "del-timer-sync-lock-fixed",
    "semaphore-tasklet",
    "semaphore-tasklet-trylock",
    "rwlock-irq-deadlock",
    "rwlock-irq-irqsave",
    "completion-two-waiters",
    "completion-two-waiters-fixed",
    "atomic-check-then-act",
    "atomic-dec-and-test",
    ...BUGS.flatMap((b) => [b.name, `${b.name}-fixed`]),
  ]);
});

test("run --proc buddyinfo: the file at the end of the run; a scenario's expected reports do not fail it", () => {
  const r = inProcess("run", "fragmentation", "--proc", "buddyinfo");
  assert.is(r.code, 0, r.err);
  const at = r.out.indexOf("--- /proc/buddyinfo at the end ---\n");
  assert.ok(at > 0);
  // The fragmenting pages are still held: single pages and the reserve's few blocks (worked out
  // in test/scenarios/mm.test.ts), no order-10 block left.
  assert.ok(r.out.slice(at).includes("Node 0, zone   Normal   2031      1      0      0      0      1      0      0      0      0      0 \n"), r.out.slice(at));
  assert.ok(r.out.includes("fragger: page allocation failure. order:4, mode:0xd0"));
});

test("run: dmesg log, summary, and the trace hash last; exit 0 when clean", () => {
  const r = mmsim("run", "counter-spinlock", "--seed", "2", "--cpus", "3");
  assert.is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split("\n");
  assert.match(lines[0]!, /^\[    0\.000000\] \[  C0\] Linux version 2\.6\.34-mmsim \(mmsim\) SMP PREEMPT$/);
  assert.ok(lines.includes("--- summary: counter-spinlock, seed 2, 3 CPUs ---"));
  assert.ok(lines.includes("reports: none"));
  assert.match(lines[lines.length - 1]!, /^trace-hash: [0-9a-f]{16}$/);
});

test("run --json: the documented fields", () => {
  const r = inProcess("run", "sleep-in-atomic", "--json");
  assert.is(r.code, 1);
  const j = JSON.parse(r.out);
  for (const k of ["scenario", "seed", "traceHash", "steps", "virtualTimeNs", "reports", "stats"]) assert.ok(k in j, k);
  assert.is(j.scenario, "sleep-in-atomic");
  assert.is(j.seed, 1);
  assert.equal(Object.keys(j.reports[0]).slice(0, 3), ["kind", "title", "text"]);
  assert.is(j.reports[0].kind, "might_sleep");
  assert.is(j.schedule, "sleep-in-atomic.seed-1.schedule.json");
  assert.ok(existsSync(join(dir, j.schedule)));
});

test("run --trace-tail prints the newest trace events as ftrace does", () => {
  const r = inProcess("run", "msleep-in-atomic", "--trace-tail", "3");
  const lines = r.out.split("\n");
  const at = lines.findIndex((l) => l.startsWith("--- trace: last 3 of "));
  assert.ok(at > 0, r.out);
  for (const l of lines.slice(at + 1, at + 4)) assert.match(l, /^ *\S+-\d+ \[\d{3}\] +\d+\.\d{9}: [a-z_]+: /);
});

test("run a scenario file (the README example)", () => {
  const r = mmsim("run", join(ROOT, "scenarios", "examples", "packet-counter.ts"), "--seed", "3");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /reader: \d+ packets/);
});

test("sweep: finds the first failing seed of counter-nolock with 1 and with 2 jobs, same answer", () => {
  const one = mmsim("sweep", "counter-nolock", "--seeds", "1..30");
  const two = mmsim("sweep", "counter-nolock", "--seeds", "1..30", "--jobs", "2");
  assert.is(one.code, 1);
  assert.is(two.code, 1);
  assert.is(one.err, "");
  assert.is(two.err, "");
  const seedLine = (s: string) => s.split("\n").find((l) => l.startsWith("seed "));
  assert.is(seedLine(two.out), seedLine(one.out));
  // The whole result, the seeds counted included: a seed above the first failure that the
  // second worker ran meanwhile is not counted.
  assert.is(two.out, one.out);
  assert.match(one.out, /^sweep counter-nolock: ran 1 seed of 1\.\.30, first failing:\n/);
  assert.match(one.out, /\n  replay: mmsim run counter-nolock --seed \d+\n/);
  // The replay command fails the same way.
  const seed = /^seed (\d+):/.exec(seedLine(one.out)!)![1]!;
  const again = mmsim("run", "counter-nolock", "--seed", seed, "--json");
  assert.is(again.code, 1);
  assert.is(`seed ${seed}: ${JSON.parse(again.out).expectations[0]}`, seedLine(one.out));
});

test("a schedule that cannot be written: the run's output, then one line, exit 2", () => {
  const r = mmsim("run", "counter-spinlock", "--schedule", "/nonexistent-dir/x.json");
  assert.is(r.code, 2);
  assert.match(r.out, /\ntrace-hash: [0-9a-f]{16}\n$/);
  assert.is(r.err, "mmsim: cannot write schedule /nonexistent-dir/x.json: ENOENT: no such file or directory, open '/nonexistent-dir/x.json.tmp'\n");
});

test("a run made with --machine replays from its schedule to the same trace", () => {
  writeFileSync(join(dir, "hz.json"), JSON.stringify({ hz: 1000, preempt: false }));
  const a = inProcess("run", "demo", "--machine", "hz.json", "--schedule", "hz.schedule.json", "--json");
  assert.is(a.code, 0, a.err);
  const b = inProcess("replay", "hz.schedule.json", "--json");
  assert.is(b.code, 0, b.err);
  assert.is(JSON.parse(b.out).traceHash, JSON.parse(a.out).traceHash);
  rmSync(join(dir, "hz.json"));
  rmSync(join(dir, "hz.schedule.json"));
});

test("--failslab: the forced failures are logged, the replay command repeats the option, the schedule replays them", () => {
  // slab-tasklet takes one GFP_ATOMIC buffer a packet; times=3 fails three of them, so its check
  // (a buffer for every packet) fails.
  const r = inProcess("run", "slab-tasklet", "--failslab", "probability=100,times=3,verbose=1");
  assert.is(r.code, 1, r.err);
  assert.is(r.out.split("\n").filter((l) => l.endsWith("] FAULT_INJECTION: forcing a failure")).length, 3);
  assert.match(r.out, /\n  replay by seed: +mmsim run slab-tasklet --seed 1 --failslab probability=100,times=3,verbose=1\n/);
  const b = inProcess("replay", "slab-tasklet.seed-1.schedule.json", "--json");
  assert.is(JSON.parse(b.out).sameTrace, true);
  rmSync(join(dir, "slab-tasklet.seed-1.schedule.json"));
});

test("sweep --all over a clean scenario: exit 0", () => {
  const r = mmsim("sweep", "counter-spinlock", "--seeds", "1..6", "--jobs", "2", "--all", "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.ran, 6);
  assert.equal(j.failing, []);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
