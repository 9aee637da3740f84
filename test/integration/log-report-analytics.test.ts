// The report's production source: Analytics Engine's SQL API. The API cannot run here, so it is stood in at the
// HTTP boundary (test/support/analytics-sql-stand-in.mjs: the documented request and response shapes, AE's
// sampling, and a small interpreter of the SQL subset the edge sends). The data points are the aggregates the real
// log consumer wrote through the Analytics Engine bindings for the same records that went to R2 (miniflare's
// Analytics Engine stores nothing, so a spy collects them), so both sources must give the same report.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import "../support/analytics-sql-stand-in.client";
import { AE_DOUBLES, AE_SESSION_DOUBLES } from "../../schemas/analytics";
import type { Report } from "../../schemas/report";
import { edgeApi } from "../../workers/admin/api";
import { WindowHarness } from "../support/analytics-window";
import { ADMIN } from "../support/fixtures";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";

const TOKEN = "stand-in-analytics-token";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const MIN = 60_000;
const HOUR = 60 * MIN;

interface StandInRequest {
  method: string;
  account: string;
  authorization: string | null;
  body: string;
}

function tenantBase(): string {
  return `${inject("analyticsSqlStandInUrl")}/t/${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Delivers records through the real consumer as one batch, closes AnalyticsWindow's window (every delivery is its
 * own window) and loads the aggregates it wrote into the stand-in.
 */
async function deliverToBoth(base: string, records: Parameters<typeof deliverLogs>[0], sampleInterval = 1) {
  const window = new WindowHarness("ae-");
  await deliverLogs(records, { env: window.env });
  const { access, sessions } = await window.flush();
  vi.restoreAllMocks();
  // AE stamps a point with its write time; the points' earliest record time (their `ts` column) stands in for it.
  const load = async (dataset: string, points: AnalyticsEngineDataPoint[], tsIndex: number) => {
    const body = { dataset, sampleInterval, points: points.map((p) => ({ ...p, timestamp: p.doubles?.[tsIndex] })) };
    await fetch(`${base}/__points`, { method: "POST", body: JSON.stringify(body) });
  };
  await load("qaxal_edge_access", access, AE_DOUBLES.indexOf("ts"));
  await load("qaxal_edge_sessions", sessions, AE_SESSION_DOUBLES.indexOf("ts"));
}

async function report(query: string, overrides: Partial<Env>): Promise<Response> {
  const request = new Request(`https://edge.example/_edge/admin/report?${query}`, { headers: ADMIN });
  return edgeApi.fetch(request, { ...env, ...overrides }, createExecutionContext());
}

