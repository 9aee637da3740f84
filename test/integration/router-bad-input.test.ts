// Malformed requests and broken upstreams: each is a 4xx (the client's mistake) or a 502 with its own code (the
// upstream's), always a JSON error, never a 500 and never a stack in the log.
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_COOKIE_REWRITES, MAX_REWRITTEN_BYTES } from "../../workers/router/cookie-keeper";
import { callRouter, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

afterEach(() => {
  vi.restoreAllMocks();
});

async function expectError(response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  expect(await response.json()).toMatchObject({ error });
}

describe("unknown hosts", () => {
  it("a first path segment too long for a KV key is a 404, with nothing logged", async () => {
    const logged = vi.spyOn(console, "error");
    const { response } = await callRouter(routerRequest(`${uniqueId()}.example`, `/${"a".repeat(600)}/x`));
    await expectError(response, 404, "unknown_host");
    expect(logged).not.toHaveBeenCalled();
  });
});

describe("upstream statuses a response cannot carry", () => {
  it("is a 502 upstream_invalid_status when the response is passed through as is", async () => {
    const config = await seedContainer();
    const { response, records } = await callRouter(routerRequest(config.infraHosts[0]!, "/status?code=600"));
    await expectError(response, 502, "upstream_invalid_status");
    expect(records[0]).toMatchObject({ status: 502 });
  });

  it("is a 502 upstream_invalid_status when the edge rewrites the response (a trusted Origin)", async () => {
    const config = await seedContainer();
    const origin = config.allowedOrigins[0]!;
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/status?code=999", { headers: { Origin: origin } }));
    await expectError(response, 502, "upstream_invalid_status");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  });

  it("still passes every status from 200 to 599 on", async () => {
    const config = await seedContainer();
    for (const code of [200, 299, 418, 599]) {
      const { response } = await callRouter(routerRequest(config.infraHosts[0]!, `/status?code=${code}`));
      expect(response.status).toBe(code);
    }
  });
});

describe("requests the upstream connection cannot carry", () => {
  it("a header value with DEL is a 400 naming the header, not the tenant's 502", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo", { headers: { "User-Agent": "a\x7fb" } }));
    await expectError(response, 400, "invalid_header");
  });

  it("an upstream that is simply down is still a 502", async () => {
    const config = await seedContainer({ upstream: "http://127.0.0.1:9" });
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo", { headers: { "X-Fine": "ok" } }));
    await expectError(response, 502, "upstream_unreachable");
  });
});

describe("client-sent IP and location headers", () => {
  it("a client's X-Forwarded-For never reaches the upstream, also without CF-Connecting-IP", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(
      routerRequest(config.infraHosts[0]!, "/echo", { headers: { "X-Forwarded-For": "198.51.100.1" } }),
    );
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-forwarded-for"]).toBeUndefined();
  });

  it("drops every header that claims a client IP or location", async () => {
    const claims: Record<string, string> = {
      "X-Appengine-User-IP": "198.51.100.1",
      "X-Appengine-CityLatLong": "48.1,11.5",
      "X-Appengine-Country": "ZZ",
      "X-Client-IP": "198.51.100.2",
      "X-Cluster-Client-IP": "198.51.100.3",
      "Fastly-Client-IP": "198.51.100.4",
      "X-Original-Forwarded-For": "198.51.100.5",
      "True-Client-IP": "198.51.100.6",
      "X-Real-IP": "198.51.100.7",
      Forwarded: "for=198.51.100.8",
      "CloudFront-Viewer-Address": "198.51.100.9:443",
    };
    // The rest of docs/tenant-isolation.md's list: forwarding headers of other proxies, CDNs and platforms.
    for (const name of [
      "X-Forwarded",
      "Forwarded-For",
      "Client-IP",
      "X-Originating-IP",
      "X-Remote-IP",
      "X-Remote-Addr",
      "X-ProxyUser-Ip",
      "Akamai-Client-IP",
      "X-Akamai-Edgescape",
      "X-Azure-ClientIP",
      "X-Azure-SocketIP",
      "X-Envoy-External-Address",
      "X-Vercel-Forwarded-For",
      "X-Vercel-IP-Country",
      "X-Vercel-IP-Country-Region",
      "X-Vercel-IP-City",
      "X-Vercel-IP-Latitude",
      "X-Vercel-IP-Longitude",
      "CloudFront-Viewer-Country",
      "CloudFront-Viewer-Country-Region",
      "CloudFront-Viewer-City",
      "CloudFront-Viewer-Latitude",
      "CloudFront-Viewer-Longitude",
      "X-Country-Code",
      "X-Appengine-Region",
      "X-Appengine-City",
    ]) {
      claims[name] = "198.51.100.10";
    }
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo", { headers: claims }));
    const echo = (await response.json()) as { headers: Record<string, string> };
    for (const name of Object.keys(claims)) expect(echo.headers[name.toLowerCase()], name).toBeUndefined();
  });
});

describe("hop-by-hop headers", () => {
  it("none reaches the upstream", async () => {
    const hopByHop = {
      "Keep-Alive": "timeout=5",
      "Proxy-Connection": "keep-alive",
      "Proxy-Authenticate": "Basic",
      "Proxy-Authorization": "Basic eA==",
      TE: "trailers",
      Trailer: "X-Sum",
      Upgrade: "h2c",
    };
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo", { headers: hopByHop }));
    const echo = (await response.json()) as { headers: Record<string, string> };
    for (const name of Object.keys(hopByHop)) expect(echo.headers[name.toLowerCase()], name).toBeUndefined();
  });
});

describe("Cookie Keeper's bound", () => {
  it(`rewrites at most ${MAX_COOKIE_REWRITES} cookies of a response and passes the rest on as sent`, async () => {
    const warned = vi.spyOn(console, "warn");
    const config = await seedContainer();
    const { response, records } = await callRouter(routerRequest(config.publicHosts[0]!, "/many-cookies?n=2000"));
    expect(response.status).toBe(204);
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2000);
    const rewritten = cookies.filter((cookie) => cookie.includes("Max-Age="));
    expect(rewritten).toHaveLength(MAX_COOKIE_REWRITES);
    expect(rewritten.join("").length).toBeLessThanOrEqual(MAX_REWRITTEN_BYTES);
    expect(cookies[1999]).toBe("_ga_1999=GA1.1.1999.1700000000; Path=/");
    expect(records[0]).toMatchObject({ cookieRewrites: MAX_COOKIE_REWRITES });
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('"event":"cookie_keeper_bound"'));
  });
});
