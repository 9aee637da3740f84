// Cookies that last, in a real browser: headless Debian Chromium (playwright-core) against the whole local platform
// (`wrangler dev` with both Workers, local KV, Queues and Durable Objects, the stand-in sGTM origin, a PostgREST
// stand-in as SUPABASE_URL, whose SQL side is the project's migrations on real PostgreSQL elsewhere).
//   _sid                  set by /boot, renewed by the next page view, new once the browser expired it. Time is
//                         not slept through: the test rewrites the cookie's expiry in the browser's own cookie store
//                         (Storage.setCookies over CDP) to "one minute left" and to "already past", and the browser
//                         applies its own expiry rules to that.
//   identityCookie        the shop's own server (a page server on www.idshop.localhost) sets `shop_uid` for the
//                         site; the loader on ss.idshop.localhost backs `_ga` up under it and restores it.
//   ETP                   a Firefox user agent is reported as etp (and the edge measures same-origin mode).
//   GA4 / GTM environment a G- container loads gtag/js, and a GTM container its environment's gtm.js with a custom
//                         dataLayer, both through the obfuscated proxy path from the stand-in origin.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlatform } from "../../scripts/platform.mjs";
import { launchChromium } from "../support/browser";
import { hostRequest } from "../support/http.mjs";
import { type BootAnswer, pollUntil, putAndWait, waitInSync } from "../support/platform-pages";
import { startPostgrestStandIn } from "../support/postgrest-stand-in.mjs";

const SERVICE_KEY = "loader-cookies-service-key";
const TENANT = "loader-cookies";
const GA = "GA1.1.515151.1700000000";
const FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

type SessionRow = {
  session_id: string;
  container_id: string;
  adblock: boolean;
  itp: boolean;
  etp: boolean;
  mode: string;
};

let persistTo: string;
let supabase: Awaited<ReturnType<typeof startPostgrestStandIn>>;
let platform: Awaited<ReturnType<typeof startPlatform>>;
let browser: Browser;
let shopServer: Server;
let shopPort: number;

const workerOutput = () => platform.output.slice(-20).join("");
const shopPage = () => `http://shop.localhost:${platform.port}/metrics/demo`;

/** A container on the stand-in origin, with every module on and the demo shop's defaults. */
function container(containerId: string, fields: Record<string, unknown>) {
  return {
    containerId,
    version: 1,
    upstream: platform.originUrl,
    loaderToken: `lt_${containerId.replace(/-/g, "_")}`,
    gtmId: "GTM-DEMO01",
    entitlements: ["cookie_restoration", "adblock_detection"],
    modules: { cookieKeeper: { enabled: true }, cookieRestoration: { enabled: true }, adblockDetection: { enabled: true } },
    ...fields,
  };
}

/** Navigates and returns the answer of the /boot call the loader made on that page view. */
async function visit(page: Page, url: string): Promise<BootAnswer> {
  const boot = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/boot"));
  await page.goto(url);
  const response = await boot;
  expect(response.status()).toBe(200);
  return (await response.json()) as BootAnswer;
}

async function cookie(context: BrowserContext, name: string) {
  return (await context.cookies()).find((c) => c.name === name);
}

async function sessionRow(sessionId: string): Promise<SessionRow> {
  return pollUntil(
    async () => (supabase.rows(TENANT, "loader_sessions") as SessionRow[]).find((row) => row.session_id === sessionId),
    30_000,
    `loader_sessions row for ${sessionId}`,
    workerOutput,
  );
}

