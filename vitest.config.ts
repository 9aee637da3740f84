// Tests that run inside workerd (real KV, R2, Queues, Durable Objects from miniflare).
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        // Test secrets and vars (the real ones are Worker secrets; the local run uses .dev.vars).
        bindings: {
          ADMIN_TOKEN: "test-admin-token",
          WEBHOOK_SECRET: "test-webhook-secret",
          EDGE_AUTH_SECRET: "test-edge-auth",
          ALLOW_INSECURE_UPSTREAM: "true",
          CONFIG_CACHE_TTL_MS: "200",
          DRIFT_AFTER_MS: "10000",
          UPSTREAM_TIMEOUT_MS: "1500",
        },
      },
    }),
  ],
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
    exclude: ["test/**/*.node.test.ts"],
    // The router's real loopback upstream (test/support/router-origin.global.mjs); its URLs are inject()ed.
    // A PostgREST stand-in for the control plane's supabase-js call sites (test/support/postgrest-stand-in.mjs).
    // An Analytics Engine SQL API stand-in for the report's production source (analytics-sql-stand-in.mjs).
    globalSetup: [
      "./test/support/router-origin.global.mjs",
      "./test/support/postgrest-stand-in.global.mjs",
      "./test/support/analytics-sql-stand-in.global.mjs",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
