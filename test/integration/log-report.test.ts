// GET /_edge/admin/report (aggregates read back from the R2 batches) and GET /_edge/admin/dashboard.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildReport } from "../../workers/reports/report";
import { ADMIN } from "../support/fixtures";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";

const HOUR = 3600_000;

function get(path: string, headers: HeadersInit = ADMIN): Promise<Response> {
  return exports.default.fetch(`https://edge.example${path}`, { headers });
}

describe("GET /_edge/admin/report", () => {
  it("needs the bearer token", async () => {
    const res = await get("/_edge/admin/report", {});
    expect(res.status).toBe(401);
  });

  it("refuses a malformed window, naming the parameter", async () => {
    const res = await get("/_edge/admin/report?since=forever");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_query", message: expect.stringContaining("since") });
  });

  it("refuses windows longer than 7 days", async () => {
    expect((await get("/_edge/admin/report?since=8d")).status).toBe(400);
  });

  it("aggregates the container's records of the window from R2", async () => {
    const id = `rpt-${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    await deliverLogs([
      accessRecord({ containerId: id, ts: now - 2 * HOUR, status: 200, durationMs: 10, cookieRewrites: 1, path: "/g/collect" }),
      accessRecord({ containerId: id, ts: now - HOUR, status: 503, durationMs: 90, path: "/g/collect" }),
      accessRecord({ containerId: id, ts: now - 30 * HOUR, status: 200 }), // outside 24h
      accessRecord({ containerId: "someone-else", ts: now - HOUR, status: 200 }),
      detectionRecord({ containerId: id, ts: now - HOUR, adblock: true }),
      detectionRecord({ containerId: id, ts: now - HOUR, etp: true }),
    ]);
    await deliverLogs([accessRecord({ containerId: id, ts: now - 3 * HOUR, status: 404, durationMs: 20, path: "/x" })]);

    const res = await get(`/_edge/admin/report?since=24h&container=${id}`);
    expect(res.status).toBe(200);
    const report = await res.json<Record<string, unknown>>();
    expect(report).toMatchObject({
      containerId: id,
      truncated: false,
      source: "r2",
      requests: { total: 3, errors: 1, bucketSeconds: 1800 },
      // The record 30 hours ago lies in the 24 hours before the window: the comparison period.
      previous: { requests: 1, errors: 0, sessions: 0 },
      statusClasses: { "2xx": 1, "4xx": 1, "5xx": 1 },
      topPaths: [
        { path: "/g/collect", count: 2 },
        { path: "/x", count: 1 },
      ],
      latencyMs: { p50: 20, p95: 90, samples: 3 },
      cookieKeeper: { rewrites: 1, requestsWithRewrites: 1 },
      detection: { sessions: 2, adblock: 1, itp: 0, etp: 1, adblockRate: 0.5, itpRate: 0, etpRate: 0.5, recoveredRate: 1 },
    });
  });

  it("stops at its object budget, keeping the newest hours, and says so", async () => {
    const hour = (h: number) => Date.UTC(2026, 4, 1, h);
    for (const h of [1, 2, 3]) await deliverLogs([accessRecord({ ts: hour(h) + 60_000 })]);

    const report = await buildReport(env.LOG_BUCKET, { from: hour(0), to: hour(4), containerId: null }, { objects: 2, records: 1000 });
    expect(report.truncated).toBe(true);
    expect(report.objectsRead).toBe(2);
    expect(report.requests.series.filter((b) => b.count > 0).map((b) => b.t)).toEqual([
      "2026-05-01T02:00:00.000Z",
      "2026-05-01T03:00:00.000Z",
    ]);
  });

  it("stops at its record budget, counted from the objects' metadata before any is fetched", async () => {
    const hour = (h: number) => Date.UTC(2026, 4, 2, h);
    for (const h of [1, 2, 3]) await deliverLogs([1, 2, 3].map((i) => accessRecord({ ts: hour(h) + i * 60_000 })));

    const report = await buildReport(env.LOG_BUCKET, { from: hour(0), to: hour(4), containerId: null }, { objects: 100, records: 7 });
    expect(report.truncated).toBe(true);
    expect(report.objectsRead).toBe(2);
    expect(report.requests.total).toBe(6);
  });
});

describe("GET /_edge/admin/dashboard", () => {
  it("serves the page without credentials, and the page holds no secret", async () => {
    const res = await get("/_edge/admin/dashboard", {});
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).not.toContain(env.ADMIN_TOKEN);
    expect(html).toContain('id="chart-requests"');
    expect(html).toContain("/_edge/admin/report?");
  });

  it("allows only its own nonce'd script and same-origin requests", async () => {
    const res = await get("/_edge/admin/dashboard", {});
    const csp = res.headers.get("Content-Security-Policy")!;
    const nonce = /script-src 'nonce-([0-9a-f]+)'/.exec(csp)?.[1];
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(await res.text()).toContain(`<script nonce="${nonce}">`);
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("uses a fresh nonce per response", async () => {
    const a = (await get("/_edge/admin/dashboard", {})).headers.get("Content-Security-Policy");
    const b = (await get("/_edge/admin/dashboard", {})).headers.get("Content-Security-Policy");
    expect(a).not.toBe(b);
  });
});
