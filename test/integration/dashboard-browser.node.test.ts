// The dashboard in a real headless Chromium against the real local platform (`wrangler dev`: local Queues and
// R2). The batches are seeded honestly: traffic and detection beacons go through the Worker, the router and
// loader put records on LOG_QUEUE, and the log consumer writes the R2 batches the report reads.
// Saves a phone-sized screenshot to test/artifacts/dashboard.png (git-ignored); with UPDATE_SCREENSHOTS=1 it also
// refreshes docs/dashboard.png, the one the README shows, so an ordinary test run leaves the work tree clean.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN, ROOT, startPlatform } from "../../scripts/platform.mjs";
import { launchChromium } from "../support/browser";
import { hostRequest } from "../support/http.mjs";

const HOST = "demo-shop.edge.localhost";
const auth = { Authorization: `Bearer ${DEV_ADMIN_TOKEN}` };
let platform: Awaited<ReturnType<typeof startPlatform>>;
let persistTo: string;
let browser: Browser;

interface ReportJson {
  requests: { total: number };
  statusClasses: Record<string, number>;
  detection: { sessions: number };
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const report = async (): Promise<ReportJson> =>
  (await fetch(`${platform.workerUrl}/_edge/admin/report?since=1h&container=demo-shop`, { headers: auth })).json() as Promise<ReportJson>;

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "qaxal-dashboard-"));
  platform = await startPlatform({ quiet: true, persistTo });
  await poll(
    async () =>
      (await fetch(`${platform.workerUrl}/_edge/admin/containers/demo-shop/status`, { headers: auth })).json() as Promise<{
        inSync?: boolean;
      }>,
    (status) => status.inSync === true,
    15_000,
  );
  // Traffic: script loads and collects (the origin sets _ga/FPID, so Cookie Keeper rewrites), and origin 404s.
  for (let i = 0; i < 12; i += 1) await hostRequest(`${platform.workerUrl}/gtm.js?id=GTM-DEMO01`, HOST);
  for (let i = 0; i < 8; i += 1) await hostRequest(`${platform.workerUrl}/g/collect?v=2&en=page_view`, HOST, { method: "POST" });
  for (let i = 0; i < 3; i += 1) await hostRequest(`${platform.workerUrl}/missing-${i}`, HOST);
  const beacons = [
    { adblock: true, itp: false },
    { adblock: false, itp: true },
    { adblock: false, itp: false },
    { adblock: true, itp: true },
  ];
  for (const flags of beacons) {
    // A beacon counts only for a session the edge started: each one's /boot issues its _sid.
    const boot = await hostRequest(`${platform.workerUrl}/boot`, HOST, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ cookies: {} }),
    });
    const sessionId = /(?:^|[\s,])_sid=([^;]+)/.exec(String(boot.headers["set-cookie"]))?.[1];
    if (!sessionId) throw new Error(`boot gave no _sid: ${boot.status} ${boot.body}`);
    const res = await hostRequest(`${platform.workerUrl}/mark-session-detection`, HOST, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ sessionId, ...flags }),
    });
    if (res.status !== 202) throw new Error(`detection beacon: ${res.status} ${res.body}`);
  }
  // The contract: access records reach the R2 batches within 30 seconds of the local run.
  await poll(report, (r) => r.requests.total >= 27 && r.detection.sessions === 4, 30_000);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

describe("dashboard in a real browser", () => {
  it("renders the charts from the R2 batches on a phone-sized screen and keeps the token out of URL and logs", async () => {
    const expected = await report();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") blocked.push(message.text());
    });

    await page.goto(`${platform.workerUrl}/_edge/admin/dashboard#token=${DEV_ADMIN_TOKEN}&container=demo-shop&since=1h`);
    await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });

    // One bucket per minute of the hour in the requests chart, the traffic drawn as bars.
    expect(await page.locator("#chart-requests rect.hit").count()).toBeGreaterThanOrEqual(60);
    const heights = await page.$$eval("#chart-requests svg rect.bar", (bars) => bars.map((b) => Number(b.getAttribute("height"))));
    expect(heights.some((h) => h > 0)).toBe(true);
    // One bar per status class, and the three detection rates.
    expect(await page.locator("#chart-status li").count()).toBe(Object.keys(expected.statusClasses).length);
    expect(await page.locator("#chart-detection li").count()).toBe(4);
    expect(await page.textContent("#kpi-requests")).toBe(expected.requests.total.toLocaleString("en-US"));
    expect(await page.textContent("#kpi-sessions")).toBe("4");
    expect(await page.textContent("#kpi-recovered")).toBe("75.0 %");
    expect(await page.locator("#chart-paths li").count()).toBeGreaterThan(0);
    // The alerts section is filled from GET /_edge/admin/alerts (nothing is wrong in this run).
    expect(await page.textContent("#alerts")).toBe("No open alerts.");

    // Readable on a phone: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // The token left the address bar, and no CSP violation or script error happened.
    expect(page.url()).not.toContain(DEV_ADMIN_TOKEN);
    expect(blocked).toEqual([]);

    const shot = join(ROOT, "test/artifacts/dashboard.png");
    mkdirSync(join(ROOT, "test/artifacts"), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === "1") copyFileSync(shot, join(ROOT, "docs/dashboard.png"));
    await context.close();

    // The fragment never reaches the server, so the token is in no request log line.
    expect(platform.output.join("")).not.toContain(DEV_ADMIN_TOKEN);
  });

  it("asks for the token when none is given", async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.workerUrl}/_edge/admin/dashboard`);
    await page.waitForSelector("body[data-state=need-token]");
    await page.fill("#token", DEV_ADMIN_TOKEN);
    await page.click("#controls button[type=submit]");
    await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });
    // The picker offers the containers this token may read, and nothing else.
    expect(await page.$$eval("#container option", (options) => options.map((o) => o.textContent))).toEqual(
      expect.arrayContaining(["all containers", "demo-shop", "demo-basic"]),
    );
    await page.selectOption("#container", "demo-shop");
    await page.selectOption("#since", "1h");
    await page.click("#controls button[type=submit]");
    await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });
    expect(await page.locator("#chart-requests svg rect.bar").count()).toBeGreaterThan(0);
    await page.close();
  });

  it("says so when the address names a container that does not exist, instead of showing zeros", async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.workerUrl}/_edge/admin/dashboard#token=${DEV_ADMIN_TOKEN}&container=demo-shpo`);
    await page.waitForSelector("body[data-state=error]", { timeout: 15_000 });
    expect(await page.textContent("#status")).toContain("there is no container named “demo-shpo”");
    expect(await page.textContent("#kpi-requests")).toBe("–");
    await page.close();
  });

  it("shows an error and forgets a wrong token", async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.workerUrl}/_edge/admin/dashboard#token=wrong-token`);
    await page.waitForSelector("body[data-state=error]", { timeout: 15_000 });
    expect(await page.textContent("#status")).toContain("bearer token");
    expect(await page.evaluate(() => sessionStorage.getItem("qaxal-admin-token"))).toBeNull();
    await page.close();
  });
});
