// The optional request modules (CONTRACT.md EdgeConfig "Optional modules") against the real loopback upstream of
// test/support/router-origin.global.mjs, whose /echo answers with the headers it received: geoHeaders,
// ipAnonymization and botDetection, each on and off, with and without the entitlement; the access record's country
// and bot verdict; and that request.cf is not read at all while every module is off.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { AccessRecordSchema, DetectionRecordSchema } from "../../schemas/log-record";
import { bootSession, callRouter, deadUrl, encodeTarget, routerRequest, seedContainer } from "../support/router-harness";

type Modules = NonNullable<EdgeConfigInput["modules"]>;

/** A container with only `modules` on (no Cookie Keeper, no loader modules) and the given entitlements. */
const container = (modules: Modules, entitlements: EdgeConfigInput["entitlements"] = [], overrides: Partial<EdgeConfigInput> = {}) =>
  seedContainer({ modules, entitlements, ...overrides });

/** The headers the upstream received for `init` sent to `path` on the container's public host. */
async function upstreamSaw(host: string, init: RequestInit & { cf?: unknown } = {}, path = "/echo") {
  const { response, records } = await callRouter(new Request(`https://${host}${path}`, init as RequestInit));
  expect(response.status).toBe(200);
  const echo = (await response.json()) as { headers: Record<string, string> };
  return { headers: echo.headers, record: v.parse(AccessRecordSchema, records[0]) };
}

const GEO_CF = { country: "DE", regionCode: "BY", city: "München" };

describe("geoHeaders", () => {
  it("sends no geo headers by default, also not the ones a client sent", async () => {
    const config = await container({});
    const { headers } = await upstreamSaw(config.publicHosts[0]!, {
      headers: { "X-Appengine-Country": "ZZ", "X-Appengine-City": "nowhere" },
      cf: GEO_CF,
    });
    for (const name of ["x-appengine-country", "x-appengine-region", "x-appengine-city"]) expect(headers[name], name).toBeUndefined();
  });

  it("sends country, region and city from request.cf when on, without any entitlement", async () => {
    const config = await container({ geoHeaders: { enabled: true } });
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "X-Appengine-Country": "ZZ" }, cf: GEO_CF });
    expect(headers["x-appengine-country"]).toBe("DE");
    expect(headers["x-appengine-region"]).toBe("by");
    expect(headers["x-appengine-city"]).toBe(encodeURIComponent("münchen"));
  });

  it("sends only the fields Cloudflare knows for the request", async () => {
    const config = await container({ geoHeaders: { enabled: true } });
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { cf: { country: "AT" } });
    expect(headers["x-appengine-country"]).toBe("AT");
    expect(headers["x-appengine-region"]).toBeUndefined();
    expect(headers["x-appengine-city"]).toBeUndefined();
  });

  it("proxies a request without request.cf (a local run), sending no geo headers", async () => {
    const config = await container({ geoHeaders: { enabled: true } });
    const { headers } = await upstreamSaw(config.publicHosts[0]!);
    expect(headers["x-appengine-country"]).toBeUndefined();
  });

  it("sends nothing when enabled is false", async () => {
    const config = await container({ geoHeaders: { enabled: false } });
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { cf: GEO_CF });
    expect(headers["x-appengine-country"]).toBeUndefined();
  });
});

/** A request whose `cf` property counts its reads (the router must not touch it while every module is off). */
function countingCf(request: Request, cf: object): { reads: number } {
  const counter = { reads: 0 };
  Object.defineProperty(request, "cf", {
    get() {
      counter.reads += 1;
      return cf;
    },
  });
  return counter;
}

describe("request.cf on the hot path", () => {
  it("is never read while every module is off (proxy path, pass-through and the access record)", async () => {
    const config = await container({});
    for (const path of [`/k/?p=${encodeTarget("/echo/g/collect?v=2")}`, "/echo"]) {
      const request = routerRequest(config.publicHosts[0]!, path, { headers: { "CF-IPCountry": "DE", "CF-Connecting-IP": "203.0.113.7" } });
      const counter = countingCf(request, GEO_CF);
      const { response, records } = await callRouter(request);
      expect(response.status).toBe(200);
      expect(records[0]!.country).toBe("DE");
      expect(counter.reads, path).toBe(0);
    }
  });

  it("is read once geoHeaders needs it", async () => {
    const config = await container({ geoHeaders: { enabled: true } });
    const request = routerRequest(config.publicHosts[0]!, "/echo");
    const counter = countingCf(request, GEO_CF);
    await callRouter(request);
    expect(counter.reads).toBeGreaterThan(0);
  });
});

