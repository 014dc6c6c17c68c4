// Boots a sweep worker thread: registers tsx, imports the scenario file if the job names one,
// then serves seeds (src/cli/sweep_worker.ts).
import { register } from "tsx/esm/api";
import { register as registerCjs } from "tsx/cjs/api";
import { workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

register();
registerCjs();
const { preload, isScenarioPath } = await import("../src/cli/load.ts");
if (isScenarioPath(workerData.ref)) {
  try {
    preload(workerData.ref, await import(pathToFileURL(resolve(workerData.ref)).href));
  } catch (e) {
    preload(workerData.ref, e instanceof Error ? e : new Error(String(e)));
  }
}
const { serveWorker } = await import("../src/cli/sweep_worker.ts");
serveWorker();
