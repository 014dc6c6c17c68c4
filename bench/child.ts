// One measurement in a process of its own (bench/index.ts spawns it), so that one figure's
// garbage and compiled code do not slow the next: `node dist/bench/child.js <what> [args]`
// runs it once to warm up, then again, and prints the second result as JSON.
import { mmsimSpin, plainSpin } from "./spin.ts";
import { bareBuddyPairs, simPairs } from "./alloc.ts";
import { measureEngineOptions } from "./engine_options.ts";
import { bytesPerPage } from "./page_memory.ts";
import { resumeCost } from "./order.ts";

const [what, ...args] = process.argv.slice(2);
const n = (i: number): number => Number(args[i]);

function measure(): unknown {
  switch (what) {
    case "mmsim-spin":
      return mmsimSpin(n(0), n(1), n(2), args[3] !== undefined ? n(3) : n(0));
    case "plain-spin":
      return plainSpin(n(0), n(1), n(2));
    case "page-pairs":
      return simPairs("page");
    case "kmalloc-pairs":
      return simPairs("kmalloc");
    case "bare-buddy":
      return { rate: bareBuddyPairs() };
    case "engine-options":
      return measureEngineOptions(n(0));
    case "resume-order":
      return resumeCost(n(0), n(1), args[2] === "random");
    case "page-memory":
      return bytesPerPage();
    default:
      throw new Error(`bench child: unknown measurement ${what}`);
  }
}

// Once to warm the JIT up (the figures are of code as compiled for the long run), then measured.
if (what !== "page-memory") measure();
process.stdout.write(JSON.stringify(measure()) + "\n");
