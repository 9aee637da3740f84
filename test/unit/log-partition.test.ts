// R2 keys for log batches: Hive-style hour partitions (UTC) and a batch id that depends only on message ids.
import { describe, expect, it } from "vitest";
import { batchId, byHour, hourPrefix, objectKey } from "../../workers/shared/log-partition";

describe("log partitions", () => {
  it("uses logs/dt=YYYY-MM-DD/hour=HH/ in UTC", () => {
    expect(hourPrefix(Date.UTC(2026, 10, 23, 7, 59, 59, 999))).toBe("logs/dt=2026-11-23/hour=07/");
    expect(objectKey(Date.UTC(2026, 0, 1, 0, 0), "abc")).toBe("logs/dt=2026-01-01/hour=00/abc.ndjson.gz");
  });

  it("groups records by hour, keeping their order", () => {
    const a = { ts: Date.UTC(2026, 0, 1, 23, 59), n: 1 };
    const b = { ts: Date.UTC(2026, 0, 2, 0, 0), n: 2 };
    const c = { ts: Date.UTC(2026, 0, 1, 23, 1), n: 3 };
    expect([...byHour([a, b, c]).entries()]).toEqual([
      ["logs/dt=2026-01-01/hour=23/", [a, c]],
      ["logs/dt=2026-01-02/hour=00/", [b]],
    ]);
  });

  it("derives a 128-bit hex batch id from the message ids, whatever their order", async () => {
    const id = await batchId(["m1", "m2", "m3"]);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await batchId(["m3", "m1", "m2"])).toBe(id);
    expect(await batchId(["m1", "m2"])).not.toBe(id);
  });
});
