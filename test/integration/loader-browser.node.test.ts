// The loader in a real browser: headless Debian Chromium (playwright-core) against the whole local platform
// (`wrangler dev` with local KV, Queues, R2 and Durable Objects, the stand-in sGTM origin, the demo containers).
// Chromium resolves *.localhost to 127.0.0.1, so the pages run on first-party-looking hosts:
//   same-origin mode  http://shop.localhost:<port>/metrics/demo  (the stand-in's demo page, through the Worker)
//   subdomain mode    http://www.demo-shop.localhost:<page port>/ embedding http://ss.demo-shop.localhost:<port>/l/…
// How each claim is proven:
//   /boot was called         the page's own POST …/boot request and its JSON answer
//   cookie restored          the test deletes _ga from the browser (which keeps the backup marker _qxb), reloads,
//                            and reads it back from document.cookie
//   GTM through the proxy    the page requested <prefix><proxyPath>?p=<base64url> (no URL names gtm.js or
//                            googletagmanager) and ran the stand-in origin's gtm.js (window.__sgtmStandIn)
//   detection reached LOG_QUEUE  the session id the page stored shows up as a row in `loader_sessions` of a
//                            PostgREST stand-in set as SUPABASE_URL: only the LOG_QUEUE consumer writes that table.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN, ROOT, startPlatform } from "../../scripts/platform.mjs";
import { launchChromium } from "../support/browser";
import { hostRequest } from "../support/http.mjs";
import { startPostgrestStandIn } from "../support/postgrest-stand-in.mjs";

const SERVICE_KEY = "loader-browser-service-key";
const TENANT = "loader-browser";
const GA = "GA1.1.424242.1700000000";
const admin = { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "Content-Type": "application/json" };

interface BootAnswer {
  restoreCookies: { name: string; value: string; maxAge: number }[];
  sessionId: string;
}
type SessionRow = {
  session_id: string;
  container_id: string;
  host: string;
  adblock: boolean;
  itp: boolean;
};

let persistTo: string;
let supabase: Awaited<ReturnType<typeof startPostgrestStandIn>>;
let platform: Awaited<ReturnType<typeof startPlatform>>;
let browser: Browser;
let pageServer: Server;
let pagePort: number;

