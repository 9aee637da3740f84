// The control side's acceptance of a config: cookie domains derived from the Public Suffix List, suffix hosts refused.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { AcceptedEdgeConfigSchema, cookieDomainOf } from "../../schemas/accepted-edge-config";
import { describeIssues } from "../../schemas/issues";
import { StoredEdgeConfigSchema } from "../../schemas/edge-config";
import { siteCookieDomain } from "../../workers/shared/cookie-domain";
import { edgeConfig } from "../support/fixtures";

describe("cookieDomainOf", () => {
  it.each([
    ["127.0.0.1", { kind: "host-only" }],
    ["localhost", { kind: "host-only" }],
    ["ss.demo-shop.localhost", { kind: "domain", domain: "demo-shop.localhost" }],
    ["ss.shop.co.ma", { kind: "domain", domain: "shop.co.ma" }],
    ["r2.dev", { kind: "public-suffix", section: "private" }],
    ["com", { kind: "public-suffix", section: "ICANN" }],
  ])("%s", (host, expected) => {
    expect(cookieDomainOf(host)).toEqual(expected);
  });
});

describe("AcceptedEdgeConfigSchema", () => {
  const accepted = v.parse(
    AcceptedEdgeConfigSchema,
    edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["ss.shop1.co.uk", "www.shop1.de/metrics", "127.0.0.1"] }),
  );

  it("maps each public host (mount prefix dropped) to its registrable domain, and nothing else", () => {
    expect(accepted.cookieDomains).toEqual({ "ss.shop1.co.uk": "shop1.co.uk", "www.shop1.de": "shop1.de" });
  });

  it("leaves infra hosts and IPs host-only for the edge", () => {
    expect(siteCookieDomain({ config: accepted, publicHost: "shop1.edge.example" })).toBeNull();
    expect(siteCookieDomain({ config: accepted, publicHost: "127.0.0.1" })).toBeNull();
    expect(siteCookieDomain({ config: accepted, publicHost: "constructor" })).toBeNull();
    expect(siteCookieDomain({ config: accepted, publicHost: "www.shop1.de" })).toBe("shop1.de");
  });
});

describe("the platform's own domains", () => {
  it("refuses a public host on the registrable domain of one of the config's infra hosts, naming both", () => {
    const input = edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["ss.shop1.example", "evil.edge.example/m"] });
    const result = v.safeParse(AcceptedEdgeConfigSchema, input);
    expect(result.success).toBe(false);
    expect(describeIssues(result.issues!)).toContain(
      "publicHosts[1]: evil.edge.example/m is on edge.example, the registrable domain of infra host shop1.edge.example",
    );
  });

  it("accepts public hosts on other domains", () => {
    const input = edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["edge.shop1.example"] });
    expect(v.parse(AcceptedEdgeConfigSchema, input).cookieDomains).toEqual({ "edge.shop1.example": "shop1.example" });
  });

  it("a stored config whose cookie domain covers one of its infra hosts is refused, so the edge never uses it", () => {
    const stored = { ...edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["ss.shop1.example"] }), cookieDomains: { "ss.shop1.example": "edge.example" } };
    const result = v.safeParse(StoredEdgeConfigSchema, stored);
    expect(result.success).toBe(false);
    expect(describeIssues(result.issues!)).toContain("cookieDomains must not cover an infra host");
  });
});
