// The contract's CORS rule and the edge-answered preflight.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { corsHeaders, preflightResponse } from "../../workers/shared/cors";
import type { Site } from "../../workers/shared/site";
import { edgeConfig } from "../support/fixtures";

const config = v.parse(
  EdgeConfigSchema,
  edgeConfig({
    publicHosts: ["ss.shop1.example", "www.shop1.example/metrics"],
    allowedOrigins: ["https://checkout.partner.example"],
  }),
);
const site: Site = {
  containerId: config.containerId,
  config,
  publicHost: "ss.shop1.example",
  mountPrefix: "",
  path: "/g/collect",
  url: new URL("https://ss.shop1.example/g/collect"),
  startedAt: 0,
};

const withOrigin = (origin: string | null, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  if (origin !== null) headers.set("Origin", origin);
  return new Request("https://ss.shop1.example/g/collect", { ...init, headers });
};

describe("corsHeaders", () => {
  it("reflects an origin from allowedOrigins with credentials and Vary", () => {
    const headers = corsHeaders(withOrigin("https://checkout.partner.example"), site);
    expect(headers?.get("Access-Control-Allow-Origin")).toBe("https://checkout.partner.example");
    expect(headers?.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(headers?.get("Vary")).toBe("Origin");
  });

  it("reflects https:// + a public host", () => {
    expect(corsHeaders(withOrigin("https://ss.shop1.example"), site)?.get("Access-Control-Allow-Origin")).toBe("https://ss.shop1.example");
  });

  it("reflects https:// + the host part of a same-origin entry", () => {
    expect(corsHeaders(withOrigin("https://www.shop1.example"), site)?.get("Access-Control-Allow-Origin")).toBe(
      "https://www.shop1.example",
    );
  });

  it("does not reflect http:// + a public host", () => {
    expect(corsHeaders(withOrigin("http://ss.shop1.example"), site)).toBeNull();
  });

  it("does not reflect an origin that only ends like a public host", () => {
    expect(corsHeaders(withOrigin("https://evil-ss.shop1.example"), site)).toBeNull();
  });

  it("does not reflect an origin with a path appended", () => {
    expect(corsHeaders(withOrigin("https://ss.shop1.example/metrics"), site)).toBeNull();
  });

  it("is null without an Origin", () => {
    expect(corsHeaders(withOrigin(null), site)).toBeNull();
  });
});

describe("preflightResponse", () => {
  const preflight = (origin: string, requestHeaders?: string) =>
    preflightResponse(
      withOrigin(origin, {
        method: "OPTIONS",
        headers: {
          "Access-Control-Request-Method": "POST",
          ...(requestHeaders ? { "Access-Control-Request-Headers": requestHeaders } : {}),
        },
      }),
      site,
    );

  it("answers 204 with methods, headers and max-age for a trusted origin", () => {
    const response = preflight("https://www.shop1.example", "content-type, x-gtm-server-preview");
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://www.shop1.example");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(response.headers.get("Access-Control-Allow-Headers")).toBe("content-type, x-gtm-server-preview");
    expect(response.headers.get("Access-Control-Max-Age")).toBe("7200");
  });

  it("does not reflect requested headers that are not a header list", () => {
    expect(preflight("https://www.shop1.example", 'x-a, (y), "z"').headers.get("Access-Control-Allow-Headers")).toBe("Content-Type");
  });

  it("answers 204 without any grant for an untrusted origin", () => {
    const response = preflight("https://evil.example");
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Allow-Methods")).toBeNull();
  });
});