async function reportedSession(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => sessionStorage.getItem("_qxs"), undefined, { timeout: 10_000 });
  return (await handle.jsonValue()) as string;
}

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "qaxal-loader-cookies-"));
  supabase = await startPostgrestStandIn({ serviceKey: SERVICE_KEY });
  platform = await startPlatform({
    quiet: true,
    persistTo,
    vars: { SUPABASE_URL: supabase.supabaseUrl(TENANT), SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY },
  });
  // The shop's own web server: it sets its own long-lived id for the whole site, as a back-end would.
  shopServer = createServer((req, res) => {
    const headers: Record<string, string | string[]> = { "Content-Type": "text/html; charset=utf-8" };
    if (!/(^|;\s*)shop_uid=/.test(req.headers.cookie ?? "")) {
      headers["Set-Cookie"] =
        `shop_uid=u-${Math.random().toString(36).slice(2)}; Domain=idshop.localhost; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax`;
    }
    res.writeHead(200, headers);
    res.end(
      `<!doctype html><title>idshop</title><script async src="http://ss.idshop.localhost:${platform.port}/l/lt_demo_identity.js"></script><p>shop</p>`,
    );
  });
  await new Promise<void>((r) => shopServer.listen(0, "127.0.0.1", () => r()));
  shopPort = (shopServer.address() as { port: number }).port;
  await Promise.all([
    waitInSync(platform.workerUrl, "demo-shop", 1),
    putAndWait(
      platform.workerUrl,
      container("demo-identity", {
        publicHosts: ["ss.idshop.localhost"],
        identityCookie: "shop_uid",
        allowedOrigins: [`http://www.idshop.localhost:${shopPort}`],
      }),
    ),
    putAndWait(platform.workerUrl, container("demo-ga4", { publicHosts: ["ga4.localhost/metrics"], gtmId: "G-GA4DEMO1" })),
    putAndWait(
      platform.workerUrl,
      container("demo-gtm-env", {
        publicHosts: ["env.localhost/metrics"],
        gtmId: "GTM-ENVDEMO",
        gtmEnvironment: { auth: "aBcD1234efGH", preview: "env-7" },
        dataLayer: "shopLayer",
      }),
    ),
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await supabase?.close();
  await new Promise((r) => (shopServer ? shopServer.close(r) : r(undefined)));
  rmSync(persistTo, { recursive: true, force: true });
});

describe("_sid", () => {
  it("is set by /boot for 30 minutes, renewed by the next page view, and new once expired", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();

    const first = await visit(page, shopPage());
    const sid = await cookie(context, "_sid");
    expect(sid).toMatchObject({
      value: first.sessionId,
      domain: ".shop.localhost",
      path: "/",
      secure: true,
      httpOnly: false,
      sameSite: "Lax",
    });
    expect(sid!.expires - Date.now() / 1000).toBeGreaterThan(1800 - 60);
    expect(sid!.expires - Date.now() / 1000).toBeLessThanOrEqual(1800);
    // The detection record names the same session, so loader_sessions correlates with the visit.
    expect(await reportedSession(page)).toBe(first.sessionId);
    expect(await sessionRow(first.sessionId)).toMatchObject({ container_id: "demo-shop" });

    // 29 minutes later: one minute left. A page view keeps the session and gives it 30 minutes again.
    await context.addCookies([{ ...sid!, expires: Math.floor(Date.now() / 1000) + 60 }]);
    const renewed = await visit(page, shopPage());
    expect(renewed.sessionId).toBe(first.sessionId);
    expect((await cookie(context, "_sid"))!.expires - Date.now() / 1000).toBeGreaterThan(1800 - 60);

    // More than 30 minutes without a page view: the browser has dropped the cookie, the next view starts a new session.
    await context.addCookies([{ ...sid!, expires: Math.floor(Date.now() / 1000) - 1 }]);
    expect(await cookie(context, "_sid")).toBeUndefined();
    const fresh = await visit(page, shopPage());
    expect(fresh.sessionId).not.toBe(first.sessionId);
    expect((await cookie(context, "_sid"))?.value).toBe(fresh.sessionId);
    await context.close();
  });
});

