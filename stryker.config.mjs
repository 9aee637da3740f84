// Mutation testing (`npm run mutate`): StrykerJS plants one small bug at a time in the Workers' code and runs the
// Workers-runtime tests against it (the vitest runner works with @cloudflare/vitest-pool-workers: the tests and the
// code under test share workerd's isolate, so the active mutant reaches the code). Results and the score:
// docs/tenant-isolation.md ("Test strength").
import { readdirSync } from "node:fs";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/stryker-log-ignorer.mjs"],
  ignorers: ["console-statements"],
  // Not `related`: that keeps only test files importing a mutated module, and most tests reach the code through the
  // Worker (SELF.fetch, queues, Durable Objects), so a third of them would never run against a mutant.
  vitest: { configFile: "vitest.config.ts", related: false },
  // Every TypeScript file under workers/ and durable/, listed when the config loads so a new file is never left out
  // (scripts/mutate-sample.mjs samples blocks of each).
  mutate: ["workers", "durable"].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
      .map((file) => `${dir}/${file}`)
      .sort(),
  ),
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
