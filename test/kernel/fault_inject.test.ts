// failslab and fail_page_alloc: should_fail()'s attributes with outcomes worked out by hand from
// lib/fault-inject.c (probability 100 always fails: the draw is below 100), the gfp rules of
// mm/failslab.c and mm/page_alloc.c, and each era's message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Effect from "effect/Effect";
import { inTask } from "../helpers.ts";
import { parseMachineFile } from "../../src/harness/machine_file.ts";
import { parse_fault_option, type FaultInjectionSpec } from "../../src/kernel/fault_inject.ts";
import { GFP_ATOMIC, GFP_KERNEL, __GFP_HIGHMEM, __GFP_NOWARN, __free_pages, alloc_pages, kfree, kmalloc, kthread_run, make_it_fail, type gfp_t } from "../../src/kernel/index.ts";

const machine = (fault_injection: FaultInjectionSpec, kernel: "2.6" | "6" = "2.6") => ({ cpus: 1, memory: { arch: "i386", kernel, mb: 64 }, fault_injection }) as const;

/** n kmalloc(128, gfp) calls in one task: "ok" or "fail" each. */
function kmallocs(n: number, gfp: gfp_t, m: ReturnType<typeof machine>) {
  const out: string[] = [];
  const r = inTask(
    () =>
      Effect.gen(function* () {
        for (let i = 0; i < n; i++) {
          const p = yield* kmalloc(128, gfp);
          out.push(p === 0 ? "fail" : "ok");
          if (p !== 0) yield* kfree(p);
        }
      }),
    m,
  );
  return { out, log: r.log.map((l) => l.replace(/^\[[^\]]*\] \[ *C\d+\] /, "")) };
}

test("interval 3, times 2: every third eligible call fails, twice, then never", () => {
  const { out } = kmallocs(9, GFP_ATOMIC, machine({ failslab: { probability: 100, interval: 3, times: 2 } }));
  assert.equal(out, ["ok", "ok", "fail", "ok", "ok", "fail", "ok", "ok", "ok"]);
});

test("space 300: the first 300 bytes pass (size-128: 128 a call, 300 -> 172 -> 44), then calls fail; times -1 has no limit", () => {
  const { out } = kmallocs(5, GFP_ATOMIC, machine({ failslab: { probability: 100, space: 300, times: -1 } }));
  assert.equal(out, ["ok", "ok", "fail", "fail", "fail"]);
});

test("ignore-gfp-wait (default Y): GFP_KERNEL never fails; with N it does", () => {
  assert.equal(kmallocs(3, GFP_KERNEL, machine({ failslab: { probability: 100, times: -1 } })).out, ["ok", "ok", "ok"]);
  assert.equal(kmallocs(3, GFP_KERNEL, machine({ failslab: { probability: 100, times: -1, "ignore-gfp-wait": false } })).out, ["fail", "fail", "fail"]);
});

test("probability 30 over 1000 calls: about 300 failures (binomial, sd 14.5), the same on a replay of the seed", () => {
  const count = () => kmallocs(1000, GFP_ATOMIC, machine({ failslab: { probability: 30, times: -1, verbose: 0 } })).out.filter((x) => x === "fail").length;
  const a = count();
  assert.ok(a > 250 && a < 350, `${a} failures`);
  assert.is(count(), a);
});

test("2.6.34's message: 'FAULT_INJECTION: forcing a failure' and, with verbose 2 (the default), a backtrace", () => {
  const { log } = kmallocs(1, GFP_ATOMIC, machine({ failslab: { probability: 100 } }));
  const at = log.indexOf("FAULT_INJECTION: forcing a failure");
  assert.ok(at >= 0, log.join("\n"));
  assert.equal(log.slice(at + 2, at + 6), ["Call Trace:", " should_fail", " should_failslab", " __kmalloc"]);
  const quiet = kmallocs(1, GFP_ATOMIC, machine({ failslab: { probability: 100, verbose: 1 } })).log;
  assert.ok(quiet.includes("FAULT_INJECTION: forcing a failure"));
  assert.not.ok(quiet.includes("Call Trace:"));
});

