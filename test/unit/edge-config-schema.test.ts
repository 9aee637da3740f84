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
    expect(errorOf(edgeConfig({ containerId: "A!" }))).toMatch(/^containerId must match /);
  });

  it("rejects version 0", () => {
    expect(errorOf(edgeConfig({ version: 0 }))).toBe("version must be >= 1");
  });

  it("rejects an upstream with a path", () => {
    expect(errorOf(edgeConfig({ upstream: "https://sgtm.example/x" }))).toBe(
      'upstream must be an origin like https://sgtm.example (no path, query or credentials) (got "https://sgtm.example/x")',
    );
  });

  it("accepts a same-origin public host with one path segment and rejects two", () => {
    expect(v.is(EdgeConfigSchema, edgeConfig({ publicHosts: ["www.shop1.example/metrics"] }))).toBe(true);
    expect(errorOf(edgeConfig({ publicHosts: ["www.shop1.example/a/b"] }))).toBe(
      'publicHosts[0] (got "www.shop1.example/a/b"): public host must be a host or host/prefix (one lower-case path segment)',
    );
  });

  it("rejects a proxyPath under the reserved /_edge/ prefix", () => {
    expect(errorOf(edgeConfig({ proxyPath: "/_edge/" }))).toContain("proxyPath");
  });

  it("rejects a config without any host", () => {
    expect(errorOf(edgeConfig({ infraHosts: [], publicHosts: [] }))).toContain("at least one host");
  });
});

describe("EdgeConfigSchema optional modules", () => {
  it("leaves geoHeaders, ipAnonymization and botDetection off by default, with their default mode and action", () => {
    const { modules } = v.parse(EdgeConfigSchema, edgeConfig());
    expect(modules.geoHeaders).toEqual({ enabled: false });
    expect(modules.ipAnonymization).toEqual({ enabled: false, mode: "truncate" });
    expect(modules.botDetection).toEqual({ enabled: false, action: "tag" });
  });

  it("accepts every mode and action", () => {
    for (const mode of ["truncate", "drop"] as const) {
      for (const action of ["tag", "block"] as const) {
        const input = edgeConfig({ modules: { ipAnonymization: { enabled: true, mode }, botDetection: { enabled: true, action } } });
        expect(v.parse(EdgeConfigSchema, input).modules).toMatchObject({ ipAnonymization: { mode }, botDetection: { action } });
      }
    }
  });

  it("rejects an unknown mode or action naming the field", () => {
    expect(errorOf(edgeConfig({ modules: { ipAnonymization: { enabled: true, mode: "hash" as never } } }))).toContain(
      'modules.ipAnonymization.mode must be truncate or drop, got the string "hash"',
    );
    expect(errorOf(edgeConfig({ modules: { botDetection: { enabled: true, action: "challenge" as never } } }))).toContain(
      'modules.botDetection.action must be tag or block, got the string "challenge"',
    );
  });

  it("still rejects unknown fields inside the new modules and unknown modules", () => {
    expect(errorOf(edgeConfig({ modules: { geoHeaders: { enabled: true, precision: "city" } as never } }))).toContain(
      'unknown field "modules.geoHeaders.precision"',
    );
    expect(errorOf(edgeConfig({ modules: { geo: { enabled: true } } as never }))).toContain('unknown field "modules.geo"');
  });

  it("accepts the bot_detection entitlement and rejects an unknown one", () => {
    expect(v.parse(EdgeConfigSchema, edgeConfig({ entitlements: ["bot_detection"] })).entitlements).toEqual(["bot_detection"]);
    expect(errorOf(edgeConfig({ entitlements: ["geo_headers" as never] }))).toContain("entitlements[0]: entitlement must be one of");
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

  it("needs bot_detection for botDetection, and no entitlement for geoHeaders and ipAnonymization", () => {
    const on = { geoHeaders: { enabled: true }, ipAnonymization: { enabled: true }, botDetection: { enabled: true } };
    const none = v.parse(EdgeConfigSchema, edgeConfig({ entitlements: [], modules: on }));
    const bots = v.parse(EdgeConfigSchema, edgeConfig({ entitlements: ["bot_detection"], modules: on }));
    expect(moduleActive(none, "geoHeaders")).toBe(true);
    expect(moduleActive(none, "ipAnonymization")).toBe(true);
    expect(moduleActive(none, "botDetection")).toBe(false);
    expect(moduleActive(bots, "botDetection")).toBe(true);
  });
});

describe("upstreamAllowed", () => {
  it("allows http only when ALLOW_INSECURE_UPSTREAM is true", () => {
    expect(upstreamAllowed({ upstream: "http://127.0.0.1:8790" }, "false")).toBe(false);
    expect(upstreamAllowed({ upstream: "http://127.0.0.1:8790" }, "true")).toBe(true);
    expect(upstreamAllowed({ upstream: "https://sgtm.example" }, undefined)).toBe(true);
  });

  it("defaults identityCookie to FPID and dataLayer to dataLayer", () => {
    expect(v.parse(EdgeConfigSchema, edgeConfig())).toMatchObject({ identityCookie: "FPID", dataLayer: "dataLayer" });
  });

  it("rejects a GTM environment on a G- id", () => {
    const input = edgeConfig({ gtmId: "G-ABC1234", gtmEnvironment: { auth: "aBcD1234efGH", preview: "env-7" } });
    expect(errorOf(input)).toContain("gtmEnvironment needs a GTM- container id");
  });

  it.each([
    [{ gtmEnvironment: { auth: "short", preview: "env-7" } }, "gtmEnvironment.auth must be the gtm_auth value"],
    [{ gtmEnvironment: { auth: "aBcD1234efGH", preview: "7" } }, "gtmEnvironment.preview must be the gtm_preview value"],
    [{ gtmEnvironment: { auth: "aBcD1234efGH" } as never }, "gtmEnvironment.preview"],
    [{ dataLayer: "data-layer" }, "dataLayer must be a JavaScript identifier"],
    [{ dataLayer: "1layer" }, 'dataLayer must be a JavaScript identifier of at most 64 characters (got "1layer")'],
    [{ identityCookie: "shop uid" }, 'identityCookie (got "shop uid"): cookie name must be'],
  ])("rejects %j naming the field", (overrides, message) => {
    expect(errorOf(edgeConfig(overrides))).toContain(message);
  });
});

describe("JSON arrays", () => {
  it("refuses modules given as an array instead of silently switching every module off", () => {
    expect(errorOf(edgeConfig({ modules: [] as never }))).toContain("modules must be an object");
  });
});
