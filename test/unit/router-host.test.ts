// Host normalization and which header names the host.
import { describe, expect, it } from "vitest";
import { normalizeHost, requestHost } from "../../workers/router/host";

describe("normalizeHost", () => {
  it.each([
    ["SS.Shop1.Example", "ss.shop1.example"],
    ["ss.shop1.example:8443", "ss.shop1.example"],
    ["ss.shop1.example.", "ss.shop1.example"],
    ["  ss.shop1.example  ", "ss.shop1.example"],
    ["[::1]:8787", "[::1]"],
    ["127.0.0.1:8787", "127.0.0.1"],
    ["under_score.example", "under_score.example"],
  ])("%s -> %s", (raw, host) => {
    expect(normalizeHost(raw)).toBe(host);
  });

  it.each([
    ["", "empty"],
    ["a b.example", "a space"],
    ["a/b", "a slash"],
    ["a..b", "an empty label"],
    ["[::1", "an open bracket"],
    ["x".repeat(254), "too long"],
  ])("refuses %j (%s)", (raw) => {
    expect(normalizeHost(raw)).toBeNull();
  });
});

describe("requestHost", () => {
  const url = new URL("https://url-host.example/x");

  it("takes Host over X-Forwarded-Host", () => {
    expect(requestHost(new Request(url, { headers: { Host: "a.example", "X-Forwarded-Host": "b.example" } }), url)).toBe("a.example");
  });

  it("takes the first X-Forwarded-Host entry when there is no Host", () => {
    expect(requestHost(new Request(url, { headers: { "X-Forwarded-Host": "b.example, proxy.example" } }), url)).toBe("b.example");
  });

  it("falls back to the URL's host", () => {
    expect(requestHost(new Request(url), url)).toBe("url-host.example");
  });
});
