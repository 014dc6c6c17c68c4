// kernel/irq/handle.c, chip.c (handle_edge_irq) and arch/x86/kernel/irq.c reduced: do_IRQ() enters
// hardirq context and runs every action of the line, never on two CPUs at once (an arrival while
// the handler runs elsewhere marks the line pending and that CPU runs it again). Handlers run with
// interrupts disabled (IRQF_DISABLED, the rule since 2.6.35); irq_exit() runs pending softirqs.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { irq_enter, irq_exit } from "../softirq.ts";
import { trace_irq_handler_entry, trace_irq_handler_exit } from "../trace.ts";
import { IRQ_NONE, type irqreturn_t } from "./irqdesc.ts";

export const do_IRQ = (irq: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const k = kernel();
    const ctx = k.this_ctx();
    irq_enter();
    const desc = k.irq_desc.get(irq);
    if (desc === undefined || desc.actions.length === 0) {
      k.printk(`do_IRQ: ${k.this_cpu().id}.${irq} No irq handler for vector (irq ${irq})`);
    } else if (desc.in_progress) {
      // handle_edge_irq(): the line's handler is running on another CPU; that CPU runs it again.
      desc.pending = true;
    } else {
      desc.in_progress = true;
      ctx.frames.push("handle_edge_irq");
      do {
        desc.pending = false;
        desc.count++;
        let ret: irqreturn_t = IRQ_NONE;
        ctx.frames.push("handle_IRQ_event");
        for (const action of desc.actions) {
          trace_irq_handler_entry(irq, action.name);
          ctx.frames.push(action.handler.name || action.name);
          const r = yield* action.handler(irq, action.dev_id);
          ctx.frames.pop();
          trace_irq_handler_exit(irq, r);
          ret = (ret | r) as irqreturn_t;
        }
        ctx.frames.pop();
        if (ret === IRQ_NONE) desc.unhandled++;
      } while (desc.pending);
      ctx.frames.pop();
      desc.in_progress = false;
    }
    yield* irq_exit();
  });
