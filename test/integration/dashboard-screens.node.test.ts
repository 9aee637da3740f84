// The dashboard judged as a person sees it: headless Chromium at desktop and phone widths over two weeks of
// traffic history, with screenshots of every view. Both Workers run on miniflare (bench/lib/miniflare-worker.mjs,
// the bindings of their wrangler configs); the history (test/support/traffic-history.mjs) is sent through the real
// LOG_QUEUE, and the real log consumer writes the R2 batches the report and the logs search read.
// Screenshots go to test/artifacts/ (git-ignored); UPDATE_SCREENSHOTS=1 also refreshes docs/dashboard-*.png.

import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../bench/lib/miniflare-worker.mjs";
import type { Fleet } from "../../schemas/fleet";
import type { LogRecord } from "../../schemas/log-record";
import type { Report } from "../../schemas/report";
import { ROOT } from "../../scripts/platform.mjs";
import { packRecords } from "../../workers/shared/log-packing";
import { sendBatches } from "../../workers/shared/send-batches";
import { launchChromium } from "../support/browser";
import { trafficHistory } from "../support/traffic-history.mjs";

const TOKEN = "bench-admin";
const auth = { Authorization: `Bearer ${TOKEN}` };
const DESKTOP = { width: 1280, height: 900 };
const DEMO_SHOP = {
  containerId: "demo-shop",
  version: 1,
  upstream: "https://sgtm.demo-shop.example",
  publicHosts: ["ss.demo-shop.example"],
  loaderToken: "lt_demo_shop",
  gtmId: "GTM-DEMO01",
};
const PHONE = { width: 390, height: 844 };
type Mf = ReturnType<typeof startWorkers>;
interface HistoryRecord {
  kind: string;
  ts: number;
  status?: number;
}

let mf: Mf;
let base: string;
let browser: Browser;
const history = trafficHistory() as { records: HistoryRecord[] };

async function report(): Promise<Report> {
  return (await fetch(`${base}/_edge/admin/report?since=7d&container=demo-shop`, { headers: auth })).json() as Promise<Report>;
}

function expectedCounts(r: Report) {
  const from = Date.parse(r.from);
  const to = Date.parse(r.to);
  const access = history.records.filter((x) => x.kind === "access");
  return {
    now: access.filter((x) => x.ts >= from && x.ts <= to).length,
    before: access.filter((x) => x.ts >= from - (to - from) - 1 && x.ts <= from - 1).length,
  };
}

