// The control side's acceptance of a config: cookie domains derived from the Public Suffix List, suffix hosts refused.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { AcceptedEdgeConfigSchema, cookieDomainOf } from "../../schemas/accepted-edge-config";
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
