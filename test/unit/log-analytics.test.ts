// The Analytics Engine aggregates: which records a batch counts, how they fold into one point per dimension set,
// and what each index, blob and double of a point holds.
import { describe, expect, it } from "vitest";
import { AE_BLOBS, AE_DOUBLES, aeColumn, DURATION_BUCKETS_MS, durationBucket, statusClass } from "../../schemas/analytics";
import type { AccessRecord } from "../../schemas/log-record";
import { accessAggregates, countedInAnalytics } from "../../workers/log-consumer/analytics-points";
import { accessRecord } from "../support/log-records";

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

  it("puts a duration in the bucket whose upper edge it does not pass", () => {
    expect([0, 10, 10.5, 5000, 5001].map(durationBucket)).toEqual([0, 0, 1, DURATION_BUCKETS_MS.length - 1, DURATION_BUCKETS_MS.length]);
  });

  it("classes statuses", () => {
    expect([204, 301, 404, 504, 0, 600].map(statusClass)).toEqual(["2xx", "3xx", "4xx", "5xx", "other", "other"]);
  });
});
