// Cookie Keeper's edges the mutation run found untested: an Expires of exactly now, and the byte bound on what the
// edge adds to a response's headers (the count bound is in router-bad-input.test.ts).
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { type KeeperRule, keeperRule, MAX_REWRITTEN_BYTES, rewriteSetCookie, rewriteSetCookies } from "../../workers/router/cookie-keeper";
import { edgeConfig } from "../support/fixtures";

const rule = keeperRule(v.parse(EdgeConfigSchema, edgeConfig())) as KeeperRule;
const NOW = Date.UTC(2026, 5, 1);

describe("a deletion", () => {
  it("stays a deletion when its Expires is exactly now", () => {
    const header = `_ga=gone; Expires=${new Date(NOW).toUTCString()}`;
    expect(rewriteSetCookie(header, rule, "shop1.example", NOW)).toContain("; Max-Age=0;");
  });
});

describe("the byte bound", () => {
  // 30 matching cookies of about 1 KB each: under the count bound, over the byte bound.
  const headers = Array.from({ length: 30 }, (_, i) => `_ga_K${String(i).padStart(2, "0")}=${"v".repeat(1000)}; Path=/`);
  const result = rewriteSetCookies(headers, rule, "shop1.example")!;
  const rewrittenLength = rewriteSetCookie(headers[0]!, rule, "shop1.example")!.length;

  it("rewrites cookies only while what it adds stays within MAX_REWRITTEN_BYTES", () => {
    expect(result.rewrites).toBe(Math.floor(MAX_REWRITTEN_BYTES / rewrittenLength));
    expect(result.headers.slice(0, result.rewrites).join("").length).toBeLessThanOrEqual(MAX_REWRITTEN_BYTES);
  });

  it("passes every cookie past the bound on exactly as the upstream sent it, and counts them", () => {
    expect(result.overBound).toBe(30 - result.rewrites);
    expect(result.headers.slice(result.rewrites)).toEqual(headers.slice(result.rewrites));
  });
});