describe("access record country", () => {
  it("comes from CF-IPCountry, not from request.cf", async () => {
    const config = await container({});
    const { record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-IPCountry": "JP" }, cf: { country: "FR" } });
    expect(record.country).toBe("JP");
  });

  it("is absent when the request has no CF-IPCountry", async () => {
    const config = await container({});
    const { record } = await upstreamSaw(config.publicHosts[0]!, { cf: { country: "FR" } });
    expect(record.country).toBeNull();
  });

  it("keeps Cloudflare's XX (unknown) and T1 (Tor) codes", async () => {
    const config = await container({});
    for (const code of ["XX", "T1"]) {
      const { record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-IPCountry": code } });
      expect(record.country).toBe(code);
    }
  });

  it("drops a value that is not a two-character code (a spoofed header cannot put text into the logs)", async () => {
    const config = await container({});
    for (const value of ["Germany", "de", "D", "<b>", "DE,FR"]) {
      const { record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-IPCountry": value } });
      expect(record.country, value).toBeNull();
    }
  });
});

describe("ipAnonymization", () => {
  const IPS = {
    v4: ["203.0.113.77", "203.0.113.0"],
    v6: ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
    mappedDotted: ["::ffff:198.51.100.23", "198.51.100.0"],
    mappedHex: ["::FFFF:C633:6417", "198.51.100.0"],
  } as const;

  it("forwards the full client IP when off", async () => {
    const config = await container({});
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-Connecting-IP": IPS.v4[0] } });
    expect(headers["x-forwarded-for"]).toBe(IPS.v4[0]);
  });

  for (const [kind, [ip, truncated]] of Object.entries(IPS)) {
    it(`truncate: cuts ${kind} ${ip} to ${truncated}`, async () => {
      const config = await container({ ipAnonymization: { enabled: true, mode: "truncate" } });
      const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-Connecting-IP": ip } });
      expect(headers["x-forwarded-for"]).toBe(truncated);
    });
  }

  it("truncate is the default mode and needs no entitlement", async () => {
    const config = await container({ ipAnonymization: { enabled: true } }, []);
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-Connecting-IP": IPS.v4[0] } });
    expect(headers["x-forwarded-for"]).toBe(IPS.v4[1]);
  });

  it("drop: no header the upstream receives carries the client address or its network", async () => {
    const config = await container({ ipAnonymization: { enabled: true, mode: "drop" } });
    for (const ip of [IPS.v4[0], IPS.v6[0]]) {
      const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-Connecting-IP": ip, "X-Forwarded-For": ip } });
      expect(headers["x-forwarded-for"]).toBeUndefined();
      const sent = JSON.stringify(headers);
      expect(sent).not.toContain("203.0.113");
      expect(sent).not.toContain("2001:db8");
    }
  });

  it("sends no address when CF-Connecting-IP is not an IP address", async () => {
    const config = await container({ ipAnonymization: { enabled: true, mode: "truncate" } });
    const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { "CF-Connecting-IP": "unknown" } });
    expect(headers["x-forwarded-for"]).toBeUndefined();
  });

  it("ignores every client-sent forwarding and client-IP header, on or off", async () => {
    const spoofed = "198.51.100.1";
    const clientSent = {
      "X-Forwarded-For": spoofed,
      "X-Real-IP": spoofed,
      "True-Client-IP": spoofed,
      Forwarded: `for=${spoofed}`,
      "X-Client-IP": spoofed,
      "X-Cluster-Client-IP": spoofed,
      "Client-IP": spoofed,
      "Fastly-Client-IP": spoofed,
      "X-Original-Forwarded-For": spoofed,
      "X-Originating-IP": spoofed,
    };
    for (const modules of [{}, { ipAnonymization: { enabled: true, mode: "truncate" as const } }]) {
      const config = await container(modules);
      const { headers } = await upstreamSaw(config.publicHosts[0]!, { headers: { ...clientSent, "CF-Connecting-IP": IPS.v4[0] } });
      expect(JSON.stringify(headers)).not.toContain(spoofed);
      expect(headers["x-forwarded-for"]).toMatch(/^203\.0\.113\.(77|0)$/);
    }
  });
});

// Real user agents as the clients send them.
const UA = {
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  bingbot:
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
  headlessChrome: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
  curl: "curl/8.5.0",
  chrome: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  safariIos:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  firefox: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
};
const BOTS = ["googlebot", "bingbot", "headlessChrome", "curl"] as const;
const BROWSERS = ["chrome", "safariIos", "firefox"] as const;
const TABLE = [...BOTS.map((name) => [name, true] as const), ...BROWSERS.map((name) => [name, false] as const)];

const tag = { botDetection: { enabled: true, action: "tag" as const } };
const block = { botDetection: { enabled: true, action: "block" as const } };
const COLLECT = `/k/?p=${encodeTarget("/g/collect?v=2&tid=G-1&en=page_view")}`;

describe("botDetection tag", () => {
  for (const [name, isBot] of TABLE) {
    it(`tags ${name} as ${isBot ? "a bot" : "a browser"} for the upstream and in the access record`, async () => {
      const config = await container(tag, ["bot_detection"]);
      const { headers, record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": UA[name] } });
      expect(headers["x-device-bot"]).toBe(String(isBot));
      expect(headers["x-device-bot-score"]).toBe(isBot ? "100" : "0");
      expect(record.bot).toBe(isBot);
    });
  }

  it("counts a request without User-Agent as a bot (every browser sends one)", async () => {
    const config = await container(tag, ["bot_detection"]);
    const { headers } = await upstreamSaw(config.publicHosts[0]!);
    expect(headers["x-device-bot"]).toBe("true");
  });

  it("replaces a client-sent verdict with its own", async () => {
    const config = await container(tag, ["bot_detection"]);
    const { headers } = await upstreamSaw(config.publicHosts[0]!, {
      headers: { "User-Agent": UA.curl, "X-Device-Bot": "false", "X-Device-Bot-Score": "0" },
    });
    expect(headers["x-device-bot"]).toBe("true");
    expect(headers["x-device-bot-score"]).toBe("100");
  });

  it("does nothing without the bot_detection entitlement, and drops a client-sent verdict", async () => {
    const config = await container(tag, ["cookie_restoration", "adblock_detection"]);
    const { headers, record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": UA.curl, "X-Device-Bot": "false" } });
    expect(headers["x-device-bot"]).toBeUndefined();
    expect(headers["x-device-bot-score"]).toBeUndefined();
    expect(record.bot).toBeNull();
  });

  it("does nothing while disabled, even when entitled", async () => {
    const config = await container({ botDetection: { enabled: false, action: "tag" } }, ["bot_detection"]);
    const { headers, record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": UA.curl } });
    expect(headers["x-device-bot"]).toBeUndefined();
    expect(record.bot).toBeNull();
  });

  describe("with Cloudflare Bot Management fields", () => {
    const withScore = async (botManagement: object, userAgent = UA.chrome) => {
      const config = await container(tag, ["bot_detection"]);
      return (await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": userAgent }, cf: { botManagement } })).headers;
    };

    it("turns Cloudflare's score (1 = bot, 99 = human) into Stape's (100 = bot)", async () => {
      const headers = await withScore({ score: 5, verifiedBot: false });
      expect(headers["x-device-bot"]).toBe("true");
      expect(headers["x-device-bot-score"]).toBe("95");
    });

    it("keeps a likely human (score 30 and up) a browser", async () => {
      const headers = await withScore({ score: 80, verifiedBot: false });
      expect(headers["x-device-bot"]).toBe("false");
      expect(headers["x-device-bot-score"]).toBe("20");
    });

    it("puts the boundary of Cloudflare's 'likely automated' band (1-29) on the bot side", async () => {
      expect((await withScore({ score: 29, verifiedBot: false }))["x-device-bot"]).toBe("true");
      expect((await withScore({ score: 30, verifiedBot: false }))["x-device-bot"]).toBe("false");
    });

    it("scores a verified bot 100", async () => {
      const headers = await withScore({ score: 90, verifiedBot: true });
      expect(headers["x-device-bot-score"]).toBe("100");
    });

    it("still counts a self-declared bot when Cloudflare scores it human", async () => {
      const headers = await withScore({ score: 90, verifiedBot: false }, UA.googlebot);
      expect(headers["x-device-bot"]).toBe("true");
    });
  });
});

describe("botDetection block", () => {
  for (const name of BOTS) {
    it(`answers ${name} on a collect request with 204 and never calls the upstream`, async () => {
      // The upstream is a port with nothing listening: any fetch would be a 502.
      const config = await container(block, ["bot_detection"], { upstream: deadUrl() });
      const { response, records } = await callRouter(
        routerRequest(config.publicHosts[0]!, COLLECT, { headers: { "User-Agent": UA[name] } }),
      );
      expect(response.status).toBe(204);
      expect(await response.text()).toBe("");
      expect(records[0]).toMatchObject({
        pathClass: "proxy",
        path: "/g/collect",
        status: 204,
        upstreamStatus: null,
        bot: true,
        reason: "bot_blocked",
      });
    });
  }

  for (const name of BROWSERS) {
    it(`proxies ${name}, tagged, to the upstream`, async () => {
      const config = await container(block, ["bot_detection"]);
      const { headers, record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": UA[name] } });
      expect(headers["x-device-bot"]).toBe("false");
      expect(record).toMatchObject({ status: 200, upstreamStatus: 200, bot: false, reason: null });
    });
  }

  it("answers a bot on any other proxied path with 403 bot_blocked", async () => {
    const config = await container(block, ["bot_detection"], { upstream: deadUrl() });
    const { response, records } = await callRouter(
      routerRequest(config.publicHosts[0]!, "/gtm.js?id=GTM-ABC123", { headers: { "User-Agent": UA.googlebot } }),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "bot_blocked" });
    expect(records[0]).toMatchObject({ status: 403, upstreamStatus: null, bot: true, reason: "bot_blocked" });
  });

  it("gives the page's trusted Origin its CORS grant on the 204", async () => {
    const config = await container(block, ["bot_detection"], { upstream: deadUrl() });
    const origin = config.allowedOrigins[0]!;
    const { response } = await callRouter(
      routerRequest(config.publicHosts[0]!, COLLECT, { headers: { "User-Agent": UA.headlessChrome, Origin: origin } }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  });

  it("still serves the loader script to a bot (the edge's own answer, no upstream call)", async () => {
    const config = await container(block, ["bot_detection"], { upstream: deadUrl() });
    const { response } = await callRouter(
      routerRequest(config.publicHosts[0]!, `/l/${config.loaderToken}.js`, { headers: { "User-Agent": UA.googlebot } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("javascript");
  });

  it("blocks nothing without the entitlement", async () => {
    const config = await container(block, []);
    const { headers, record } = await upstreamSaw(config.publicHosts[0]!, { headers: { "User-Agent": UA.curl } });
    expect(headers["x-device-bot"]).toBeUndefined();
    expect(record.bot).toBeNull();
  });
});

describe("detection record", () => {
  const detection = { adblockDetection: { enabled: true } };
  async function report(modules: Modules, entitlements: EdgeConfigInput["entitlements"], userAgent: string, webdriver?: boolean) {
    const config = await container({ ...detection, ...modules }, ["adblock_detection", ...(entitlements ?? [])]);
    const body = {
      sessionId: await bootSession(config.publicHosts[0]!),
      adblock: false,
      itp: false,
      ...(webdriver === undefined ? {} : { webdriver }),
    };
    const { response, records } = await callRouter(
      routerRequest(config.publicHosts[0]!, "/mark-session-detection", {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "User-Agent": userAgent, "CF-IPCountry": "AT" },
      }),
    );
    expect(response.status).toBe(202);
    const found = (records as unknown[]).find((r) => (r as { kind: string }).kind === "detection");
    return v.parse(DetectionRecordSchema, found);
  }

  it("carries the edge's verdict on the reporting browser", async () => {
    expect(await report(tag, ["bot_detection"], UA.headlessChrome, false)).toMatchObject({ bot: true, webdriver: false, country: "AT" });
    expect(await report(tag, ["bot_detection"], UA.firefox, false)).toMatchObject({ bot: false, webdriver: false });
  });

  it("counts a browser that reports navigator.webdriver as a bot", async () => {
    expect(await report(tag, ["bot_detection"], UA.chrome, true)).toMatchObject({ bot: true, webdriver: true });
  });

  it("accepts a report without webdriver (a script cached before the field existed)", async () => {
    expect(await report(tag, ["bot_detection"], UA.chrome)).toMatchObject({ bot: false, webdriver: false });
  });

  it("makes no verdict without botDetection, but keeps the webdriver signal", async () => {
    expect(await report({}, [], UA.chrome, true)).toMatchObject({ bot: null, webdriver: true });
  });
});