describe("identityCookie", () => {
  it("backs up and restores under the cookie the shop's own server set, and the edge issues no FPID", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const url = `http://www.idshop.localhost:${shopPort}/`;
    await visit(page, url);
    const identity = await cookie(context, "shop_uid");
    expect(identity).toMatchObject({ domain: ".idshop.localhost", httpOnly: true });

    await page.evaluate((ga) => {
      document.cookie = `_ga=${ga}; Path=/; Max-Age=3600`;
    }, GA);
    expect((await visit(page, url)).restoreCookies).toEqual([]);
    // The backup is written after the answer (waitUntil): ask until it is there, with the browser's identity and
    // no cookies, which writes nothing itself.
    await pollUntil(
      async () => {
        const res = await hostRequest(`${platform.workerUrl}/boot`, "ss.idshop.localhost", {
          method: "POST",
          // With the edge's proof for it (_qxi, set at the first /boot that showed the identity).
          headers: { Cookie: `shop_uid=${identity!.value}; _qxi=${(await cookie(context, "_qxi"))?.value}` },
          body: JSON.stringify({ cookies: {} }),
        });
        return (JSON.parse(res.body) as BootAnswer).restoreCookies.some((c) => c.name === "_ga") ? true : undefined;
      },
      10_000,
      "the _ga backup under shop_uid",
      workerOutput,
    );

    await context.clearCookies({ name: "_ga" });
    const restored = await visit(page, url);
    expect(restored.restoreCookies).toEqual([{ name: "_ga", value: GA, maxAge: 395 * 86_400 }]);
    await page.waitForFunction((ga) => document.cookie.includes(`_ga=${ga}`), GA, { timeout: 10_000 });
    expect(await cookie(context, "FPID")).toBeUndefined();
    // The edge measured this visit as subdomain mode: the page on www., the loader on ss.
    expect(await sessionRow(await reportedSession(page))).toMatchObject({ container_id: "demo-identity", mode: "subdomain" });
    await context.close();
  });
});

describe("detection", () => {
  it("reports a Firefox user agent as ETP (not ITP), and the edge measures same-origin mode", async () => {
    const context = await browser.newContext({ userAgent: FIREFOX_UA });
    const page = await context.newPage();
    await visit(page, shopPage());
    const row = await sessionRow(await reportedSession(page));
    expect(row).toMatchObject({ container_id: "demo-shop", etp: true, itp: false, mode: "same-origin" });
    await context.close();
  });
});

describe("GA4 and GTM environments through the proxy", () => {
  async function tagRun(url: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await visit(page, url);
    const standIn = await page.waitForFunction(() => (window as unknown as { __sgtmStandIn?: unknown }).__sgtmStandIn);
    return { context, page, requested, standIn: (await standIn.jsonValue()) as Record<string, string | null> };
  }

  it("loads a G- container's gtag/js through the obfuscated path and configures it for the edge", async () => {
    const base = `http://ga4.localhost:${platform.port}/metrics`;
    const { context, page, requested, standIn } = await tagRun(`${base}/demo?token=lt_demo_ga4`);
    expect(standIn).toMatchObject({ kind: "gtag/js", id: "G-GA4DEMO1" });
    expect(requested).toContain(`${base}/k/?p=${Buffer.from("/gtag/js?id=G-GA4DEMO1").toString("base64url")}`);
    expect(requested.filter((url) => /gtag|gtm\.js|googletagmanager/i.test(url))).toEqual([]);
    // gtag('config', id, { server_container_url }) sends GA4's hits to the edge, on the page's own origin.
    const config = await page.evaluate(() =>
      (window as unknown as { dataLayer: IArguments[] }).dataLayer.map((entry) => Array.from(entry)).find((args) => args[0] === "config"),
    );
    expect(config).toEqual(["config", "G-GA4DEMO1", { server_container_url: base }]);
    await context.close();
  });

  it("loads a GTM environment's container with its custom dataLayer through the obfuscated path", async () => {
    const base = `http://env.localhost:${platform.port}/metrics`;
    const { context, page, requested, standIn } = await tagRun(`${base}/demo?token=lt_demo_gtm_env`);
    expect(standIn).toMatchObject({ kind: "gtm.js", id: "GTM-ENVDEMO", auth: "aBcD1234efGH", preview: "env-7", dataLayer: "shopLayer" });
    const param = Buffer.from("/gtm.js?id=GTM-ENVDEMO&l=shopLayer&gtm_auth=aBcD1234efGH&gtm_preview=env-7&gtm_cookies_win=x").toString(
      "base64url",
    );
    expect(requested).toContain(`${base}/k/?p=${param}`);
    expect(requested.filter((url) => /gtm\.js|googletagmanager/i.test(url))).toEqual([]);
    const layer = await page.evaluate(() => (window as unknown as { shopLayer: { event?: string }[] }).shopLayer.map((e) => e.event));
    expect(layer).toEqual(["gtm.js", "gtm.load"]);
    await context.close();
  });
});