test("6.x's message names the attributes (times before it is used up); __GFP_NOWARN prints nothing; burst of 10 per 5 s", () => {
  const { log } = kmallocs(1, GFP_ATOMIC, machine({ failslab: { probability: 100, times: 2 } }, "6"));
  const at = log.indexOf("FAULT_INJECTION: forcing a failure.");
  assert.ok(at >= 0, log.join("\n"));
  assert.is(log[at + 1], "name failslab, interval 1, probability 100, space 0, times 2");
  const nowarn = kmallocs(2, GFP_ATOMIC | __GFP_NOWARN, machine({ failslab: { probability: 100, times: -1 } }, "6"));
  assert.equal(nowarn.out, ["fail", "fail"]);
  assert.not.ok(nowarn.log.some((l) => l.startsWith("FAULT_INJECTION")));
  // 12 failures in well under 5 s: 6.x prints 10 (the ratelimit burst), 2.6.34 all 12.
  const many = (era: "2.6" | "6") => kmallocs(12, GFP_ATOMIC, machine({ failslab: { probability: 100, times: -1, verbose: 1 } }, era)).log.filter((l) => l.startsWith("FAULT_INJECTION")).length;
  assert.is(many("6"), 10);
  assert.is(many("2.6"), 12);
});

test("fail_page_alloc: min-order 1 spares order 0; ignore-gfp-highmem spares __GFP_HIGHMEM; min-order 0 fails order 0", () => {
  const tries = (f: FaultInjectionSpec["fail_page_alloc"], calls: [gfp_t, number][]) => {
    const out: string[] = [];
    inTask(
      () =>
        Effect.gen(function* () {
          for (const [gfp, order] of calls) {
            const p = yield* alloc_pages(gfp, order);
            out.push(p === null ? "fail" : "ok");
            if (p !== null) yield* __free_pages(p, order);
          }
        }),
      machine({ fail_page_alloc: f! }),
    );
    return out;
  };
  const calls: [gfp_t, number][] = [[GFP_ATOMIC, 0], [GFP_ATOMIC, 1], [GFP_ATOMIC | __GFP_HIGHMEM, 1], [GFP_KERNEL, 2]];
  assert.equal(tries({ probability: 100, times: -1 }, calls), ["ok", "fail", "ok", "ok"]);
  assert.equal(tries({ probability: 100, times: -1, "min-order": 0, "ignore-gfp-highmem": false }, calls), ["fail", "fail", "fail", "ok"]);
});

test("task-filter: only a task that set make-it-fail fails", () => {
  const out: Record<string, string[]> = { marked: [], other: [] };
  const body = (who: "marked" | "other") => () =>
    Effect.gen(function* () {
      if (who === "marked") make_it_fail(true);
      for (let i = 0; i < 2; i++) {
        const p = yield* kmalloc(64, GFP_ATOMIC);
        out[who]!.push(p === 0 ? "fail" : "ok");
      }
    });
  inTask(
    () =>
      Effect.sync(() => {
        kthread_run(body("marked"), null, "marked");
        kthread_run(body("other"), null, "other");
      }),
    { ...machine({ failslab: { probability: 100, times: -1, "task-filter": true } }), cpus: 2 },
  );
  assert.equal(out, { marked: ["fail", "fail"], other: ["ok", "ok"] });
});

test("bad attributes are named with what is accepted, from the command line and in a machine file", () => {
  assert.throws(() => parse_fault_option("failslab", "probabilty=10"), /failslab: unknown attribute "probabilty" \(accepted: probability, interval, times, space, verbose, task-filter, ignore-gfp-wait\)/);
  assert.throws(() => parse_fault_option("fail_page_alloc", "times=-2"), /fail_page_alloc: times must be an integer from -1 to 2147483647, got -2/);
  assert.throws(() => parse_fault_option("failslab", "ignore-gfp-wait=maybe"), /ignore-gfp-wait must be Y or N, got "maybe"/);
  assert.throws(() => parse_fault_option("failslab", "10"), /"10" is not attribute=value/);
  assert.equal(parse_fault_option("fail_page_alloc", "probability=10,min-order=0,ignore-gfp-wait=N"), { probability: 10, "min-order": 0, "ignore-gfp-wait": false });
  assert.equal(parseMachineFile({ fault_injection: { failslab: { probability: 5 } } }), { fault_injection: { failslab: { probability: 5 } } });
  assert.throws(() => parseMachineFile({ fault_injection: { failpage: {} } }), /unknown fault "failpage" \(accepted: failslab, fail_page_alloc\)/);
});

test.run();
