// The router on miniflare with LOG_QUEUE bound to an RPC sink Worker instead of miniflare's Queues simulator.
// In production Queues is a separate service: the Worker pays for serializing a sendBatch, not for storing the
// messages. The simulator's broker runs inside the same workerd process, so a benchmark that uses it bills the
// broker's per-message work to the router; this variant shows the router's own cost. Every other binding is the
// one bench/lib/miniflare-worker.mjs gives (kept in step by hand: that helper has no way to swap one binding).
import { dirname } from "node:path";
import { Miniflare } from "miniflare";

const LOG_SINK = `import { WorkerEntrypoint } from "cloudflare:workers";
export class LogSink extends WorkerEntrypoint {
  async send() {}
  async sendBatch() {}
}
export default { fetch: () => new Response(null, { status: 404 }) };
`;

export function startWorkerWithLogSink({ scriptPath, port, bindings = {} }) {
  return new Miniflare({
    port,
    workers: [
      {
        name: "router",
        modules: [{ type: "ESModule", path: scriptPath }],
        modulesRoot: dirname(scriptPath),
        compatibilityDate: "2026-04-01",
        compatibilityFlags: ["nodejs_compat"],
        kvNamespaces: ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"],
        r2Buckets: ["LOG_BUCKET"],
        durableObjects: { CONTAINER_STATE: { className: "ContainerState", useSQLite: true } },
        queueProducers: { CONFIG_QUEUE: "qaxal-config" },
        serviceBindings: { LOG_QUEUE: { name: "log-sink", entrypoint: "LogSink" } },
        analyticsEngineDatasets: { ACCESS_ANALYTICS: { dataset: "qaxal_edge_access" } },
        bindings: {
          ADMIN_TOKEN: "bench-admin",
          WEBHOOK_SECRET: "bench-webhook",
          EDGE_AUTH_SECRET: "bench-edge-auth",
          ALLOW_INSECURE_UPSTREAM: "true",
          CONFIG_CACHE_TTL_MS: "30000",
          UPSTREAM_TIMEOUT_MS: "10000",
          DRIFT_AFTER_MS: "3600000",
          SUPABASE_URL: "",
          SUPABASE_SERVICE_ROLE_KEY: "",
          ...bindings,
        },
      },
      { name: "log-sink", modules: true, script: LOG_SINK, compatibilityDate: "2026-04-01" },
    ],
  });
}
