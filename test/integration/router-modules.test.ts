// What the router adds on top of proxying: CORS, Cookie Keeper on real upstream Set-Cookie headers, the access
// record, and handing loader paths to the loader.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  AccessRecordSchema,
  LOG_FLUSH_RECORDS,
  MAX_RECORD_PATH,
  MAX_RECORD_REQUEST_ID,
  PACKED_LOG_VERSION,
} from "../../schemas/log-record";
import {
  callRouter,
  callRouterWith,
  encodeTarget,
  recordingQueue,
  routerRequest,
  seedContainer,
  uniqueId,
} from "../support/router-harness";

const setCookiesPath = (cookies: string[]) => `/set-cookies?c=${encodeTarget(JSON.stringify(cookies))}`;
const DAYS_395 = 395 * 86_400;

describe("CORS on proxied responses", () => {
  it("reflects a trusted Origin with credentials and Vary", async () => {
    const config = await seedContainer();
    const origin = config.allowedOrigins[0]!;
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/echo", { headers: { Origin: origin } }));
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Vary")).toContain("Origin");
  });

  it("removes the upstream's own grant for an untrusted Origin", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/cors", { headers: { Origin: "https://evil.example" } }));
    expect(await response.text()).toBe("cors");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("adds Origin to the upstream's Vary instead of replacing it", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(
      routerRequest(config.publicHosts[0]!, "/cors", { headers: { Origin: `https://${config.publicHosts[0]}` } }),
    );
    expect(response.headers.get("Vary")).toBe("Accept-Encoding, Origin");
  });

  it("puts the grant on error responses too, so the page can read them", async () => {
    const config = await seedContainer();
    const origin = config.allowedOrigins[0]!;
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/k/?p=%21", { headers: { Origin: origin } }));
    expect(response.status).toBe(400);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  });

  it("answers a preflight at the edge without calling the upstream", async () => {
    const config = await seedContainer();
    const { response, records } = await callRouter(
      routerRequest(config.publicHosts[0]!, "/echo", {
        method: "OPTIONS",
        headers: { Origin: config.allowedOrigins[0]!, "Access-Control-Request-Method": "POST" },
      }),
    );
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(config.allowedOrigins[0]);
    expect(records[0]).toMatchObject({ pathClass: "preflight", upstreamStatus: null });
  });
});

