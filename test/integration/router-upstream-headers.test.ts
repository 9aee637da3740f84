// CONTRACT.md "Live traffic": the upstream receives an allow-listed set of request headers, and client-address
// headers only as the edge sets them (none under ipAnonymization `drop`). Against the real loopback upstream of
// test/support/router-origin.global.mjs, whose /echo answers with the headers it received.
import { describe, expect, it } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { callRouter, encodeTarget, routerRequest, seedContainer } from "../support/router-harness";

async function upstreamSaw(request: Request): Promise<Record<string, string>> {
  const { response } = await callRouter(request);
  expect(response.status).toBe(200);
  return ((await response.json()) as { headers: Record<string, string> }).headers;
}

const collect = (query: string) => `/k/?p=${encodeTarget(`/echo/g/collect?${query}`)}`;

// A GA4 page_view from Chrome 131 on Windows as gtag.js sends it through a first-party domain (headers as Chrome
// sends them on a sendBeacon/fetch to the tagging server).
const GA4_HIT_HEADERS = {
  Accept: "*/*",
  "Accept-Encoding": "gzip, deflate, br, zstd",
  "Accept-Language": "de-DE,de;q=0.9,en;q=0.8",
  "Content-Type": "text/plain;charset=UTF-8",
  Cookie:
    "FPID=FPID2.2.abcdefghijklmnopqrstuvwx.1733500000; _ga=GA1.1.1234567890.1733500000; _ga_ABC123=GS1.1.1733500000.1.1.1733500100.0.0.0",
  Origin: "https://www.shop1.example",
  Referer: "https://www.shop1.example/products/shoe?utm_source=news",
  "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Sec-CH-UA": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
  "Sec-CH-UA-Mobile": "?0",
  "Sec-CH-UA-Platform": '"Windows"',
  "Sec-CH-UA-Platform-Version": '"15.0.0"',
  "Sec-CH-UA-Full-Version-List": '"Google Chrome";v="131.0.6778.86", "Chromium";v="131.0.6778.86"',
  "Sec-CH-UA-Model": '""',
  "Sec-CH-UA-Arch": '"x86"',
  "Sec-CH-UA-Bitness": '"64"',
  "Sec-Fetch-Site": "same-site",
  "Sec-Fetch-Mode": "no-cors",
  "Sec-Fetch-Dest": "empty",
  "Sec-GPC": "1",
  DNT: "1",
  "CF-Connecting-IP": "203.0.113.77",
};
const GA4_QUERY =
  "v=2&tid=G-ABC123&gtm=45je4c20v9&_p=1733500100&cid=1234567890.1733500000&ul=de-de&sr=1920x1080&_s=1&sid=1733500000&sct=1&seg=1&dl=https%3A%2F%2Fwww.shop1.example%2Fproducts%2Fshoe&dt=Shoe&en=page_view";

