// Mutation testing (`npm run mutate`): StrykerJS plants one small bug at a time in the router, loader, sync and auth
// code and runs the Workers-runtime tests against it (the vitest runner works with @cloudflare/vitest-pool-workers:
// the tests and the code under test share workerd's isolate, so the active mutant reaches the code). Results and the
// score: docs/tenant-isolation.md ("Test strength").
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/stryker-log-ignorer.mjs"],
  ignorers: ["console-statements"],
  vitest: { configFile: "vitest.config.ts", related: true },
  mutate: [
    "workers/router/**/*.ts",
    "workers/loader/**/*.ts",
    "workers/sync-consumer/**/*.ts",
    "workers/shared/auth.ts",
    "durable/container-state.ts",
    "durable/routing-registry.ts",
    "durable/routing-keys.ts",
  ],
  coverageAnalysis: "perTest",
  // The machine running this is small and shared; one test runner at a time.
  concurrency: 1,
  timeoutMS: 60_000,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress-append-only", "json"],
  jsonReporter: { fileName: "reports/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