async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms\n${platform.output.slice(-20).join("")}`);
}

async function waitInSync(version: number): Promise<void> {
  await pollUntil(
    async () => {
      const res = await fetch(`${platform.workerUrl}/_edge/admin/containers/demo-shop/status`, { headers: admin });
      const status = res.ok ? ((await res.json()) as { inSync: boolean; appliedVersion: number }) : null;
      return status?.inSync && status.appliedVersion >= version ? true : undefined;
    },
    20_000,
    `demo-shop v${version} in sync`,
  );
}

/** Navigates and returns the answer of the /boot call the loader made on that page view. */
async function visit(page: Page, url: string): Promise<{ answer: BootAnswer; bootUrl: string }> {
  const boot = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/boot"));
  await page.goto(url);
  const response = await boot;
  expect(response.status()).toBe(200);
  return { answer: (await response.json()) as BootAnswer, bootUrl: response.url() };
}

async function sessionRow(sessionId: string): Promise<SessionRow> {
  return pollUntil(
    async () => (supabase.rows(TENANT, "loader_sessions") as SessionRow[]).find((row) => row.session_id === sessionId),
    30_000,
    `loader_sessions row for ${sessionId}`,
  );
}

async function reportedSession(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => sessionStorage.getItem("_qxs"), undefined, { timeout: 10_000 });
  return (await handle.jsonValue()) as string;
}

/**
 * Waits until the vault holds the backup: the write runs after the /boot answer (waitUntil). Asking /boot with the
 * browser's FPID and no cookies writes nothing (nothing to merge), so the check cannot create the backup itself.
 */
async function waitForBackup(context: BrowserContext, bootUrl: string): Promise<void> {
  const jar = await context.cookies();
  const fpid = jar.find((c) => c.name === "FPID")!.value;
  // The edge's proof that it issued this FPID (_qxi): without it, /boot keeps no backup for an identity.
  const proof = jar.find((c) => c.name === "_qxi")!.value;
  const url = new URL(bootUrl);
  await pollUntil(
    async () => {
      const res = await hostRequest(`${platform.workerUrl}${url.pathname}`, url.hostname, {
        method: "POST",
        headers: { Cookie: `FPID=${fpid}; _qxi=${proof}` },
        body: JSON.stringify({ cookies: {} }),
      });
      const answer = JSON.parse(res.body) as BootAnswer;
      return answer.restoreCookies.some((c) => c.name === "_ga") ? true : undefined;
    },
    10_000,
    "the _ga backup in COOKIE_VAULT",
  );
}

/** The restoration round trip the loader exists for: back up on one view, lose the cookie, get it back. */
async function restoreRoundTrip(context: BrowserContext, url: string): Promise<{ page: Page; restored: BootAnswer }> {
  const page = await context.newPage();
  await visit(page, url); // creates FPID
  await page.evaluate((ga) => {
    document.cookie = `_ga=${ga}; Path=/; Max-Age=3600`;
  }, GA);
  const backup = await visit(page, url); // sends _ga: backed up under FPID
  expect(backup.answer.restoreCookies).toEqual([]);
  // That answer set the backup marker, HttpOnly: the restore below has to see past it (the digest no longer matches).
  expect((await context.cookies()).find((c) => c.name === "_qxb")).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  await waitForBackup(context, backup.bootUrl);
  await context.clearCookies({ name: "_ga" });
  expect(await page.evaluate(() => document.cookie)).not.toContain("_ga=");
  const { answer: restored } = await visit(page, url);
  return { page, restored };
}

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "qaxal-loader-browser-"));
  supabase = await startPostgrestStandIn({ serviceKey: SERVICE_KEY });
  platform = await startPlatform({
    quiet: true,
    persistTo,
    vars: { SUPABASE_URL: supabase.supabaseUrl(TENANT), SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY },
  });
  await waitInSync(1);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await supabase?.close();
  await new Promise((r) => (pageServer ? pageServer.close(r) : r(undefined)));
  rmSync(persistTo, { recursive: true, force: true });
});

describe("same-origin mode: shop.localhost/metrics", () => {
  const pageUrl = () => `http://shop.localhost:${platform.port}/metrics/demo`;
  const base = () => `http://shop.localhost:${platform.port}/metrics`;

  it("calls /boot, which sets a server-side HttpOnly FPID", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const { answer, bootUrl } = await visit(page, pageUrl());
    expect(bootUrl).toBe(`${base()}/boot`);
    expect(answer).toEqual({ restoreCookies: [], sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) });
    const fpid = (await context.cookies()).find((c) => c.name === "FPID");
    expect(fpid).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(fpid!.value).toMatch(/^FPID2\.2\./);
    await context.close();
  });

  it("loads GTM from the stand-in origin through the obfuscated proxy path", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await visit(page, pageUrl());
    const standIn = await page.waitForFunction(() => (window as unknown as { __sgtmStandIn?: { id: string } }).__sgtmStandIn);
    expect(await standIn.jsonValue()).toMatchObject({ id: "GTM-DEMO01" });
    const param = Buffer.from("/gtm.js?id=GTM-DEMO01").toString("base64url");
    expect(requested).toContain(`${base()}/k/?p=${param}`);
    expect(requested.filter((url) => /gtm\.js|googletagmanager/i.test(url))).toEqual([]);
    await context.close();
  });

  it("restores a cookie the browser lost", async () => {
    const context = await browser.newContext();
    const { page, restored } = await restoreRoundTrip(context, pageUrl());
    expect(restored.restoreCookies).toEqual([{ name: "_ga", value: GA, maxAge: 395 * 86_400 }]);
    await page.waitForFunction((ga) => document.cookie.includes(`_ga=${ga}`), GA, { timeout: 10_000 });
    await context.close();
  });

  it("reports the session's detection once, and it reaches loader_sessions through LOG_QUEUE", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const beacons: string[] = [];
    page.on("request", (r) => void (new URL(r.url()).pathname.endsWith("/mark-session-detection") && beacons.push(r.url())));
    await visit(page, pageUrl());
    const sessionId = await reportedSession(page);
    expect(await sessionRow(sessionId)).toMatchObject({ container_id: "demo-shop", host: "shop.localhost", adblock: false, itp: false });
    await visit(page, pageUrl());
    await page.waitForTimeout(500);
    expect(beacons).toEqual([`${base()}/mark-session-detection`]);
    await context.close();
  });

  it("sends the browser's navigator.webdriver with the detection (the loader's cheap bot signal)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const report = page.waitForRequest((r) => new URL(r.url()).pathname.endsWith("/mark-session-detection"));
    await visit(page, pageUrl());
    const body = JSON.parse((await report).postData() ?? "{}") as { webdriver?: unknown };
    // Chromium driven over the DevTools protocol says so itself; the loader must pass on what the page sees.
    expect(body.webdriver).toBe(await page.evaluate(() => navigator.webdriver));
    expect(typeof body.webdriver).toBe("boolean");
    await context.close();
  });

  it("detects a blocked bait as ad-block and a WebKit vendor as ITP", async () => {
    const context = await browser.newContext();
    // What an ad blocker does to the bait request, and what Safari reports as its vendor.
    await context.route("**/advertisement.js", (route) => route.abort("blockedbyclient"));
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "vendor", { get: () => "Apple Computer, Inc." }));
    const page = await context.newPage();
    await visit(page, pageUrl());
    const row = await sessionRow(await reportedSession(page));
    expect(row).toMatchObject({ adblock: true, itp: true });
    await context.close();
  });
});