describe("Cookie Keeper on upstream responses", () => {
  const upstreamCookies = [
    "_ga=GA1.1.1.2; Path=/; Max-Age=604800",
    "_ga_ABC123=GS1.1.x; Max-Age=60; SameSite=None",
    "FPID=FPID2.2.y; Path=/; Max-Age=604800",
    "session=keep-me; Path=/app; HttpOnly",
    "_fbp=fb.1.2.3; Domain=sgtm.internal",
  ];

  it("rewrites every configured cookie among several Set-Cookie headers", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(upstreamCookies)));
    const cookies = response.headers.getSetCookie();
    const domain = config.publicHosts[0]!.split(".").slice(1).join(".");
    // The upstream's five, and the edge's identity proof for the FPID it set (loader/identity-proof.ts).
    expect(cookies).toHaveLength(6);
    expect(cookies[0]).toBe(`_ga=GA1.1.1.2; Max-Age=${DAYS_395}; Domain=${domain}; Path=/; Secure; SameSite=Lax`);
    expect(cookies[1]).toBe(`_ga_ABC123=GS1.1.x; Max-Age=${DAYS_395}; Domain=${domain}; Path=/; Secure; SameSite=Lax`);
    expect(cookies[2]).toBe(`FPID=FPID2.2.y; Max-Age=${DAYS_395}; Domain=${domain}; Path=/; Secure; SameSite=Lax; HttpOnly`);
    expect(cookies[4]).toBe(`_fbp=fb.1.2.3; Max-Age=${DAYS_395}; Domain=${domain}; Path=/; Secure; SameSite=Lax`);
    expect(cookies[5]).toMatch(
      new RegExp(
        `^_qxi=[A-Za-z0-9_-]{22}; Max-Age=${DAYS_395}; Domain=${domain.replaceAll(".", "\\.")}; Path=/; Secure; HttpOnly; SameSite=Lax$`,
      ),
    );
  });

  it("passes cookies that are not configured through untouched", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(upstreamCookies)));
    expect(response.headers.getSetCookie()[3]).toBe("session=keep-me; Path=/app; HttpOnly");
  });

  it("counts the rewrites in the access record", async () => {
    const config = await seedContainer();
    const { records } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(upstreamCookies)));
    expect(records[0]?.cookieRewrites).toBe(4);
  });

  it("uses the registrable domain under a multi-part suffix", async () => {
    const config = await seedContainer({ publicHosts: [`ss.${uniqueId()}.co.uk`] });
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(["_ga=1"])));
    expect(response.headers.getSetCookie()[0]).toContain(`Domain=${config.publicHosts[0]!.slice(3)};`);
  });

  it("uses the domain of an honoured X-Public-Host", async () => {
    const [a, b] = [`ss.${uniqueId()}.example`, `ss.${uniqueId()}.de`];
    const config = await seedContainer({ publicHosts: [a, b] });
    const request = routerRequest(config.infraHosts[0]!, setCookiesPath(["_ga=1"]), { headers: { "X-Public-Host": b } });
    expect((await callRouter(request)).response.headers.getSetCookie()[0]).toContain(`Domain=${b.slice(3)};`);
  });

  it("sets cookies for the shop's own domain in same-origin mode", async () => {
    const shop = `www.${uniqueId()}.example`;
    const config = await seedContainer({ publicHosts: [`${shop}/metrics`] });
    const { response } = await callRouter(routerRequest(shop, `/metrics${setCookiesPath(["FPID=1"])}`));
    expect(config.publicHosts[0]).toBe(`${shop}/metrics`);
    expect(response.headers.getSetCookie()[0]).toContain(`Domain=${shop.slice(4)};`);
  });

  it("keeps cookies host-only on an infra host, whose domain every container shares", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, setCookiesPath(["_ga=1"])));
    const cookie = response.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^_ga=1; Max-Age=\d+; Path=\/; Secure; SameSite=Lax$/);
  });

  it("leaves every cookie alone when the module is disabled", async () => {
    const config = await seedContainer({ modules: { cookieKeeper: { enabled: false } } });
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(upstreamCookies)));
    expect(response.headers.getSetCookie()).toEqual(upstreamCookies);
  });

  it("leaves every cookie alone when the container is not entitled", async () => {
    const config = await seedContainer({ entitlements: ["adblock_detection"] });
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, setCookiesPath(upstreamCookies)));
    expect(response.headers.getSetCookie()).toEqual(upstreamCookies);
  });
});

