// kernel/irq/handle.c, chip.c (handle_edge_irq) and arch/x86/kernel/irq.c reduced: do_IRQ() enters
// hardirq context and runs every action of the line, never on two CPUs at once (an arrival while
// the handler runs elsewhere marks the line pending and that CPU runs it again). Handlers run with
// interrupts disabled (IRQF_DISABLED, the rule since 2.6.35); irq_exit() runs pending softirqs.
import * as Effect from "effect/Effect";
import { kernel } from "../kernel.ts";
import { irq_enter, irq_exit } from "../softirq.ts";
import { trace_irq_handler_entry, trace_irq_handler_exit } from "../trace.ts";
import { IRQ_NONE, type IrqDesc, type irqreturn_t } from "./irqdesc.ts";
import { BECOME, CALL, OpClass, op, type Activation } from "../../sim/op.ts";

/**
 * do_IRQ(irq) as an op, the handlers called in turn. Phases: 0 entering; 1 back from a handler
 * (its irqreturn_t in act.x). act.y: the line's descriptor; act.i: the action being run; act.m:
 * the OR of their returns.
 */
class DoIrq extends OpClass {
  constructor(readonly irq: number) {
    super();
  }
  run(act: Activation): unknown {
    const k = kernel();
    const ctx = k.this_ctx();
    const irq = this.irq;
    let desc: IrqDesc;
    if (act.phase === 0) {
      irq_enter();
      const d = k.irq_desc.get(irq);
      if (d === undefined || d.actions.length === 0) {
        k.printk(`do_IRQ: ${k.this_cpu().id}.${irq} No irq handler for vector (irq ${irq})`);
        return exit(act);
      }
      if (d.in_progress) {
        // handle_edge_irq(): the line's handler is running on another CPU; that CPU runs it again.
        d.pending = true;
        return exit(act);
      }
      desc = d;
      act.y = d;
      desc.in_progress = true;
      ctx.frames.push("handle_edge_irq");
      start_pass(desc, ctx.frames, act);
    } else {
      desc = act.y as IrqDesc;
      const r = act.x as irqreturn_t;
      ctx.frames.pop();
      trace_irq_handler_exit(irq, r);
      act.m = act.m | r;
      act.i++;
    }
    for (;;) {
      if (act.i < desc.actions.length) {
        const action = desc.actions[act.i]!;
        trace_irq_handler_entry(irq, action.name);
        ctx.frames.push(action.handler.name || action.name);
        act.x = action.handler(irq, action.dev_id);
        act.phase = 1;
        return CALL;
      }
      ctx.frames.pop();
      if (act.m === IRQ_NONE) desc.unhandled++;
      if (!desc.pending) break;
      start_pass(desc, ctx.frames, act);
    }
    ctx.frames.pop();
    desc.in_progress = false;
    return exit(act);
  }
}

/** One pass of handle_IRQ_event over the line's actions. */
function start_pass(desc: IrqDesc, frames: string[], act: Activation): void {
  desc.pending = false;
  desc.count++;
  act.m = IRQ_NONE;
  act.i = 0;
  frames.push("handle_IRQ_event");
}

/** irq_exit(), and the op is done. */
function exit(act: Activation): unknown {
  act.x = irq_exit();
  return BECOME;
}

export const do_IRQ = (irq: number): Effect.Effect<void> => (DO_IRQ[irq] ??= op(new DoIrq(irq)));
/** do_IRQ's op for each irq line, made once (an op value may be yielded again, and nests on other CPUs). */
const DO_IRQ: Effect.Effect<void>[] = [];
