// The router on miniflare with LOG_QUEUE bound to an RPC sink Worker instead of miniflare's Queues simulator.
// In production Queues is a separate service: the Worker pays for serializing a sendBatch, not for storing the
// messages. The simulator's broker runs inside the same workerd process, so a benchmark that uses it bills the
// broker's per-message work to the router; this variant shows the router's own cost. Every other binding is the
// one bench/lib/miniflare-worker.mjs gives.
import { Miniflare } from "miniflare";
import { controlOptions, workerOptions } from "./lib/miniflare-worker.mjs";

const LOG_SINK = `import { WorkerEntrypoint } from "cloudflare:workers";
export class LogSink extends WorkerEntrypoint {
  async send() {}
  async sendBatch() {}
}
export default { fetch: () => new Response(null, { status: 404 }) };
`;

export function startWorkerWithLogSink({ scriptPath, port, bindings = {} }) {
  const edge = workerOptions({ worker: "edge", scriptPath, bindings });
  return new Miniflare({
    port,
    workers: [
      {
        ...edge,
        queueProducers: {},
        serviceBindings: { ...edge.serviceBindings, LOG_QUEUE: { name: "log-sink", entrypoint: "LogSink" } },
      },
      controlOptions(bindings),
      { name: "log-sink", modules: true, script: LOG_SINK, compatibilityDate: "2026-04-01" },
    ],
  });
}
