// Tests that run inside workerd (real KV, R2, Queues, Durable Objects from miniflare), one project per Worker.
// - control: the control Worker of wrangler.control.jsonc is the Worker under test.
// - edge: the edge Worker of wrangler.jsonc is under test, and the real control Worker runs beside it as an
//   auxiliary Worker (bundled by wrangler from wrangler.control.jsonc), so the edge's service binding, its
//   ContainerState binding (`script_name`) and the queues it feeds reach the same code that deploys.
// KV namespaces and queues are shared between the two Workers by name, as they are on Cloudflare.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, defineProject } from "vitest/config";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/** Test secrets and vars (the real ones are Worker secrets; the local run uses .dev.vars). */
const bindings = {
  ADMIN_TOKEN: "test-admin-token",
  WEBHOOK_SECRET: "test-webhook-secret",
  EDGE_AUTH_SECRET: "test-edge-auth",
  ALLOW_INSECURE_UPSTREAM: "true",
  CONFIG_CACHE_TTL_MS: "200",
  // As short as the isolate's, so tests that change KV directly (no sync, no purge) see it; the config cache's own
  // tests lengthen it.
  LOCATION_CACHE_TTL_MS: "200",
  DRIFT_AFTER_MS: "10000",
  UPSTREAM_TIMEOUT_MS: "1500",
  // A short log buffer age: router tests wait for their records (production: 60 s, docs/logs.md).
  LOG_WINDOW_MS: "50",
  // The fixtures' infra hosts (*.edge.example), the local run's (*.edge.localhost), and workers.dev, a private Public
  // Suffix List entry whose every subdomain is a registrable domain of its own (test/support/takeovers.ts).
  PLATFORM_DOMAINS: "edge.example,edge.localhost,workers.dev",
  SUPABASE_URL: "",
  SUPABASE_SERVICE_ROLE_KEY: "",
};

/** Files whose behaviour belongs to the edge Worker (router, loader and what they share). */
const EDGE_TESTS = ["test/**/{router,loader,edge,ttl-cache,pipeline-e2e}*.test.ts"];

const globalSetup = [
  // The router's real loopback upstream (test/support/router-origin.global.mjs); its URLs are inject()ed.
  "./test/support/router-origin.global.mjs",
  // A PostgREST stand-in for the control plane's Supabase calls (test/support/postgrest-stand-in.mjs).
  "./test/support/postgrest-stand-in.global.mjs",
  // An Analytics Engine SQL API stand-in for the report's production source (analytics-sql-stand-in.mjs).
  "./test/support/analytics-sql-stand-in.global.mjs",
  // A loopback receiver for alert webhooks (test/support/alert-receiver.global.mjs).
  "./test/support/alert-receiver.global.mjs",
  // A stand-in for Cloudflare's custom hostname API (test/support/cloudflare-api-stand-in.mjs): no internet here.
  "./test/support/cloudflare-api-stand-in.global.mjs",
  // A stand-in for Cloudflare's purge API (test/support/cache-purge-stand-in.mjs), for the config cache's purge.
  "./test/support/cache-purge-stand-in.global.mjs",
];

/** The control Worker as wrangler bundles it for deployment, with the options its config declares. */
function controlWorker() {
  const outdir = join(import.meta.dirname, "dist/test-control");
  execFileSync(
    process.execPath,
    [
      join(import.meta.dirname, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--env=",
      "-c",
      "wrangler.control.jsonc",
      "--outdir",
      outdir,
    ],
    { cwd: import.meta.dirname, stdio: ["ignore", "ignore", "inherit"] },
  );
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(import.meta.dirname, "wrangler.control.jsonc"));
  return {
    ...workerOptions,
    name: "qaxal-control",
    modules: [{ type: "ESModule" as const, path: join(outdir, "control.js") }],
    modulesRoot: outdir,
    bindings: { ...workerOptions.bindings, ...bindings },
  };
}

const shared = { globalSetup, testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    projects: [
      defineProject({
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.control.jsonc" }, miniflare: { bindings } })],
        test: {
          name: "control",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          exclude: ["test/**/*.node.test.ts", ...EDGE_TESTS],
          ...shared,
        },
      }),
      defineProject({
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" }, miniflare: { bindings, workers: [controlWorker()] } })],
        test: { name: "edge", include: EDGE_TESTS, exclude: ["test/**/*.node.test.ts"], ...shared },
      }),
    ],
  },
});
