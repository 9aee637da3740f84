// Report aggregates over a known set of records.
import { describe, expect, it } from "vitest";
import { aggregate, bucketSeconds, percentile, previousWindow, withPrevious } from "../../workers/reports/aggregate";
import { accessRecord, detectionRecord } from "../support/log-record-builders";

const HOUR = 3600_000;
const from = Date.UTC(2026, 3, 1, 0, 0);
const to = from + 24 * HOUR - 1;
const window = { from, to, containerId: "shop1" };

describe("report aggregates", () => {
  const access = [
    accessRecord({ ts: from + 5 * 60_000, path: "/g/collect", status: 200, durationMs: 10, cookieRewrites: 2 }),
    accessRecord({ ts: from + 10 * 60_000, path: "/g/collect", status: 204, durationMs: 20 }),
    accessRecord({ ts: from + 2 * HOUR, path: "/gtm.js", status: 200, durationMs: 30, cookieRewrites: 1 }),
    accessRecord({ ts: from + 2 * HOUR, path: "/gtm.js", status: 304, durationMs: 40 }),
    accessRecord({ ts: from + 2 * HOUR, path: "/g/collect", status: 502, durationMs: 1000 }),
    accessRecord({ ts: from + 3 * HOUR, path: "/l/lt.js", pathClass: "loader", status: 200, durationMs: 5 }),
    accessRecord({ ts: from + 3 * HOUR, path: "/nope", status: 404, durationMs: 50, pathClass: "passthrough" }),
  ];
  const detections = [
    detectionRecord({ ts: from + HOUR, adblock: true, itp: false }),
    detectionRecord({ ts: from + HOUR, adblock: false, itp: true }),
    detectionRecord({ ts: from + HOUR, adblock: true, itp: true }),
    detectionRecord({ ts: from + HOUR, adblock: false, itp: false, etp: true, mode: "same-origin" }),
  ];
  const report = aggregate(window, access, detections);

  it("counts requests per half-hour bucket over a day, 5xx separately", () => {
    expect(report.requests.total).toBe(7);
    expect(report.requests.errors).toBe(1);
    expect(report.requests.bucketSeconds).toBe(1800);
    expect(report.requests.series).toHaveLength(48);
    expect(report.requests.series.slice(0, 5)).toEqual([
      { t: "2026-04-01T00:00:00.000Z", count: 2, errors: 0, previous: null },
      { t: "2026-04-01T00:30:00.000Z", count: 0, errors: 0, previous: null },
      { t: "2026-04-01T01:00:00.000Z", count: 0, errors: 0, previous: null },
      { t: "2026-04-01T01:30:00.000Z", count: 0, errors: 0, previous: null },
      { t: "2026-04-01T02:00:00.000Z", count: 3, errors: 1, previous: null },
    ]);
  });

  it("breaks requests down by status code, host and country", () => {
    expect(report.statuses[0]).toEqual({ status: 200, count: 3 });
    expect(report.hosts).toEqual([{ host: "ss.shop1.example", count: 7 }]);
    expect(report.countries).toEqual([{ country: "DE", count: 7 }]);
    const mixed = aggregate(
      window,
      [
        accessRecord({ ts: from, country: null }),
        accessRecord({ ts: from, host: "b.example" }),
        accessRecord({ ts: from, host: "b.example" }),
      ],
      [],
    );
    expect(mixed.hosts).toEqual([
      { host: "b.example", count: 2 },
      { host: "ss.shop1.example", count: 1 },
    ]);
    expect(mixed.countries).toEqual([
      { country: "DE", count: 2 },
      { country: "unknown", count: 1 },
    ]);
  });

  it("puts the previous period's count beside each bucket", () => {
    const before = previousWindow(window);
    const earlier = aggregate(before, [accessRecord({ ts: before.from + 5 * 60_000 }), accessRecord({ ts: before.from + 6 * 60_000 })], []);
    const compared = withPrevious(report, earlier);
    expect(compared.requests.series[0]).toMatchObject({ count: 2, previous: 2 });
    expect(compared.requests.series[1]).toMatchObject({ count: 0, previous: 0 });
  });

  it("counts status classes and ranks paths", () => {
    expect(report.statusClasses).toEqual({ "2xx": 4, "3xx": 1, "4xx": 1, "5xx": 1 });
    expect(report.topPaths).toEqual([
      { path: "/g/collect", count: 3 },
      { path: "/gtm.js", count: 2 },
      { path: "/l/lt.js", count: 1 },
      { path: "/nope", count: 1 },
    ]);
  });

  it("takes latency percentiles over proxied requests only (the loader's own answer is not proxy latency)", () => {
    // proxied durations: 10 20 30 40 50 1000 -> nearest rank p50 = 3rd = 30, p95 = 6th = 1000
    expect(report.latencyMs).toEqual({ p50: 30, p95: 1000, samples: 6 });
  });

  it("sums cookie-keeper rewrites", () => {
    expect(report.cookieKeeper).toEqual({ rewrites: 3, requestsWithRewrites: 2 });
  });

  it("gives ad-block, ITP, ETP and recovered rates as shares of sessions, and sessions per measured mode", () => {
    expect(report.detection).toEqual({
      sessions: 4,
      adblock: 2,
      itp: 2,
      etp: 1,
      adblockRate: 0.5,
      itpRate: 0.5,
      etpRate: 0.25,
      recoveredRate: 1,
      modes: { "same-origin": 1, subdomain: 3, "cross-site": 0, unknown: 0 },
    });
  });

  it("gives the bot share of the requests and sessions a verdict was made for", () => {
    const bots = aggregate(
      window,
      [
        accessRecord({ ts: from, bot: true }),
        accessRecord({ ts: from, bot: false }),
        accessRecord({ ts: from, bot: false }),
        accessRecord({ ts: from }),
      ],
      [detectionRecord({ ts: from, bot: true }), detectionRecord({ ts: from })],
    ).bots;
    expect(bots).toEqual({ requestsChecked: 3, requestsBot: 1, requestShare: 1 / 3, sessionsChecked: 1, sessionsBot: 1, sessionShare: 1 });
  });

  it("has no bot share when no verdict was made", () => {
    expect(report.bots).toMatchObject({ requestsChecked: 0, requestShare: null, sessionsChecked: 0, sessionShare: null });
  });

  it("ignores records of other containers and outside the window", () => {
    const other = aggregate(
      window,
      [accessRecord({ ts: from, containerId: "shop2" }), accessRecord({ ts: to + 1 })],
      [detectionRecord({ ts: from - 1 })],
    );
    expect(other.requests.total).toBe(0);
    expect(other.detection.sessions).toBe(0);
    expect(other.latencyMs).toEqual({ p50: null, p95: null, samples: 0 });
    expect(other.detection.recoveredRate).toBeNull();
  });

  it("counts every container when none is asked for", () => {
    const all = aggregate(
      { ...window, containerId: null },
      [accessRecord({ ts: from }), accessRecord({ ts: from, containerId: "shop2" })],
      [],
    );
    expect(all.requests.total).toBe(2);
  });

  it("counts a record stored twice (a re-batched retry) once", () => {
    const record = accessRecord({ ts: from });
    const session = detectionRecord({ ts: from });
    const twice = aggregate(window, [record, { ...record }], [session, { ...session, adblock: true, ts: from + 1 }]);
    expect(twice.requests.total).toBe(1);
    expect(twice.detection).toMatchObject({ sessions: 1, adblock: 1 });
  });
});

describe("report helpers", () => {
  it("nearest-rank percentile", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it("picks the smallest bucket that keeps the series at most 72 long", () => {
    expect(bucketSeconds(15 * 60_000)).toBe(30);
    expect(bucketSeconds(HOUR)).toBe(60);
    expect(bucketSeconds(6 * HOUR)).toBe(300);
    expect(bucketSeconds(24 * HOUR)).toBe(1800);
    expect(bucketSeconds(7 * 24 * HOUR)).toBe(10_800);
  });
});
