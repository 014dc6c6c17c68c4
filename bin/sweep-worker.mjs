// Boots a sweep worker thread: registers tsx, then serves seeds (src/cli/sweep_worker.ts).
import { createRequire } from "node:module";
import { register } from "tsx/cjs/api";

register();
createRequire(import.meta.url)("../src/cli/sweep_worker.ts").serveWorker();
