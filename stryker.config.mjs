// Mutation testing (`npm run mutate`): StrykerJS plants one small bug at a time in the router, loader, sync and auth
// code and runs the Workers-runtime tests against it (the vitest runner works with @cloudflare/vitest-pool-workers:
// the tests and the code under test share workerd's isolate, so the active mutant reaches the code). Results and the
// score: docs/tenant-isolation.md ("Test strength").
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/stryker-log-ignorer.mjs"],
  ignorers: ["console-statements"],
  // Not `related`: that keeps only test files importing a mutated module, and most tests reach the code through the
  // Worker (SELF.fetch, queues, Durable Objects), so a third of them would never run against a mutant.
  vitest: { configFile: "vitest.config.ts", related: false },
  // The modules the tenant-isolation issue names: routing and proxying, the loader's answers, the config sync, the
  // secrets check, and the objects that own versions and routing keys. Left out: the access log's batching, the
  // optional modules' own files (bot list, IP truncation), the browser script's template (tested in Chromium).
  mutate: [
    "workers/router/{host,host-lookup,resolve-site,proxy-target,request-checks,upstream-headers,upstream-fetch}.ts",
    "workers/router/{traffic,response-rules,cookie-keeper}.ts",
    "workers/shared/{auth,cors}.ts",
    "workers/loader/{handler,serve-script,script,boot,backup-marker,cookies,vault,session,detection}.ts",
    "workers/sync-consumer/consumer.ts",
    "durable/{container-state,kv-sync,routing-registry,routing-keys}.ts",
  ],
  coverageAnalysis: "perTest",
  // The machine running this is small and shared; one test runner at a time.
  concurrency: 1,
  timeoutMS: 60_000,
  incremental: true,
  // `npm run mutate:sample` keeps its results apart from a full pass's (scripts/mutate-sample.mjs).
  incrementalFile: `reports/stryker-${process.env.MUTATE_RUN ?? "full"}-incremental.json`,
  reporters: ["clear-text", "progress-append-only", "json"],
  jsonReporter: { fileName: `reports/mutation-${process.env.MUTATE_RUN ?? "full"}.json` },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
