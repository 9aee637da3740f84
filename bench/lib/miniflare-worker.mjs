// Builds the Worker with wrangler's bundler and runs it on workerd through the miniflare API (no wrangler dev
// proxy in between), with the bindings of wrangler.jsonc. Shared by the benchmarks.
import { execFileSync } from "node:child_process";
import { basename, dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { ROOT } from "../../scripts/platform.mjs";

/** The Worker of wrangler.jsonc, or another entry module (a bench Worker) with the same configuration. */
export function bundleWorker(entry) {
  const outdir = join(ROOT, entry ? `dist/bench-${basename(entry, ".ts")}` : "dist/bench-bundle");
  const args = [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir];
  execFileSync(process.execPath, entry ? [...args, entry] : args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  return join(outdir, entry ? `${basename(entry, ".ts")}.js` : "index.js");
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
    // Miniflare sends every outbound fetch through a JavaScript shim Worker that copies the request's headers to
    // strip CF-Connecting-IP; a deployed Worker has no such step. The shim is a fixed cost on every subrequest of
    // the measured process and would hide part of the router's cost next to a bare Worker, so it is off.
    stripCfConnectingIp: false,
    kvNamespaces: ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"],
    r2Buckets: ["LOG_BUCKET"],
    durableObjects: {
      CONTAINER_STATE: { className: "ContainerState", useSQLite: true },
      OPERATOR_ACCESS: { className: "OperatorAccess", useSQLite: true },
    },
    queueProducers: { CONFIG_QUEUE: "qaxal-config", LOG_QUEUE: "qaxal-logs" },
    analyticsEngineDatasets: {
      ACCESS_ANALYTICS: { dataset: "qaxal_edge_access" },
      SESSION_ANALYTICS: { dataset: "qaxal_edge_sessions" },
    },
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
