// Builds the Worker with wrangler's bundler and runs it on workerd through the miniflare API (no wrangler dev
// proxy in between), with the bindings of wrangler.jsonc. Shared by the benchmarks.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { ROOT } from "../../scripts/platform.mjs";

export function bundleWorker() {
  const outdir = join(ROOT, "dist/bench-bundle");
  execFileSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return join(outdir, "index.js");
}

/**
 * The Worker's miniflare options: bindings named as in wrangler.jsonc. `overrides` replaces whole options (the
 * router bench swaps LOG_QUEUE for a sink service); `bindings` adds or replaces vars.
 */
export function workerOptions({ scriptPath, bindings = {}, overrides = {} }) {
  return {
    // Listed explicitly: the bundle holds a guarded dynamic import (supabase-js' optional OpenTelemetry) that
    // miniflare's module walker would otherwise refuse.
    modules: [{ type: "ESModule", path: scriptPath }],
    modulesRoot: dirname(scriptPath),
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    kvNamespaces: ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"],
    r2Buckets: ["LOG_BUCKET"],
    durableObjects: { CONTAINER_STATE: { className: "ContainerState", useSQLite: true } },
    queueProducers: { CONFIG_QUEUE: "qaxal-config", LOG_QUEUE: "qaxal-logs" },
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
    ...overrides,
  };
}

/** The Worker on miniflare; `onStdout` sees the Worker's console lines. */
export function startWorker({ scriptPath, bindings = {}, onStdout, port } = {}) {
  return new Miniflare({
    ...workerOptions({ scriptPath, bindings }),
    port,
    handleRuntimeStdio: (stdout, stderr) => {
      let buffered = "";
      stdout.on("data", (chunk) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop();
        for (const line of lines) onStdout?.(line);
      });
      stderr.pipe(process.stderr);
    },
  });
}