describe("access record", () => {
  it("matches AccessRecordSchema and describes the request", async () => {
    const config = await seedContainer();
    const request = new Request(`https://${config.publicHosts[0]}/k/?p=${encodeTarget("/echo/g/collect?tid=G-1&cid=555")}`, {
      method: "POST",
      body: "x",
      headers: { "CF-IPCountry": "FR" },
    });
    const { records } = await callRouter(request);
    expect(records).toHaveLength(1);
    expect(v.parse(AccessRecordSchema, records[0])).toMatchObject({
      kind: "access",
      containerId: config.containerId,
      host: config.publicHosts[0],
      method: "POST",
      pathClass: "proxy",
      path: "/echo/g/collect",
      status: 200,
      upstreamStatus: 200,
      country: "FR",
      cookieRewrites: 0,
      bot: null,
      reason: null,
    });
  });

  it("carries no client IP and no query string", async () => {
    const config = await seedContainer();
    const request = routerRequest(config.publicHosts[0]!, "/echo?cid=secret-client-id", {
      headers: { "CF-Connecting-IP": "203.0.113.99" },
    });
    const serialized = JSON.stringify((await callRouter(request)).records);
    expect(serialized).not.toContain("203.0.113.99");
    expect(serialized).not.toContain("secret-client-id");
  });

  it("cuts a path and a ray id longer than the record keeps, so the record stays valid", async () => {
    const config = await seedContainer();
    const path = `/echo/${"a".repeat(MAX_RECORD_PATH)}`;
    const request = routerRequest(config.publicHosts[0]!, path, { headers: { "CF-Ray": "r".repeat(MAX_RECORD_REQUEST_ID + 10) } });
    const { records } = await callRouter(request);
    const record = v.parse(AccessRecordSchema, records[0]);
    expect(record.path).toBe(path.slice(0, MAX_RECORD_PATH));
    expect(record.requestId).toBe("r".repeat(MAX_RECORD_REQUEST_ID));
  });

  it("records an upstream timeout with no upstream status and its reason", async () => {
    const config = await seedContainer();
    const { records } = await callRouter(routerRequest(config.publicHosts[0]!, "/slow?ms=4000"));
    expect(records[0]).toMatchObject({ status: 504, upstreamStatus: null, pathClass: "passthrough", reason: "upstream_timeout" });
  });

  it("sends one record per request, packed into one message when requests arrive together", async () => {
    const config = await seedContainer();
    const log = recordingQueue();
    // A window longer than 30 requests take on a loaded machine (the tests' default is 50 ms).
    const responses = await callRouterWith(
      log,
      Array.from({ length: 30 }, () => routerRequest(config.publicHosts[0]!, "/echo")),
      2_000,
    );
    await Promise.all(responses.map((response) => response.body?.cancel()));
    expect(log.records).toHaveLength(30);
    expect(new Set(log.records.map((r) => r.requestId)).size).toBe(30);
    expect(log.messages).toHaveLength(1);
    expect(log.messages[0]).toMatchObject({ v: PACKED_LOG_VERSION });
  });

  it("sends as soon as LOG_FLUSH_RECORDS records wait, however long the window", async () => {
    const config = await seedContainer();
    const log = recordingQueue();
    const count = 2 * LOG_FLUSH_RECORDS + 25;
    // A window long enough for every request to land in it, so the split can only come from the record bound.
    const requests = Array.from({ length: count }, () => routerRequest(config.publicHosts[0]!, "/echo"));
    const responses = await callRouterWith(log, requests, 5_000);
    await Promise.all(responses.map((response) => response.body?.cancel()));
    expect(log.records).toHaveLength(count);
    expect(log.messages.map((m) => m.records.length)).toEqual([LOG_FLUSH_RECORDS, LOG_FLUSH_RECORDS, 25]);
  });

  it("never fails the response when the queue refuses the record", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/echo"), { failLogQueue: true });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ path: "/echo" });
  });
});

describe("loader paths", () => {
  it("hands /boot to the loader instead of proxying it", async () => {
    const config = await seedContainer();
    const { response, records } = await callRouter(routerRequest(config.publicHosts[0]!, "/boot", { method: "GET" }));
    // The loader answers its own paths (here: wrong method); the upstream would have said 404 "not found".
    expect(response.status).toBe(405);
    expect(records[0]).toMatchObject({ pathClass: "boot", upstreamStatus: null });
  });

  it("hands the loader script path to the loader, below a same-origin mount too", async () => {
    const shop = `www.${uniqueId()}.example`;
    const config = await seedContainer({ publicHosts: [`${shop}/metrics`] });
    const { response, records } = await callRouter(routerRequest(shop, `/metrics/l/${config.loaderToken}.js`));
    expect(response.headers.get("Content-Type")).toContain("javascript");
    expect(records[0]).toMatchObject({ pathClass: "loader", upstreamStatus: null });
  });
});
