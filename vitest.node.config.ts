// Tests that run in Node: real PostgreSQL, real headless Chromium, and whole local runs of the Worker.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.node.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // These tests start servers and browsers: one file at a time keeps 2 cores usable.
    fileParallelism: false,
  },
});
