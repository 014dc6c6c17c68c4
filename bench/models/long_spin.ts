// The spinlock model without an end (bench/memory.ts runs it to a step limit through the CLI).
import { spinModel } from "./spin_model.ts";

export default spinModel(4, Number.MAX_SAFE_INTEGER);
