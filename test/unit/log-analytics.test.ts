// The Analytics Engine aggregates: which records a batch counts, how they fold into one point per dimension set
// (within a batch, and partials across batches), and what each index, blob and double of a point holds.
import { describe, expect, it } from "vitest";
import { mergeAggregates } from "../../durable/analytics-merge";
import {
  AE_BLOBS,
  AE_DOUBLES,
  AE_SESSION_DOUBLES,
  aeColumn,
  DURATION_BUCKETS_MS,
  durationBucket,
  sessionColumn,
  statusClass,
} from "../../schemas/analytics";
import type { AccessRecord } from "../../schemas/log-record";
import { accessAggregates, countedInAnalytics, sessionAggregates } from "../../workers/log-consumer/analytics-points";
import { accessRecord, detectionRecord } from "../support/log-record-builders";

const double = (point: { doubles: number[] }, name: (typeof AE_DOUBLES)[number]) => point.doubles[AE_DOUBLES.indexOf(name)]!;

describe("Analytics Engine aggregates", () => {
  it("lays a point out as the column map says: container in index1, dimensions in blobs, sums in doubles", () => {
    const records = [
      accessRecord({ ts: 2_000, path: "/g/collect", method: "POST", pathClass: "passthrough", status: 503, upstreamStatus: null }),
      accessRecord({ ts: 1_000, path: "/g/collect", method: "POST", pathClass: "passthrough", status: 503, upstreamStatus: null }),
    ].map((r, i) => ({
      ...r,
      country: "FR",
      bot: true,
      reason: "upstream_unreachable",
      durationMs: [8, 700][i]!,
      cookieRewrites: [3, 0][i]!,
    }));
    expect(AE_BLOBS).toEqual(["host", "method", "pathClass", "path", "statusClass", "country", "bot", "reason"]);
    const [point] = accessAggregates(records);
    expect(point!.indexes).toEqual(["shop1"]);
    expect(point!.blobs).toEqual(["ss.shop1.example", "POST", "passthrough", "/g/collect", "5xx", "FR", "true", "upstream_unreachable"]);
    expect(
      Object.fromEntries(
        ["status", "upstreamStatus", "count", "durationSum", "durationMax", "cookieRewrites", "withRewrites", "ts"].map((n) => [
          n,
          double(point!, n as never),
        ]),
      ),
    ).toEqual({
      status: 503,
      upstreamStatus: 0,
      count: 2,
      durationSum: 708,
      durationMax: 700,
      cookieRewrites: 3,
      withRewrites: 1,
      ts: 1_000,
    });
    expect(double(point!, "le10")).toBe(1);
    expect(double(point!, "le1000")).toBe(1);
    expect(AE_DOUBLES.length).toBeLessThanOrEqual(20); // Analytics Engine's limit of doubles per point
    expect(aeColumn("count")).toBe("double6");
  });

  it("writes one point per distinct dimension set, and the counts add up to the records per dimension", () => {
    const records: AccessRecord[] = [];
    for (let i = 0; i < 60; i++) {
      records.push(
        accessRecord({
          containerId: ["shop1", "shop2"][i % 2]!,
          host: ["ss.a.example", "ss.b.example", "ss.c.example"][i % 3]!,
          country: [null, "DE", "US", "FR"][i % 4]!,
          status: [200, 204, 502, 404, 200][i % 5]!,
          path: ["/g/collect", "/gtm.js"][i % 2]!,
          durationMs: i * 17,
        }),
      );
    }
    const points = accessAggregates(records);
    expect(points.length).toBeLessThan(records.length);
    expect(new Set(points.map((p) => JSON.stringify([p.indexes, p.blobs, p.doubles.slice(0, 2)]))).size).toBe(points.length);
    const sumBy = (key: (values: { index: string; blob: string[]; status: number }) => string) => {
      const sums = new Map<string, number>();
      for (const p of points) {
        const k = key({ index: p.indexes[0]!, blob: p.blobs, status: double(p, "status") });
        sums.set(k, (sums.get(k) ?? 0) + double(p, "count"));
      }
      return sums;
    };
    const countBy = (key: (r: AccessRecord) => string) => {
      const counts = new Map<string, number>();
      for (const r of records) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
      return counts;
    };
    expect(sumBy((p) => p.index)).toEqual(countBy((r) => r.containerId));
    expect(sumBy((p) => p.blob[0]!)).toEqual(countBy((r) => r.host));
    expect(sumBy((p) => p.blob[5]!)).toEqual(countBy((r) => r.country ?? ""));
    expect(sumBy((p) => String(p.status))).toEqual(countBy((r) => String(r.status)));
    expect(sumBy((p) => p.blob[3]!)).toEqual(countBy((r) => r.path));
    const durations = points.reduce((s, p) => s + double(p, "durationSum"), 0);
    expect(durations).toBe(records.reduce((s, r) => s + r.durationMs, 0));
  });

  it("counts proxied requests and every error of the edge's own answers, not its successful ones", () => {
    const counted = [
      accessRecord({ pathClass: "proxy" }),
      accessRecord({ pathClass: "passthrough", status: 302 }),
      accessRecord({ pathClass: "loader", status: 404 }),
      accessRecord({ pathClass: "boot", status: 500 }),
    ];
    const skipped = [
      accessRecord({ pathClass: "loader", status: 200 }),
      accessRecord({ pathClass: "boot", status: 200 }),
      accessRecord({ pathClass: "detection", status: 202 }),
      accessRecord({ pathClass: "preflight", status: 204 }),
    ];
    expect(counted.map(countedInAnalytics)).toEqual([true, true, true, true]);
    expect(skipped.map(countedInAnalytics)).toEqual([false, false, false, false]);
    expect(accessAggregates(skipped)).toEqual([]);
    expect(accessAggregates([...counted, ...skipped]).reduce((s, p) => s + double(p, "count"), 0)).toBe(4);
  });

  it("writes unknowns as empty country, empty bot verdict and upstream status 0, and never the request id", () => {
    const record = accessRecord({ country: null, upstreamStatus: null, status: 400, bot: null });
    const [point] = accessAggregates([record]);
    expect(point!.blobs[5]).toBe("");
    expect(point!.blobs[6]).toBe("");
    expect(double(point!, "upstreamStatus")).toBe(0);
    expect(JSON.stringify(point)).not.toContain(record.requestId);
  });

  it("folds partials of several batches as one batch of all their records would fold", () => {
    const records = Array.from({ length: 90 }, (_, i) =>
      accessRecord({
        ts: 5_000 - i,
        containerId: ["shop1", "shop2", "shop3"][i % 3]!,
        status: [200, 502][i % 2]!,
        upstreamStatus: [200, 502][i % 2]!,
        durationMs: (i * 37) % 900,
        cookieRewrites: i % 4,
      }),
    );
    const partials = [records.slice(0, 20), records.slice(20, 55), records.slice(55)].flatMap((batch) => accessAggregates(batch));
    const byKey = (points: ReturnType<typeof accessAggregates>) =>
      new Map(points.map((p) => [JSON.stringify([p.indexes, p.blobs, p.doubles.slice(0, 2)]), p.doubles]));
    expect(partials.length).toBeGreaterThan(6);
    // Sums add, ts keeps the earliest, durationMax the largest, status and upstream status stay dimensions.
    expect(byKey(mergeAggregates(partials))).toEqual(byKey(accessAggregates(records)));
    expect(mergeAggregates(partials)).toHaveLength(6);
  });

  it("keeps 4xx junk (the edge's own refusals, the upstream's 404) without path or unknown method, and 5xx whole", () => {
    const junk = [
      accessRecord({ status: 400, upstreamStatus: null, path: "/random-1", method: "BREW", reason: "invalid_proxy_target" }),
      accessRecord({ status: 404, upstreamStatus: 404, path: "/random-2", pathClass: "passthrough" }),
    ];
    const kept = [
      accessRecord({ status: 502, upstreamStatus: null, path: "/g/collect", reason: "upstream_unreachable" }),
      accessRecord({ status: 403, upstreamStatus: 403, path: "/g/collect" }),
    ];
    const path = (p: { blobs: string[] }) => p.blobs[AE_BLOBS.indexOf("path")];
    expect(accessAggregates(junk).map(path)).toEqual(["", ""]);
    expect(accessAggregates(junk).map((p) => p.blobs[AE_BLOBS.indexOf("method")])).toEqual(["OTHER", "GET"]);
    expect(accessAggregates(kept).map(path)).toEqual(["/g/collect", "/g/collect"]);
  });

  it("folds detection records into one session point per container, host, country, mode and bot verdict", () => {
    const records = [
      detectionRecord({ adblock: true, ts: 3 }),
      detectionRecord({ itp: true, etp: true, ts: 1 }),
      detectionRecord({ ts: 2 }),
      detectionRecord({ adblock: true, mode: "same-origin" }),
      detectionRecord({ bot: true }),
    ];
    const points = sessionAggregates(records);
    expect(points).toHaveLength(3);
    const double = (name: (typeof AE_SESSION_DOUBLES)[number]) => points[0]!.doubles[AE_SESSION_DOUBLES.indexOf(name)];
    expect([double("count"), double("adblock"), double("itp"), double("etp"), double("recovered"), double("ts")]).toEqual([
      3, 1, 1, 1, 2, 1,
    ]);
    expect(sessionColumn("count")).toBe("double5");
    expect(JSON.stringify(points)).not.toContain(records[0]!.sessionId);
  });

  it("puts a duration in the bucket whose upper edge it does not pass", () => {
    expect([0, 10, 10.5, 5000, 5001].map(durationBucket)).toEqual([0, 0, 1, DURATION_BUCKETS_MS.length - 1, DURATION_BUCKETS_MS.length]);
  });

  it("classes statuses", () => {
    expect([204, 301, 404, 504, 0, 600].map(statusClass)).toEqual(["2xx", "3xx", "4xx", "5xx", "other", "other"]);
  });
});
