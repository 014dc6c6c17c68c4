import { test } from "uvu";
import * as assert from "uvu/assert";
import { EventQueue } from "../../src/sim/eventq.ts";

test("events pop in (time, priority, sequence) order", () => {
  const q = new EventQueue();
  const fired: string[] = [];
  const add = (t: number, p: number, l: string) => q.schedule(t, p, l, () => fired.push(l));
  add(30, 0, "c");
  add(10, 1, "b1");
  add(10, 0, "a");
  add(10, 1, "b2");
  add(5, 9, "first");
  for (let e = q.pop(); e !== undefined; e = q.pop()) e.fire();
  assert.equal(fired, ["first", "a", "b1", "b2", "c"]);
});

test("cancelled events are skipped and not counted as pending", () => {
  const q = new EventQueue();
  const a = q.schedule(1, 0, "a", () => {});
  q.schedule(2, 0, "bg", () => {}, true);
  q.schedule(3, 0, "c", () => {});
  assert.is(q.pendingForeground, 2);
  q.cancel(a);
  assert.is(q.pendingForeground, 1);
  assert.is(q.peek()?.label, "bg");
  q.pop();
  assert.is(q.pop()?.label, "c");
  assert.is(q.pendingForeground, 0);
  assert.is(q.pop(), undefined);
});

test("cancelling an event that already fired changes no count; daemons are not live", () => {
  const q = new EventQueue();
  const a = q.schedule(1, 0, "a", () => {});
  q.schedule(2, 0, "watchdog", () => {}, false, true);
  assert.is(q.pendingLive, 1);
  q.pop();
  q.cancel(a);
  assert.is(q.pendingLive, 0);
  assert.is(q.pendingForeground, 0);
  assert.is(q.peek()?.label, "watchdog");
});

test("a thousand random-order events come out sorted", () => {
  const q = new EventQueue();
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = (i * 7919) % 1009;
    times.push(t);
    q.schedule(t, 0, String(i), () => {});
  }
  const out: number[] = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.time);
  assert.equal(out, [...times].sort((a, b) => a - b));
});

test.run();