async function shoot(page: Page, name: string, toDocs = true) {
  const file = join(ROOT, `test/artifacts/dashboard-${name}.png`);
  mkdirSync(join(ROOT, "test/artifacts"), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  if (toDocs && process.env.UPDATE_SCREENSHOTS === "1") copyFileSync(file, join(ROOT, `docs/dashboard-${name}.png`));
}

async function open(size: { width: number; height: number }, fragment: string) {
  const context = await browser.newContext({
    viewport: size,
    deviceScaleFactor: size.width < 500 ? 2 : 1,
    timezoneId: "Europe/Berlin",
    locale: "en-GB",
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/_edge/admin/dashboard#token=${TOKEN}&${fragment}`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
  return { page, errors, close: () => context.close() };
}

beforeAll(async () => {
  mf = startWorkers({ port: 0 });
  base = String(await mf.ready).replace(/\/$/, "");
  // The container the history belongs to, configured like an operator would (its status feeds the domains card).
  const put = await fetch(`${base}/_edge/admin/containers/demo-shop`, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify(DEMO_SHOP),
  });
  if (put.status !== 202) throw new Error(`PUT demo-shop: ${put.status} ${await put.text()}`);
  const queue = await mf.getQueueProducer("LOG_QUEUE", "qaxal-control");
  // Packed the way the edge sends them (workers/shared/log-packing.ts), so the consumer sees production's shape.
  for (const batch of sendBatches(packRecords(history.records as LogRecord[]), (message) => message.bytes)) {
    await queue.sendBatch(batch.map(({ body }) => ({ body })));
  }
  // Every record has gone through the consumer once the report counts all of them, in both periods.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await report();
    const want = expectedCounts(r);
    if (r.requests.total === want.now && r.previous?.requests === want.before) break;
    if (Date.now() > deadline)
      throw new Error(`history not consumed: ${r.requests.total}/${want.now}, previous ${r.previous?.requests}/${want.before}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await mf?.dispose();
});

describe("dashboard overview", () => {
  it("desktop: every figure from the report, a bar per bucket, the previous period, breakdowns, explanations", async () => {
    const expected = await report();
    const { page, errors, close } = await open(DESKTOP, "container=demo-shop&since=7d");
    // 7 days in 3-hour buckets.
    expect(await page.locator("#chart-requests rect.hit").count()).toBe(expected.requests.series.length);
    expect(expected.requests.bucketSeconds).toBe(10_800);
    expect(await page.locator("#chart-requests polyline.prev").count()).toBe(1);
    expect(await page.textContent("#kpi-requests")).toBe(expected.requests.total.toLocaleString("en-US"));
    expect(await page.textContent("#delta-requests")).toMatch(/^▲ \+\d+\.\d % vs previous period$/);
    // The y axis has several ticks, the x axis several time labels.
    expect(await page.locator("#chart-requests line.grid").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("#chart-requests text").count()).toBeGreaterThanOrEqual(8);
    for (const [id, rows] of [
      ["chart-hosts", expected.hosts],
      ["chart-countries", expected.countries],
      ["chart-paths", expected.topPaths],
      ["chart-codes", expected.statuses],
    ] as const) {
      expect(await page.locator(`#${id} li`).count(), id).toBe(rows.length);
    }
    expect(await page.locator("#chart-detection li").count()).toBe(4);
    expect(await page.locator("#chart-modes li").count()).toBe(Object.values(expected.detection.modes).filter((n) => n > 0).length);
    // Every key figure and every card says what it means.
    expect(await page.locator(".kpi:not([hidden]) .explain").count()).toBe(6);
    expect(await page.locator(".card > .explain").count()).toBe(10);
    expect(await page.textContent("#alerts")).toBe("No open alerts.");
    expect(await page.textContent("#hostnames")).toContain("None set up");
    expect(errors).toEqual([]);
    await shoot(page, "overview-desktop");
    await close();
  });

  it("phone: one column, nothing wider than the screen, axis labels smaller than the titles", async () => {
    const { page, errors, close } = await open(PHONE, "container=demo-shop&since=7d");
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const sizes = await page.evaluate(() => ({
      axis: parseFloat(getComputedStyle(document.querySelector("#chart-requests text")!).fontSize),
      title: parseFloat(getComputedStyle(document.querySelector(".card h2")!).fontSize),
      // The chart is drawn at the box's own width, so SVG text is not scaled down.
      scale:
        document.querySelector("#chart-requests svg")!.getBoundingClientRect().width /
        Number(document.querySelector("#chart-requests svg")!.getAttribute("viewBox")!.split(" ")[2]),
    }));
    expect(sizes.axis).toBeLessThan(sizes.title);
    expect(sizes.scale).toBeCloseTo(1, 1);
    expect(errors).toEqual([]);
    await shoot(page, "overview-phone");
    await close();
  });

  it("a bar's tooltip gives its time, its requests, its errors and the previous period", async () => {
    const expected = await report();
    const busiest = expected.requests.series.reduce((best, b, i, all) => (b.count > all[best]!.count ? i : best), 0);
    const { page, close } = await open(DESKTOP, "container=demo-shop&since=7d");
    await page.hover(`#chart-requests rect.hit[data-i="${busiest}"]`);
    const tip = page.locator("#tooltip");
    await expect.poll(() => tip.isVisible()).toBe(true);
    const text = await tip.textContent();
    expect(text).toContain(`(3 hours): ${expected.requests.series[busiest]!.count.toLocaleString("en-US")} requests`);
    expect(text).toContain(`previous period: ${expected.requests.series[busiest]!.previous!.toLocaleString("en-US")}`);
    await close();
  });

  it("a short window gets short buckets", async () => {
    const { page, close } = await open(DESKTOP, "container=demo-shop&since=1h");
    expect(await page.locator("#chart-requests rect.hit").count()).toBeGreaterThanOrEqual(60);
    expect(await page.textContent("#bucket-note")).toContain("Each bar is 1 minute.");
    await close();
  });
});

describe("dashboard logs", () => {
  it("filters to server errors, shows them as rows and downloads them as NDJSON", async () => {
    const { page, errors, close } = await open(DESKTOP, "container=demo-shop&since=7d&view=logs");
    await page.selectOption("#log-status", "5xx");
    await page.click("#log-filters button[type=submit]");
    await page.waitForSelector("body[data-state=ready]");
    await expect.poll(() => page.locator("#log-rows tr").count()).toBeGreaterThan(0);
    const statuses = await page.$$eval("#log-rows tr td:nth-child(5)", (cells) => cells.map((c) => Number(c.textContent)));
    expect(statuses.every((s) => s >= 500 && s < 600)).toBe(true);
    await shoot(page, "logs-desktop");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#log-download")]);
    const lines = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as HistoryRecord);
    const serverErrors = history.records.filter(
      (r) => r.kind === "access" && r.status! >= 500 && r.ts >= Date.now() - 7 * 86_400_000 - 60_000,
    );
    expect(lines.length).toBeGreaterThanOrEqual(serverErrors.length - 5);
    expect(lines.every((r) => r.status! >= 500)).toBe(true);
    expect(errors).toEqual([]);
    await close();
  });

  it("phone: the table scrolls inside its card, the page does not", async () => {
    const { page, close } = await open(PHONE, "container=demo-shop&since=6h&view=logs");
    await expect.poll(() => page.locator("#log-rows tr").count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shoot(page, "logs-phone");
    await close();
  });
});

