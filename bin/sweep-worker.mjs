// Boots a sweep worker thread once: the compiled simulator, the job's scenario (its shipped
// module, or the scenario file), then it serves seeds until the sweep is done
// (src/cli/sweep_worker.ts).
import { workerData } from "node:worker_threads";
import { cli, prepareScenarios } from "./launch.mjs";

const load = await cli("load.js");
const ref = workerData.job.ref;
// A file reference may name one of the file's scenarios ("file.ts#name"): the file is imported.
await prepareScenarios(load, () => (load.isScenarioPath(ref) ? { file: load.splitRef(ref).path } : { name: ref }));
const { serveWorker } = await cli("sweep_worker.js");
serveWorker();
