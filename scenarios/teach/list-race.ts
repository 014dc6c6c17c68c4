// A request queue (a list_head) with CONFIG_DEBUG_LIST (kernel 6, x86_64). The NIC's interrupt
// handler (CPU0) queues a request per packet under q_lock; a worker thread (CPU1) takes requests
// off the queue under the lock and processes them; a timeout path (CPU0, every millisecond)
// cancels the oldest request if it is still queued. The bug: the timeout path looks up the oldest
// request and checks that it is still queued before it takes the lock; when the worker dequeues
// that request meanwhile, the cancel's list_del() finds it deleted and poisoned already:
// "list_del corruption, ffff888003000xxx->next is LIST_POISON1 (dead000000000100)", a WARN from
// __list_del_entry_valid(), which skips the unlink; the request was processed and cancelled. Most
// seeds catch it at least once. The fix, list-race-locked, looks and cancels under the lock.
import { defineScenario } from "../../src/harness/scenario.ts";
import {
  DECLARE_WAIT_QUEUE_HEAD, DEFINE_SPINLOCK, IRQ_HANDLED, LIST_HEAD, kthread_run, list_add_tail, list_del, list_empty, list_first_entry_or_null,
  list_head_of, msleep, nic, printk, request_irq, spin_lock, spin_lock_irq, spin_unlock, spin_unlock_irq, udelay, wait_event, wake_up,
  type list_head,
} from "../../src/kernel/index.ts";

export const REQUESTS = 300;
/** A request's processing; the cancel path's work between its check and the lock. */
const WORK_US = 40;
const CANCEL_US = 20;

class Req {
  readonly node: list_head<Req> = list_head_of(this);
  queued = true;
  constructor(readonly id: number) {}
}

interface State {
  queued: number;
  processed: number;
  cancelled: number;
}

const make = (name: string, fixed: boolean) =>
  defineScenario({
    name,
    description: fixed
      ? "the same queue, the cancel path checking under the lock: no corruption"
      : "a cancel path checks whether its request is still queued before taking the lock: a double list_del that CONFIG_DEBUG_LIST reports",
    machine: { cpus: 2, hz: 1000, memory: { arch: "x86_64", kernel: "6", mb: 64 }, nics: [{ name: "eth0", irq: 11, rate: 20000, cpus: [0] }] },
    setup(): State {
      const st: State = { queued: 0, processed: 0, cancelled: 0 };
      const queue = LIST_HEAD<Req>();
      const q_lock = DEFINE_SPINLOCK("q_lock");
      const q_wait = DECLARE_WAIT_QUEUE_HEAD();
      const all_queued = () => st.queued >= REQUESTS;
      function* eth0_interrupt(_irq: number, _dev: unknown) {
        const n = nic("eth0").reap().length;
        yield* spin_lock(q_lock);
        for (let i = 0; i < n && !all_queued(); i++) {
          list_add_tail(new Req(st.queued++).node, queue);
        }
        yield* spin_unlock(q_lock);
        wake_up(q_wait);
        return IRQ_HANDLED;
      }
      request_irq(11, eth0_interrupt, 0, "eth0", null);
      function* worker(_: null) {
        for (;;) {
          yield* wait_event(q_wait, () => !list_empty(queue) || all_queued());
          yield* spin_lock_irq(q_lock);
          const req = list_first_entry_or_null(queue);
          if (req !== null) {
            list_del(req.node);
            req.queued = false;
          }
          yield* spin_unlock_irq(q_lock);
          if (req === null) {
            if (all_queued()) break;
            continue;
          }
          yield* udelay(WORK_US); // process it
          st.processed++;
        }
      }
      function* req_timeout(_: null) {
        while (!all_queued()) {
          yield* msleep(1);
          if (fixed) {
            yield* spin_lock_irq(q_lock);
            const oldest = list_first_entry_or_null(queue);
            if (oldest !== null) cancel(oldest);
            yield* spin_unlock_irq(q_lock);
            continue;
          }
          // The bug: the request is looked up, and found still queued, without q_lock.
          const oldest = list_first_entry_or_null(queue);
          if (oldest === null || !oldest.queued) continue;
          yield* udelay(CANCEL_US); // tell its client
          yield* spin_lock_irq(q_lock);
          cancel(oldest);
          yield* spin_unlock_irq(q_lock);
        }
        printk(`queue: ${st.queued} requests, ${st.cancelled} cancelled`);
      }
      function cancel(req: Req): void {
        list_del(req.node);
        req.queued = false;
        st.cancelled++;
      }
      kthread_run(worker, null, "worker", { cpus: [1] });
      kthread_run(req_timeout, null, "req_timeout", { cpus: [0] });
      return st;
    },
    check(st, expect) {
      expect.equal(st.processed + st.cancelled, REQUESTS, "requests processed or cancelled (each once)");
    },
  });

export const listRace = make("list-race", false);
export const listRaceLocked = make("list-race-locked", true);
