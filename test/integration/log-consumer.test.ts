// The LOG_QUEUE consumer against real R2 (miniflare): hour partitions, gzip NDJSON, Analytics Engine points,
// idempotent redelivery, malformed records, and whole-batch retry when R2 fails. Bare one-record messages (what
// Workers before packing sent); packed messages are in log-packing.test.ts.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AE_DOUBLES } from "../../schemas/analytics";
import { AE_POINTS_PER_INVOCATION, PACKED_LOG_VERSION } from "../../schemas/log-record";
import type { DeadLetter } from "../../workers/shared/dead-letters";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { accessRecord, deliverLogs, detectionRecord, listKeys, readObject } from "../support/log-records";

const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 1, day, hour, minute);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log consumer: R2 batches", () => {
  it("writes exactly one gzip NDJSON object per hour partition, holding that hour's records in order", async () => {
    const tenA = accessRecord({ ts: at(2, 10, 5) });
    const tenB = detectionRecord({ ts: at(2, 10, 59) });
    const elevenA = accessRecord({ ts: at(2, 11, 0) });
    const tenC = accessRecord({ ts: at(2, 10, 30), status: 502 });
    const { summary } = await deliverLogs([tenA, elevenA, tenB, tenC]);

    const keys = await listKeys("logs/dt=2026-02-02/");
    expect(keys).toEqual([
      `logs/dt=2026-02-02/hour=10/${summary.batchId}.ndjson.gz`,
      `logs/dt=2026-02-02/hour=11/${summary.batchId}.ndjson.gz`,
    ]);
    expect(await readObject(keys[0]!)).toEqual([tenA, tenB, tenC]);
    expect(await readObject(keys[1]!)).toEqual([elevenA]);
  });

  it("names the batch by its message ids, so a redelivery overwrites its objects instead of adding copies", async () => {
    const records = [accessRecord({ ts: at(3, 8) }), accessRecord({ ts: at(3, 9) })];
    const first = await deliverLogs(records, { ids: ["m-1", "m-2"] });
    // Redelivered after a failed ack, in another order: same batch id, same keys.
    const again = await deliverLogs([records[1], records[0]], { ids: ["m-2", "m-1"], attempts: 2 });

    expect(again.summary.batchId).toBe(first.summary.batchId);
    expect(await listKeys("logs/dt=2026-02-03/")).toEqual(first.summary.objects);
    expect(await readObject(first.summary.objects[0]!)).toEqual([records[0]]);
  });

  it("gives different message sets different batch ids", async () => {
    const a = await deliverLogs([accessRecord({ ts: at(4, 8) })], { ids: ["x-1"] });
    const b = await deliverLogs([accessRecord({ ts: at(4, 8) })], { ids: ["x-2"] });
    expect(a.summary.batchId).not.toBe(b.summary.batchId);
    expect(await listKeys("logs/dt=2026-02-04/")).toHaveLength(2);
  });

  it("keeps each malformed bare message as a dead letter without blocking the rest of the batch", async () => {
    const good = accessRecord({ ts: at(5, 12) });
    const withIp = { ...accessRecord({ ts: at(5, 12) }), clientIp: "203.0.113.9" };
    const ids = ["bad-5-1", "bad-5-2", "bad-5-3", "bad-5-4"];
    const { summary, result } = await deliverLogs([good, "not a record", withIp, { kind: "access" }], { ids });

    expect(summary).toMatchObject({ status: "written", access: 1, detection: 0, malformed: 3 });
    expect(result.ackAll).toBe(true);
    expect(result.retryBatch.retry).toBe(false);
    expect(await readObject((await listKeys("logs/dt=2026-02-05/"))[0]!)).toEqual([good]);
    expect(await listKeys("dead-letters/logs/bad-5-")).toEqual(ids.slice(1).map((id) => `dead-letters/logs/${id}.json`));
    const letter = (await (await env.LOG_BUCKET.get("dead-letters/logs/bad-5-3.json"))!.json()) as DeadLetter;
    expect(letter).toMatchObject({ queue: "logs", body: withIp });
    expect(letter.reason).toContain('unknown field "clientIp"');
  });

  it("acknowledges a batch of only malformed records and writes no log object", async () => {
    const put = vi.spyOn(env.LOG_BUCKET, "put");
    const { summary, result } = await deliverLogs([{ kind: "detection" }, null]);
    expect(summary.malformed).toBe(2);
    expect(put.mock.calls.map(([key]) => key).filter((key) => key.startsWith("logs/"))).toEqual([]);
    expect(result.ackAll).toBe(true);
  });

  it("retries the whole batch and leaves no object behind when an R2 write fails", async () => {
    const realPut = env.LOG_BUCKET.put.bind(env.LOG_BUCKET);
    vi.spyOn(env.LOG_BUCKET, "put").mockImplementation(async (key, value, options) => {
      if (key.includes("hour=14")) throw new Error("R2 unavailable");
      return realPut(key, value, options);
    });
    const write = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");

    const { summary, result, retryAll } = await deliverLogs([accessRecord({ ts: at(6, 13) }), accessRecord({ ts: at(6, 14) })], {
      attempts: 3,
    });

    expect(summary.status).toBe("retried");
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(true);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: 8 });
    expect(await listKeys("logs/dt=2026-02-06/")).toEqual([]);
    // Analytics Engine cannot be undone, so nothing was counted for a batch that will come again.
    expect(write).not.toHaveBeenCalled();
  });
});