describe("dashboard containers (the fleet view at 100 containers)", () => {
  const FAILING = ["shop-017", "shop-063"];
  beforeAll(async () => {
    // 100 more containers through the operator API, and recent traffic for each: two of them all 502.
    const ids = Array.from({ length: 100 }, (_, i) => `shop-${String(i + 1).padStart(3, "0")}`);
    for (const id of ids) {
      const put = await fetch(`${base}/_edge/admin/containers/${id}`, {
        method: "PUT",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({
          containerId: id,
          version: 1,
          upstream: `https://sgtm.${id}.example`,
          publicHosts: [`ss.${id}.example`],
          loaderToken: `lt_${id.replace("-", "_")}`,
          gtmId: "GTM-DEMO01",
        }),
      });
      if (put.status !== 202) throw new Error(`PUT ${id}: ${put.status} ${await put.text()}`);
    }
    const now = Date.now();
    const records = ids.flatMap((id, i) =>
      Array.from({ length: FAILING.includes(id) ? 30 : 1 + (i % 7) }, (_, k) => ({
        kind: "access",
        ts: now - 60_000 - k * 1000,
        requestId: `${id}-${k}`,
        containerId: id,
        host: `ss.${id}.example`,
        method: "GET",
        pathClass: "passthrough",
        path: "/g/collect",
        status: FAILING.includes(id) ? 502 : 200,
        upstreamStatus: FAILING.includes(id) ? null : 200,
        durationMs: 20,
        country: "DE",
        cookieRewrites: 0,
        bot: null,
        reason: FAILING.includes(id) ? "upstream_unreachable" : null,
      })),
    );
    const queue = await mf.getQueueProducer("LOG_QUEUE", "qaxal-control");
    for (const batch of sendBatches(packRecords(records as LogRecord[]), (message) => message.bytes)) {
      await queue.sendBatch(batch.map(({ body }) => ({ body })));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const fleet = (await (await fetch(`${base}/_edge/admin/fleet?since=15m&limit=1&sort=upstream`, { headers: auth })).json()) as Fleet;
      if (fleet.ids.length === 101 && fleet.platform.topErrors.filter((t) => FAILING.includes(t.containerId)).length === 2) break;
      if (Date.now() > deadline) throw new Error(`fleet not ready: ${JSON.stringify(fleet.platform)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }, 120_000);

  it("desktop: every container, the two at 100 % 502 first and red with their reason, searchable", async () => {
    const { page, errors, close } = await open(DESKTOP, "view=containers&since=1h");
    await expect.poll(() => page.locator("#container-list tr.row").count()).toBe(50);
    const first = await page.$$eval("#container-list tr.row", (rows) =>
      rows.slice(0, 2).map((r) => [r.getAttribute("data-id"), r.getAttribute("data-health")]),
    );
    expect(first.sort()).toEqual(FAILING.map((id) => [id, "fail"]));
    expect(await page.textContent(`#container-list tr.why[data-id="${FAILING[0]}"]`)).toContain("30× upstream_unreachable");
    expect(await page.textContent("#containers-summary")).toMatch(/^101 containers \(2 failing, [^)]*fine\) · showing 50/);
    await shoot(page, "fleet-desktop");
    // The rest a page at a time, then a search narrows to one.
    await page.click("#containers-more");
    await expect.poll(() => page.locator("#container-list tr.row").count()).toBe(100);
    await page.fill("#fleet-q", "ss.shop-063");
    await page.click("#fleet-filters button[type=submit]");
    await expect.poll(() => page.locator("#container-list tr.row").count()).toBe(1);
    expect(errors).toEqual([]);
    await close();
  });

  it("phone: the fleet fits the screen, the key columns stay", async () => {
    const { page, errors, close } = await open(PHONE, "view=containers&since=1h");
    await expect.poll(() => page.locator("#container-list tr.row").count()).toBe(50);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await page.locator("#fleet th:visible").count()).toBe(3);
    expect(errors).toEqual([]);
    await shoot(page, "fleet-phone");
    await close();
  });

  it("the all-containers overview names the containers behind the server errors, and the picker offers only real ones", async () => {
    const { page, close } = await open(DESKTOP, "since=15m");
    expect(await page.textContent("#errors-by")).toMatch(/^from shop-0(17|63) \(100\.0 %\), shop-0(17|63) \(100\.0 %\)/);
    expect(await page.locator("#container option").count()).toBe(102);
    await close();
  });
});