describe("report from Analytics Engine's SQL API", () => {
  it("gives the same figures as the R2 batches for the same records, with the previous period", async () => {
    const base = tenantBase();
    const sql = { CF_ACCOUNT_ID: ACCOUNT, ANALYTICS_API_TOKEN: TOKEN, CF_API_BASE: `${base}/client/v4` } as Partial<Env>;
    const id = `ae-${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    await deliverToBoth(base, [
      accessRecord({
        containerId: id,
        ts: now - 10 * MIN,
        status: 200,
        durationMs: 12,
        cookieRewrites: 2,
        host: "ss.a.example",
        country: "DE",
        bot: false,
      }),
      accessRecord({ containerId: id, ts: now - 11 * MIN, status: 204, durationMs: 9, host: "ss.a.example", country: "US", bot: true }),
      accessRecord({ containerId: id, ts: now - 20 * MIN, status: 503, durationMs: 80, host: "ss.a.example", country: "FR" }),
      accessRecord({
        containerId: id,
        ts: now - 3 * HOUR,
        status: 404,
        durationMs: 20,
        path: "/missing",
        pathClass: "passthrough",
        host: "ss.b.example",
        country: null,
      }),
      accessRecord({ containerId: id, ts: now - 4 * HOUR, status: 404, path: "/l/x.js", pathClass: "loader", durationMs: 2 }),
      accessRecord({ containerId: "ae-other", ts: now - 10 * MIN, status: 500 }),
      detectionRecord({ containerId: id, ts: now - 15 * MIN, adblock: true, bot: false }),
      detectionRecord({ containerId: id, ts: now - 16 * MIN, itp: true, adblock: true }),
      detectionRecord({ containerId: id, ts: now - 17 * MIN, etp: true, mode: "same-origin" }),
      detectionRecord({ containerId: id, ts: now - 18 * MIN }),
    ]);
    // The previous 24 hours: records arrive within minutes of their time, so in a window of their own.
    await deliverToBoth(base, [
      accessRecord({ containerId: id, ts: now - 30 * HOUR, status: 200 }),
      detectionRecord({ containerId: id, ts: now - 26 * HOUR, adblock: true }),
    ]);

    const fromAe = await report(`container=${id}&since=24h`, sql);
    expect(fromAe.status).toBe(200);
    const ae = await fromAe.json<Report>();
    const r2 = await (await report(`container=${id}&since=24h&source=r2`, sql)).json<Report>();

    expect(ae.source).toBe("analytics-engine");
    expect(r2.source).toBe("r2");
    expect(ae.requests.total).toBe(5);
    expect(ae.bots).toMatchObject({ requestsChecked: 2, requestsBot: 1, requestShare: 0.5, sessionsChecked: 1, sessionsBot: 0 });
    expect(ae.previous).toMatchObject({ requests: 1, sessions: 1, adblockRate: 1 });
    expect(ae.detection).toMatchObject({ sessions: 4, etp: 1, modes: { "same-origin": 1, subdomain: 3, "cross-site": 0, unknown: 0 } });
    // Every figure the two sources share agrees (AE orders ties differently, so lists are compared as sets), but
    // latency: AE's is read off the duration histogram. Proxied durations 9, 12, 20, 80: p50 is 12 (bucket ≤ 25 ms),
    // p95 is 80 (bucket ≤ 100 ms, capped by the largest duration).
    expect(r2.latencyMs).toEqual({ p50: 12, p95: 80, samples: 4 });
    expect(ae.latencyMs).toEqual({ p50: 25, p95: 80, samples: 4 });
    for (const key of ["statusClasses", "cookieKeeper", "detection", "bots"] as const) expect(ae[key], key).toEqual(r2[key]);
    for (const key of ["statuses", "topPaths", "hosts", "countries"] as const)
      expect(new Set(ae[key].map((x) => JSON.stringify(x))), key).toEqual(new Set(r2[key].map((x) => JSON.stringify(x))));
    expect(ae.requests.series).toEqual(r2.requests.series);
    expect(ae.requests.errors).toBe(1);
    expect(ae.previous).toMatchObject({ requests: r2.previous!.requests, errors: r2.previous!.errors, sessions: r2.previous!.sessions });
  });

  it("counts what AE samples by _sample_interval, and leaves the edge's successful own answers to R2", async () => {
    const base = tenantBase();
    const sql = { CF_ACCOUNT_ID: ACCOUNT, ANALYTICS_API_TOKEN: TOKEN, CF_API_BASE: `${base}/client/v4` } as Partial<Env>;
    const id = `ae-${crypto.randomUUID().slice(0, 8)}`;
    const ts = Date.now() - 5 * MIN;
    // Four batches with the same dimension set (one point each); AE keeps one point in two, stamped 2.
    for (let batch = 0; batch < 4; batch++) {
      const records = Array.from({ length: 3 }, () => accessRecord({ containerId: id, ts, status: 204, durationMs: 30 }));
      await deliverToBoth(base, records, 2);
    }
    await deliverToBoth(base, [
      accessRecord({ containerId: id, ts, pathClass: "loader", path: "/l/t.js", status: 200 }),
      accessRecord({ containerId: id, ts, pathClass: "boot", path: "/boot", method: "POST", status: 200 }),
    ]);
    const ae = await (await report(`container=${id}&since=1h`, sql)).json<Report>();
    const r2 = await (await report(`container=${id}&since=1h&source=r2`, sql)).json<Report>();
    expect(r2.requests.total).toBe(14);
    expect(ae.requests.total).toBe(12);
    expect(ae.topPaths).toEqual([{ path: "/g/collect", count: 12 }]);
    expect(ae.latencyMs).toEqual({ p50: 30, p95: 30, samples: 12 });
  });

  it("makes series buckets at least one AnalyticsWindow window wide: a window's points are all stamped at its end", async () => {
    const base = tenantBase();
    const sql = { CF_ACCOUNT_ID: ACCOUNT, ANALYTICS_API_TOKEN: TOKEN, CF_API_BASE: `${base}/client/v4` } as Partial<Env>;
    const narrow = await (await report("container=ae-buckets&since=1h", sql)).json<Report>();
    const wide = await (
      await report("container=ae-buckets&since=1h", { ...sql, ANALYTICS_WINDOW_MS: "300000" } as Partial<Env>)
    ).json<Report>();
    expect(narrow.requests.bucketSeconds).toBe(60);
    expect(wide.requests.bucketSeconds).toBe(300);
    expect(wide.requests.series).toHaveLength(13);
  });

  it("sends each query as the documented request: POST, bearer token, SQL body, a fixed number of queries", async () => {
    const base = tenantBase();
    const sql = { CF_ACCOUNT_ID: ACCOUNT, ANALYTICS_API_TOKEN: TOKEN, CF_API_BASE: `${base}/client/v4` } as Partial<Env>;
    expect((await report("container=ae-shape&since=1h", sql)).status).toBe(200);
    const requests = await (await fetch(`${base}/__requests`)).json<StandInRequest[]>();
    // One round of aggregate queries, however much traffic there is.
    expect(requests).toHaveLength(10);
    for (const r of requests) {
      expect(r).toMatchObject({ method: "POST", account: ACCOUNT, authorization: `Bearer ${TOKEN}` });
      expect(r.body).toMatch(
        /^SELECT .* FROM qaxal_edge_(access|sessions) WHERE timestamp >= toDateTime\(\d+\) AND timestamp <= toDateTime\(\d+\) AND index1 = 'ae-shape'/,
      );
    }
  });

  it("answers 502 without the query or the API's answer when the API fails", async () => {
    const base = tenantBase();
    await fetch(`${base}/__fail`, { method: "POST", body: JSON.stringify({ status: 500, body: "internal detail" }) });
    const res = await report("since=1h", {
      CF_ACCOUNT_ID: ACCOUNT,
      ANALYTICS_API_TOKEN: TOKEN,
      CF_API_BASE: `${base}/client/v4`,
    } as Partial<Env>);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: "analytics_unavailable", message: "Analytics Engine's SQL API answered 500" });
  });

  it("uses R2 when the account id or token is missing, and refuses to be forced onto an unconfigured API", async () => {
    const plain = await (await report("since=1h", {})).json<Report>();
    expect(plain.source).toBe("r2");
    const forced = await report("since=1h&source=analytics-engine", {});
    expect(forced.status).toBe(400);
    expect(((await forced.json()) as { message: string }).message).toContain("needs CF_ACCOUNT_ID");
  });
});