describe("log consumer: Analytics Engine", () => {
  const COUNT = AE_DOUBLES.indexOf("count");

  it("writes one aggregate per distinct dimension set whose counts add up to the counted records, none for detections", async () => {
    const access = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");
    const sessions = vi.spyOn(env.SESSION_ANALYTICS, "writeDataPoint");
    const proxied = Array.from({ length: 40 }, (_, i) =>
      accessRecord({
        ts: at(7, 1),
        containerId: ["shop1", "shop2"][i % 2],
        status: [204, 502][i % 2],
        country: ["DE", "US"][(i % 4) >> 1],
      }),
    );
    const loaderOk = accessRecord({ ts: at(7, 1), pathClass: "loader", status: 200 });
    const loaderError = accessRecord({ ts: at(7, 1), pathClass: "loader", status: 404 });
    const { summary } = await deliverLogs([
      { v: PACKED_LOG_VERSION, records: [...proxied, loaderOk, detectionRecord({ ts: at(7, 1) }), loaderError] },
    ]);

    const points = access.mock.calls.map(([point]) => point!);
    // shop1 always answers 204, shop2 502; two countries each: 4 points for the 40 proxied records, 1 for the error.
    expect(points).toHaveLength(5);
    const counts = (match: (p: AnalyticsEngineDataPoint) => boolean) =>
      points.filter(match).reduce((sum, p) => sum + (p.doubles![COUNT] as number), 0);
    expect(counts(() => true)).toBe(41);
    expect(counts((p) => p.indexes![0] === "shop2")).toBe(proxied.filter((r) => r.containerId === "shop2").length);
    expect(counts((p) => p.blobs![5] === "US")).toBe(proxied.filter((r) => r.country === "US").length);
    expect(counts((p) => p.blobs![2] === "loader")).toBe(1);
    expect(sessions).toHaveBeenCalledTimes(1);
    expect(summary.points).toBe(6);
  });

  it("leaves the messages whose points would pass Analytics Engine's limit per invocation for a later batch", async () => {
    const write = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");
    // Every record its own dimension set (a distinct path): 100 points per message.
    const message = (m: number) => ({
      v: PACKED_LOG_VERSION,
      records: Array.from({ length: 100 }, (_, i) => accessRecord({ ts: at(9, 3), path: `/p/${m}/${i}` })),
    });
    const { summary, result } = await deliverLogs([message(1), message(2), message(3)]);

    expect(write.mock.calls.length).toBeLessThanOrEqual(AE_POINTS_PER_INVOCATION);
    expect(write).toHaveBeenCalledTimes(200);
    expect(summary).toMatchObject({ access: 200, deferred: 1, points: 200 });
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toHaveLength(1);
    // The deferred message's records are not in R2 yet: it comes back whole in another batch.
    const stored = (await readObject((await listKeys("logs/dt=2026-02-09/"))[0]!)) as { path: string }[];
    expect(stored.some((r) => r.path.startsWith("/p/3/"))).toBe(false);
    expect(stored).toHaveLength(200);
  });
});

describe("log consumer: wiring", () => {
  it("is what the Worker's queue handler runs for the log queue", async () => {
    const record = accessRecord({ ts: at(8, 6) });
    const result = await deliver(QUEUES.logs, [record]);
    expect(result.ackAll).toBe(true);
    const keys = await listKeys("logs/dt=2026-02-08/hour=06/");
    expect(keys).toHaveLength(1);
    expect(await readObject(keys[0]!)).toEqual([record]);
  });
});
