// The edge Worker exactly as deployed (workers/edge.ts), with counters on its bindings for the cost model
// (bench/lib/binding-spies.ts). Bundled by bench/lib/miniflare-worker.mjs with wrangler.jsonc's configuration.
import edge from "../workers/edge";
import { spyWorker } from "./lib/binding-spies";

export default spyWorker(edge);
