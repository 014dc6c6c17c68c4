// kernel/irq/handle.c and arch/x86/kernel/irq.c reduced: do_IRQ() enters hardirq context, runs
// every action of the line (handlers run with interrupts disabled, as with IRQF_DISABLED, the
// rule since 2.6.35) and leaves through irq_exit(), which runs pending softirqs.
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
    } else {
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
    }
    yield* irq_exit();
  });