describe("a GA4 hit and a preview request", () => {
  it("a GA4 collect hit arrives with every header sGTM reads, as sent", async () => {
    const config = await seedContainer();
    const headers = await upstreamSaw(
      routerRequest(config.publicHosts[0]!, collect(GA4_QUERY), { method: "POST", headers: GA4_HIT_HEADERS, body: "" }),
    );
    for (const [name, value] of Object.entries(GA4_HIT_HEADERS)) {
      if (name === "CF-Connecting-IP" || name === "Accept-Encoding") continue;
      expect(headers[name.toLowerCase()], name).toBe(value);
    }
    // Accept-Encoding is the runtime's to negotiate for its own connection: present, not necessarily the client's.
    expect(headers["accept-encoding"]).toBeDefined();
    expect(headers["x-forwarded-for"]).toBe("203.0.113.77");
    expect(headers["x-forwarded-host"]).toBe(config.publicHosts[0]);
    expect(headers["x-forwarded-proto"]).toBe("https");
  });

  it("a preview request keeps X-Gtm-Server-Preview, and a conditional gtm.js request its validators", async () => {
    const config = await seedContainer();
    const headers = await upstreamSaw(
      routerRequest(config.publicHosts[0]!, "/echo/gtm.js?id=GTM-ABC123", {
        headers: {
          "X-Gtm-Server-Preview": "ZW52LTV8bm9uZXwxOTNjMGE0ZTAwMDAwMDAw",
          "If-None-Match": '"v7"',
          "If-Modified-Since": "Fri, 06 Dec 2024 10:00:00 GMT",
          Cookie: "FPID=FPID2.2.abcdefghijklmnopqrstuvwx.1733500000",
          "User-Agent": GA4_HIT_HEADERS["User-Agent"],
        },
      }),
    );
    expect(headers["x-gtm-server-preview"]).toBe("ZW52LTV8bm9uZXwxOTNjMGE0ZTAwMDAwMDAw");
    expect(headers["if-none-match"]).toBe('"v7"');
    expect(headers["if-modified-since"]).toBe("Fri, 06 Dec 2024 10:00:00 GMT");
    expect(headers.cookie).toBe("FPID=FPID2.2.abcdefghijklmnopqrstuvwx.1733500000");
  });

  it("the geo and bot headers the edge sets itself arrive with the modules on", async () => {
    const config = await seedContainer({
      entitlements: ["bot_detection"],
      modules: { geoHeaders: { enabled: true }, botDetection: { enabled: true, action: "tag" } },
    });
    const request = routerRequest(config.publicHosts[0]!, "/echo", { headers: { "User-Agent": GA4_HIT_HEADERS["User-Agent"] } });
    Object.defineProperty(request, "cf", { value: { country: "DE", regionCode: "BY", city: "Berlin" } });
    const headers = await upstreamSaw(request);
    expect(headers["x-appengine-country"]).toBe("DE");
    expect(headers["x-appengine-region"]).toBe("by");
    expect(headers["x-appengine-city"]).toBe("berlin");
    expect(headers["x-device-bot"]).toBe("false");
    expect(headers["x-device-bot-score"]).toBe("0");
  });

  it("nothing outside the allow-list arrives: custom, auth and tracing headers are dropped", async () => {
    const config = await seedContainer();
    const headers = await upstreamSaw(
      routerRequest(config.publicHosts[0]!, "/echo", {
        headers: {
          "User-Agent": "ua",
          Authorization: "Bearer secret",
          "X-Custom": "1",
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          "X-Requested-With": "XMLHttpRequest",
          "X-Device-Bot": "false",
          "X-Public-Host": "other.example",
        },
      }),
    );
    // The runtime's own: what an HTTP/1.1 client adds for its connection, and CF-Worker (the zone making the subrequest).
    const runtime = new Set(["host", "connection", "content-length", "accept-encoding", "transfer-encoding", "cf-worker"]);
    const arrived = Object.keys(headers).filter((name) => !runtime.has(name));
    expect(arrived.sort()).toEqual(["user-agent", "x-forwarded-host", "x-forwarded-proto"]);
  });

  it("a DEL in a dropped header cannot fail the request", async () => {
    const config = await seedContainer();
    const headers = await upstreamSaw(routerRequest(config.publicHosts[0]!, "/echo", { headers: { "X-Odd": "a\x7fb" } }));
    expect(headers["x-odd"]).toBeUndefined();
  });
});

