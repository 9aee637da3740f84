import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EdgeConfigSchema, moduleActive, upstreamAllowed } from "../../schemas/edge-config";
import { describeIssues } from "../../schemas/issues";
import { edgeConfig } from "../support/fixtures";

function errorOf(input: unknown): string {
  const result = v.safeParse(EdgeConfigSchema, input);
  if (result.success) throw new Error("expected the schema to reject the input");
  return describeIssues(result.issues);
}

describe("EdgeConfigSchema", () => {
  it("accepts the contract's example and keeps its values", () => {
    const config = v.parse(EdgeConfigSchema, edgeConfig({ version: 7 }));
    expect(config.version).toBe(7);
    expect(config.modules.cookieKeeper.httpOnly).toEqual(["FPID"]);
  });

  it("fills proxyPath, proxyParam and loaderPath defaults", () => {
    const { proxyPath, proxyParam, loaderPath } = v.parse(EdgeConfigSchema, edgeConfig());
    expect({ proxyPath, proxyParam, loaderPath }).toEqual({ proxyPath: "/k/", proxyParam: "p", loaderPath: "/l/" });
  });

  it("clamps maxAgeDays to the browsers' 400-day cap", () => {
    const input = edgeConfig({ modules: { cookieKeeper: { enabled: true, maxAgeDays: 9000 } } });
    expect(v.parse(EdgeConfigSchema, input).modules.cookieKeeper.maxAgeDays).toBe(400);
  });

  it("rejects an unknown top-level field and names it", () => {
    expect(errorOf({ ...edgeConfig(), colour: "red" })).toContain('unknown field "colour"');
  });

  it("rejects an unknown nested field and names its path", () => {
    const input = edgeConfig({ modules: { cookieRestoration: { enabled: true, extra: 1 } as never } });
    expect(errorOf(input)).toContain('unknown field "modules.cookieRestoration.extra"');
  });

  it("rejects an invalid containerId naming the field", () => {
    expect(errorOf(edgeConfig({ containerId: "A!" }))).toMatch(/^containerId: /);
  });

  it("rejects version 0", () => {
    expect(errorOf(edgeConfig({ version: 0 }))).toContain("version: version must be >= 1");
  });

  it("rejects an upstream with a path", () => {
    expect(errorOf(edgeConfig({ upstream: "https://sgtm.example/x" }))).toContain("upstream:");
  });

  it("accepts a same-origin public host with one path segment and rejects two", () => {
    expect(v.is(EdgeConfigSchema, edgeConfig({ publicHosts: ["www.shop1.example/metrics"] }))).toBe(true);
    expect(errorOf(edgeConfig({ publicHosts: ["www.shop1.example/a/b"] }))).toContain("publicHosts.0");
  });

  it("rejects a proxyPath under the reserved /_edge/ prefix", () => {
    expect(errorOf(edgeConfig({ proxyPath: "/_edge/" }))).toContain("proxyPath");
  });

  it("rejects a config without any host", () => {
    expect(errorOf(edgeConfig({ infraHosts: [], publicHosts: [] }))).toContain("at least one host");
  });
});

describe("moduleActive", () => {
  it("needs both the module enabled and its entitlement", () => {
    const entitled = v.parse(EdgeConfigSchema, edgeConfig());
    const notEntitled = v.parse(EdgeConfigSchema, edgeConfig({ entitlements: ["adblock_detection"] }));
    expect(moduleActive(entitled, "cookieKeeper")).toBe(true);
    expect(moduleActive(notEntitled, "cookieKeeper")).toBe(false);
    expect(moduleActive(notEntitled, "adblockDetection")).toBe(true);
  });
});

describe("upstreamAllowed", () => {
  it("allows http only when ALLOW_INSECURE_UPSTREAM is true", () => {
    expect(upstreamAllowed({ upstream: "http://127.0.0.1:8790" }, "false")).toBe(false);
    expect(upstreamAllowed({ upstream: "http://127.0.0.1:8790" }, "true")).toBe(true);
    expect(upstreamAllowed({ upstream: "https://sgtm.example" }, undefined)).toBe(true);
  });
});

describe("platform domains", () => {
  it("refuses a public host on the registrable domain of one of the config's infra hosts, naming both", () => {
    const input = edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["ss.shop1.example", "evil.edge.example/m"] });
    expect(errorOf(input)).toContain("publicHosts: evil.edge.example/m is on edge.example, the domain of infra host shop1.edge.example");
  });

  it("accepts public hosts on other domains", () => {
    expect(v.safeParse(EdgeConfigSchema, edgeConfig({ infraHosts: ["shop1.edge.example"], publicHosts: ["edge.shop1.example"] })).success).toBe(true);
  });
});

describe("JSON arrays", () => {
  it("refuses modules given as an array instead of silently switching every module off", () => {
    expect(errorOf(edgeConfig({ modules: [] as never }))).toContain("modules must be an object");
  });
});