describe("subdomain mode: page on www.demo-shop.localhost, loader on ss.demo-shop.localhost", () => {
  const loaderOrigin = () => `http://ss.demo-shop.localhost:${platform.port}`;
  const pageOrigin = () => `http://www.demo-shop.localhost:${pagePort}`;

  beforeAll(async () => {
    pageServer = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>www</title><script async src="${loaderOrigin()}/l/lt_demo_shop.js"></script><p>shop</p>`);
    });
    await new Promise<void>((r) => pageServer.listen(0, "127.0.0.1", () => r()));
    pagePort = (pageServer.address() as { port: number }).port;
    // The page's origin (a random port) must be trusted by the container for the credentialed /boot call.
    const demo = JSON.parse(readFileSync(join(ROOT, "demo/containers.example.json"), "utf8"));
    const shop = demo.find((c: { containerId: string }) => c.containerId === "demo-shop");
    const config = { ...shop, version: 2, upstream: platform.originUrl, allowedOrigins: [...shop.allowedOrigins, pageOrigin()] };
    const put = await fetch(`${platform.workerUrl}/_edge/admin/containers/demo-shop`, {
      method: "PUT",
      headers: admin,
      body: JSON.stringify(config),
    });
    expect(put.status).toBe(202);
    await waitInSync(2);
    // Past the in-isolate config cache: the preflight grants the new origin.
    await pollUntil(
      async () => {
        const res = await hostRequest(`${platform.workerUrl}/boot`, "ss.demo-shop.localhost", {
          method: "OPTIONS",
          headers: { Origin: pageOrigin(), "Access-Control-Request-Method": "POST" },
        });
        return res.headers["access-control-allow-origin"] === pageOrigin() ? true : undefined;
      },
      15_000,
      "CORS grant for the page origin",
    );
  });

  it("boots cross-origin with credentials and restores a lost cookie on the shop's page", async () => {
    const context = await browser.newContext();
    const { page, restored } = await restoreRoundTrip(context, `${pageOrigin()}/`);
    expect(restored.restoreCookies).toEqual([{ name: "_ga", value: GA, maxAge: 395 * 86_400 }]);
    await page.waitForFunction((ga) => document.cookie.includes(`_ga=${ga}`), GA, { timeout: 10_000 });
    await context.close();
  });

  it("loads GTM from the loader's host, not the page's", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await visit(page, `${pageOrigin()}/`);
    await page.waitForFunction(() => (window as unknown as { __sgtmStandIn?: unknown }).__sgtmStandIn);
    const param = Buffer.from("/gtm.js?id=GTM-DEMO01").toString("base64url");
    expect(requested).toContain(`${loaderOrigin()}/k/?p=${param}`);
    await context.close();
  });
});
