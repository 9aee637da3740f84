// The Analytics Engine column map: what each index, blob and double of a data point holds.
import { describe, expect, it } from "vitest";
import { AE_BLOBS, AE_DOUBLES, statusClass } from "../../schemas/analytics";
import { accessDataPoint } from "../../workers/log-consumer/analytics-points";
import { accessRecord } from "../support/log-records";

describe("Analytics Engine data point", () => {
  it("puts the container in index1 and the fields in the documented blob and double order", () => {
    const record = accessRecord({
      ts: 1_767_261_600_000,
      host: "ss.a.example",
      method: "POST",
      pathClass: "passthrough",
      path: "/g/collect",
      status: 503,
      upstreamStatus: 503,
      durationMs: 87.5,
      country: "FR",
      cookieRewrites: 3,
      bot: true,
    });
    expect(AE_BLOBS).toEqual(["host", "method", "pathClass", "path", "statusClass", "country", "bot"]);
    expect(AE_DOUBLES).toEqual(["status", "upstreamStatus", "durationMs", "cookieRewrites", "ts"]);
    expect(accessDataPoint(record)).toEqual({
      indexes: ["shop1"],
      blobs: ["ss.a.example", "POST", "passthrough", "/g/collect", "5xx", "FR", "true"],
      doubles: [503, 503, 87.5, 3, 1_767_261_600_000],
    });
  });

  it("writes unknowns as empty country, empty bot verdict and upstream status 0", () => {
    const point = accessDataPoint(accessRecord({ country: null, upstreamStatus: null, status: 400, bot: null }));
    expect(point.blobs![5]).toBe("");
    expect(point.blobs![6]).toBe("");
    expect(point.doubles![1]).toBe(0);
  });

  it("never carries the request id (no per-request identifier in AE)", () => {
    const record = accessRecord();
    expect(JSON.stringify(accessDataPoint(record))).not.toContain(record.requestId);
  });

  it("classes statuses", () => {
    expect([204, 301, 404, 504, 0, 600].map(statusClass)).toEqual(["2xx", "3xx", "4xx", "5xx", "other", "other"]);
  });
});
