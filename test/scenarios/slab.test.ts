// The object-allocator scenarios: each one's own check, and the numbers it is about.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScenario } from "../../src/harness/run.ts";
import { findScenario } from "../../scenarios/index.ts";

const scn = (name: string) => findScenario(name)!;
const logline = (r: ReturnType<typeof runScenario>, re: RegExp) => r.log.map((l) => re.exec(l)).find((m) => m !== null);

test("mempool-io: the pool keeps the IO going under exhaustion; plain GFP_NOIO stalls after one slab's 30 objects", () => {
  const pool = runScenario(scn("mempool-io"), { seed: 1 });
  assert.is(pool.failed, false, pool.expectations.join("; "));
  const plain = runScenario(scn("mempool-io-nopool"), { seed: 1 });
  assert.is(plain.failed, false, plain.expectations.join("; "));
  const done = (r: typeof pool) => Number(logline(r, /: (\d+) requests done in 200 ms$/)![1]);
  // 200 ms of ~1 ms requests: at least 150 with the pool; exactly 30 without (see the scenario).
  assert.ok(done(pool) >= 150);
  assert.is(done(plain), 30);
  // Both ran out of pages the same way; only the pool's path had to fall back (failed allocations).
  assert.ok(pool.stats.mm!.alloc_failures > 100 && plain.stats.mm!.alloc_failures === 1, `${pool.stats.mm!.alloc_failures} / ${plain.stats.mm!.alloc_failures}`);
});

test("slab-tasklet: GFP_ATOMIC in a tasklet is clean; GFP_KERNEL there is mm/slab.c's might_sleep report from softirq", () => {
  const ok = runScenario(scn("slab-tasklet"), { seed: 1 });
  assert.is(ok.failed, false, ok.expectations.join("; "));
  assert.equal(ok.reports, []);
  const bad = runScenario(scn("slab-tasklet-kernel"), { seed: 1 });
  assert.is(bad.failed, false, bad.expectations.join("; ")); // the report is expected
  assert.equal(bad.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at mm/slab.c:3101"]);
  // Softirq context: in_atomic() 1 (SOFTIRQ_OFFSET), and the path through the tasklet.
  assert.match(bad.reports[0]!.text, /\nin_atomic\(\): 1, irqs_disabled\(\): 0, pid: 0, name: swapper\/0\n/);
  assert.match(bad.reports[0]!.text, /\n __might_sleep\n kmem_cache_alloc\n rx_action\n tasklet_action\n __do_softirq\n irq_exit\n/);
});

test("kmalloc-vmalloc: 1 MiB from kmalloc is one contiguous 256-page slab; from vmalloc, 256 scattered pages and PTEs", () => {
  const r = runScenario(scn("kmalloc-vmalloc"), { seed: 1 });
  assert.is(r.failed, false, r.expectations.join("; "));
  // kmalloc: 256 pages + the first size-32 slab for its off-slab management (32 bytes).
  assert.ok(logline(r, /kmalloc\(1 MiB\): 257 pages, physically contiguous, no page-table entries/));
  // vmalloc: 256 pages + the PTE page of its 4 MiB range in init_mm.
  assert.ok(logline(r, /vmalloc\(1 MiB\): 257 pages \(1 of them page tables\), physically scattered, 256 PTEs in init_mm/));
});

test("slab-colour: coloured, 24 hot objects spread over 6 sets and never miss; uncoloured, 2400 conflict misses", () => {
  for (const name of ["slab-colour", "slab-colour-off"]) {
    const r = runScenario(scn(name), { seed: 1 });
    assert.is(r.failed, false, `${name}: ${r.expectations.join("; ")}`);
  }
});

test("kmalloc-in-atomic: GFP_KERNEL under spin_lock_irqsave reports, with irqs_disabled(): 1; GFP_ATOMIC is clean", () => {
  const bad = runScenario(scn("kmalloc-in-atomic"), { seed: 1 });
  assert.is(bad.failed, false);
  assert.equal(bad.reports.map((x) => x.title), ["BUG: sleeping function called from invalid context at mm/slab.c:3101"]);
  assert.match(bad.reports[0]!.text, /\nin_atomic\(\): 1, irqs_disabled\(\): 1, pid: \d+, name: listd\n/);
  assert.match(bad.reports[0]!.text, /\n __might_sleep\n __kmalloc\n add_entry\n kthread$/);
  const ok = runScenario(scn("kmalloc-atomic-ok"), { seed: 1 });
  assert.equal([ok.failed, ok.reports], [false, []]);
});

test("slab-use-after-free: DEBUG_SLAB's poison shows the tasklet's writes into the freed stats block; the fixed driver quiesces first", () => {
  const bad = runScenario(scn("slab-use-after-free"), { seed: 1 });
  assert.is(bad.failed, false, bad.expectations.join("; ")); // the report is expected
  assert.equal(bad.reports.map((x) => x.kind), ["slab_error"]);
  // size-64 with debug: 88-byte buffers, 44 a slab behind 208 bytes of management; the driver's
  // kmalloc is the run's first: object 15 of the first slab, 0xd0 + 15 * 88 + 8 = 0x600.
  // rx_packets is at offset 8: four bytes written after the free.
  assert.equal(bad.reports[0]!.text.split("\n").slice(0, 4), [
    "Slab corruption: size-64 start=c3c00600, len=64",
    "Redzone: 0x9f911029d74e35b/0x9f911029d74e35b.",
    "Last user: (driver_exit)",
    "000: 6b 6b 6b 6b 6b 6b 6b 6b ?? ?? ?? ?? 6b 6b 6b 6b",
  ]);
  const ok = runScenario(scn("slab-use-after-free-fixed"), { seed: 1 });
  assert.is(ok.failed, false, ok.expectations.join("; "));
  assert.equal(ok.reports, []);
});

test.run();