// Every header a client, proxy, CDN or platform uses to name a client address or its location: the 56 found to pass
// in issue 24 and the standard ones, in their usual and underscore spellings.
const CLIENT_ADDRESS_HEADERS = [
  "Forwarded",
  "X-Forwarded-For",
  "X_Forwarded_For",
  "X-Forwarded",
  "Forwarded-For",
  "Forwarded_For",
  "X-Forwarded-For-Original",
  "X-Original-Forwarded-For",
  "X-Forwarded-Client-IP",
  "X-Forwarded-Server",
  "X-Forwarded-By",
  "Z-Forwarded-For",
  "Via",
  "X-Real-IP",
  "X_Real_IP",
  "X-Real-Client-IP",
  "X-Client-IP",
  "X_Client_IP",
  "X-Client-Addr",
  "Client-IP",
  "Client_IP",
  "HTTP-Client-IP",
  "HTTP_CLIENT_IP",
  "HTTP_X_FORWARDED_FOR",
  "X-Cluster-Client-IP",
  "X-Original-IP",
  "X-Originating-IP",
  "X-Remote-IP",
  "X-Remote-Addr",
  "Remote-Addr",
  "Remote_Addr",
  "X-Original-Remote-Addr",
  "X-ProxyUser-IP",
  "X-True-IP",
  "X-IP",
  "X-Coming-From",
  "X-Host",
  "True-Client-IP",
  "True_Client_IP",
  "WL-Proxy-Client-IP",
  "Proxy-Client-IP",
  "X-Bluecoat-Via",
  "X-WAP-Network-Client-IP",
  "Fastly-Client-IP",
  "Akamai-Client-IP",
  "X-Akamai-Edgescape",
  "Fly-Client-IP",
  "DO-Connecting-IP",
  "Incap-Client-IP",
  "X-Sucuri-ClientIP",
  "X-Sucuri-Country",
  "Ali-CDN-Real-IP",
  "Cdn-Src-Ip",
  "Cdn-Real-Ip",
  "X-Azure-ClientIP",
  "X-Azure-SocketIP",
  "X-ARR-ClientIP",
  "X-Envoy-External-Address",
  "X-Vercel-Forwarded-For",
  "X-Vercel-IP-Country",
  "X-Vercel-IP-City",
  "X-Vercel-IP-Latitude",
  "X-NF-Client-Connection-IP",
  "CloudFront-Viewer-Address",
  "CloudFront-Viewer-Country",
  "CloudFront-Viewer-City",
  "X-Country-Code",
  "X-Appengine-User-IP",
  "X-Appengine-Remote-Addr",
  "X-Appengine-Country",
  "X-Appengine-Region",
  "X-Appengine-City",
  "X-Appengine-CityLatLong",
  "X-Geo-Country",
  "CF-Connecting-IPv6",
  "CF-Pseudo-IPv4",
  "CF-IPCountry",
  "CF-IPCity",
  "Stackpath-Client-IP",
  "X-Edge-Client-IP",
];

const REAL = "203.0.113.77";
const SPOOFED = "198.51.100.23";
const MODES: [string, EdgeConfigInput["modules"]][] = [
  ["off", {}],
  ["truncate", { ipAnonymization: { enabled: true, mode: "truncate" } }],
  ["drop", { ipAnonymization: { enabled: true, mode: "drop" } }],
];
const EXPECTED_XFF: Record<string, string | undefined> = { off: REAL, truncate: "203.0.113.0", drop: undefined };

describe("client-address headers", () => {
  it(`the list covers ${CLIENT_ADDRESS_HEADERS.length} distinct names`, () => {
    expect(new Set(CLIENT_ADDRESS_HEADERS.map((name) => name.toLowerCase())).size).toBe(CLIENT_ADDRESS_HEADERS.length);
    expect(CLIENT_ADDRESS_HEADERS.length).toBeGreaterThanOrEqual(56);
  });

  for (const [mode, modules] of MODES) {
    it(`${mode}: none reaches the upstream; X-Forwarded-For is the edge's own`, async () => {
      const config = await seedContainer({ modules });
      const sent: Record<string, string> = { "CF-Connecting-IP": REAL, "User-Agent": "ua" };
      for (const name of CLIENT_ADDRESS_HEADERS) sent[name] = name === "Forwarded" ? `for=${SPOOFED}` : SPOOFED;
      const headers = await upstreamSaw(routerRequest(config.publicHosts[0]!, collect("v=2&tid=G-ABC123&en=page_view"), { headers: sent }));

      for (const name of CLIENT_ADDRESS_HEADERS) {
        if (name.toLowerCase() === "x-forwarded-for") continue;
        expect(headers[name.toLowerCase()], name).toBeUndefined();
      }
      expect(headers["x-forwarded-for"]).toBe(EXPECTED_XFF[mode]);
      const all = JSON.stringify(headers);
      expect(all).not.toContain(SPOOFED);
      if (mode !== "off") expect(all).not.toContain(REAL);
    });
  }
});
