// The LOG_QUEUE consumer against real R2 (miniflare): hour partitions, gzip NDJSON, Analytics Engine aggregates
// through the real AnalyticsWindow object, idempotent redelivery, malformed records, and whole-batch retry when R2
// fails. Bare one-record messages (what
// Workers before packing sent); packed messages are in log-packing.test.ts.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AE_BLOBS, AE_DOUBLES, AE_SESSION_BLOBS, AE_SESSION_DOUBLES } from "../../schemas/analytics";
import { type AccessRecord, type DetectionRecord, PACKED_LOG_VERSION } from "../../schemas/log-record";
import type { DeadLetter } from "../../workers/shared/dead-letters";
import { QUEUES } from "../../workers/shared/queues";
import { WindowHarness } from "../support/analytics-window";
import { deliver } from "../support/control-pipeline";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs, listKeys, readObject } from "../support/log-records";

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
    const window = new WindowHarness();

    const { summary, result, retryAll } = await deliverLogs([accessRecord({ ts: at(6, 13) }), accessRecord({ ts: at(6, 14) })], {
      attempts: 3,
      env: window.env,
    });

    expect(summary.status).toBe("retried");
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(true);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: 8 });
    expect(await listKeys("logs/dt=2026-02-06/")).toEqual([]);
    // Analytics Engine cannot be undone, so nothing was handed over for a batch that will come again.
    expect(summary.analytics).toBe("none");
    expect(await window.partials()).toBe(0);
  });
});

describe("log consumer: Analytics Engine", () => {
  const COUNT = AE_DOUBLES.indexOf("count");
  const blob = (point: AnalyticsEngineDataPoint, name: (typeof AE_BLOBS)[number]) => point.blobs![AE_BLOBS.indexOf(name)];
  const dims = (p: AnalyticsEngineDataPoint) => JSON.stringify([p.indexes, p.blobs, p.doubles!.slice(0, 2)]);

  it("folds the batches of a window into one point per distinct dimension set, whose counts add up to the records in", async () => {
    const window = new WindowHarness();
    const records: AccessRecord[][] = [0, 1, 2].map((batch) =>
      Array.from({ length: 30 }, (_, i) =>
        accessRecord({
          ts: at(7, 1, batch),
          containerId: window.container(i % 3),
          status: [204, 502][i % 2],
          upstreamStatus: [204, 502][i % 2],
          country: ["DE", "US", null][(i >> 1) % 3],
        }),
      ),
    );
    const loaderOk = accessRecord({ ts: at(7, 1), containerId: window.container(0), pathClass: "loader", status: 200 });
    for (const batch of records) await deliverLogs([{ v: PACKED_LOG_VERSION, records: [...batch, loaderOk] }], { env: window.env });
    const { access } = await window.flush();

    const all = records.flat();
    const key = (r: AccessRecord) => JSON.stringify([r.containerId, r.status, r.country ?? ""]);
    const expected = new Map<string, number>();
    for (const r of all) expected.set(key(r), (expected.get(key(r)) ?? 0) + 1);
    // One point per distinct set in the window (not one per batch), and its count is that set's records in.
    expect(new Set(access.map(dims)).size).toBe(access.length);
    expect(access).toHaveLength(expected.size);
    const counted = new Map(
      access.map((p) => [JSON.stringify([p.indexes![0], p.doubles![0], blob(p, "country")]), p.doubles![COUNT] as number]),
    );
    expect(counted).toEqual(expected);
    // The loader's successful answers are not counted.
    expect(access.some((p) => blob(p, "pathClass") === "loader")).toBe(false);
  });

  it("folds detection records into session aggregates with the count and the sum of each flag", async () => {
    const window = new WindowHarness();
    const double = (p: AnalyticsEngineDataPoint, name: (typeof AE_SESSION_DOUBLES)[number]) => p.doubles![AE_SESSION_DOUBLES.indexOf(name)];
    const flags = [
      { adblock: true, itp: false, etp: false },
      { adblock: true, itp: true, etp: false },
      { adblock: false, itp: false, etp: true },
      { adblock: false, itp: false, etp: false },
    ];
    const batches: DetectionRecord[][] = [0, 1].map((batch) =>
      Array.from({ length: 12 }, (_, i) =>
        detectionRecord({ ts: at(10, 2, 10 - batch), containerId: window.container(i % 2), mode: "subdomain", ...flags[i % 4] }),
      ),
    );
    for (const batch of batches) await deliverLogs(batch, { env: window.env });
    const { sessions, access } = await window.flush();

    expect(access).toEqual([]);
    // Two containers, one host, country, mode and bot verdict each: two points for the 24 sessions.
    expect(sessions).toHaveLength(2);
    expect(sessions.map((p) => p.blobs![AE_SESSION_BLOBS.indexOf("mode")])).toEqual(["subdomain", "subdomain"]);
    for (const point of sessions) {
      const mine = batches.flat().filter((r) => r.containerId === point.indexes![0]);
      expect(double(point, "count")).toBe(mine.length);
      expect(double(point, "adblock")).toBe(mine.filter((r) => r.adblock).length);
      expect(double(point, "itp")).toBe(mine.filter((r) => r.itp).length);
      expect(double(point, "etp")).toBe(mine.filter((r) => r.etp).length);
      expect(double(point, "recovered")).toBe(mine.filter((r) => r.adblock || r.itp || r.etp).length);
      expect(double(point, "ts")).toBe(at(10, 2, 9));
    }
  });

  it("counts a batch delivered again under the same id once", async () => {
    const window = new WindowHarness();
    const records = Array.from({ length: 5 }, () => accessRecord({ ts: at(11, 4), containerId: window.container() }));
    await deliverLogs(records, { ids: ["w-1", "w-2", "w-3", "w-4", "w-5"], env: window.env });
    // Even in the next window, as long as the first add has not been written yet.
    window.advance(window.windowMs);
    await deliverLogs(records, { ids: ["w-5", "w-4", "w-3", "w-2", "w-1"], attempts: 2, env: window.env });
    const { access } = await window.flush();

    expect(access).toHaveLength(1);
    expect(access[0]!.doubles![COUNT]).toBe(5);
  });

  it("folds junk (the edge's own errors on random paths and methods) into a few points, not one per request", async () => {
    const window = new WindowHarness();
    // Random paths and methods: refused proxy targets (nothing fetched), unknown loader tokens, paths the upstream
    // does not know.
    const kinds = [
      { pathClass: "proxy", status: 400, upstreamStatus: null, reason: "invalid_proxy_target" },
      { pathClass: "loader", status: 404, upstreamStatus: null, reason: "not_found" },
      { pathClass: "passthrough", status: 404, upstreamStatus: 404, reason: null },
    ] as const;
    const junk = Array.from({ length: 200 }, (_, i) =>
      accessRecord({
        ts: at(12, 5),
        containerId: window.container(),
        path: `/${crypto.randomUUID()}`,
        method: i % 3 === 2 || i % 2 === 1 ? "GET" : `X${i}`,
        ...kinds[i % 3]!,
      }),
    );
    await deliverLogs(
      [
        { v: PACKED_LOG_VERSION, records: junk.slice(0, 100) },
        { v: PACKED_LOG_VERSION, records: junk.slice(100) },
      ],
      {
        env: window.env,
      },
    );
    const { access } = await window.flush();

    // The three kinds, the first two with GET and with "OTHER" (an unknown method): five points for 200 requests.
    expect(access).toHaveLength(5);
    expect(access.reduce((sum, p) => sum + (p.doubles![COUNT] as number), 0)).toBe(200);
    expect(new Set(access.map((p) => blob(p, "path")))).toEqual(new Set([""]));
    expect(new Set(access.map((p) => blob(p, "method")))).toEqual(new Set(["GET", "OTHER"]));
    // R2 keeps every request whole.
    const stored = (await readObject((await listKeys("logs/dt=2026-02-12/hour=05/"))[0]!)) as AccessRecord[];
    expect(new Set(stored.map((r) => r.path)).size).toBe(200);
  });

  it("acknowledges the batch and logs the failure when AnalyticsWindow cannot be reached: R2 has the records", async () => {
    const error = vi.spyOn(console, "error");
    const unreachable = {
      getByName: () => ({
        add: () => Promise.reject(Object.assign(new Error("Durable Object is overloaded"), { retryable: true, overloaded: true })),
      }),
    } as unknown as Env["ANALYTICS_WINDOW"];
    const record = accessRecord({ ts: at(13, 6) });
    const { summary, result } = await deliverLogs([record], { env: { ANALYTICS_WINDOW: unreachable } });

    expect(summary).toMatchObject({ status: "written", analytics: "failed", points: 1 });
    expect(result.ackAll).toBe(true);
    expect(await readObject((await listKeys("logs/dt=2026-02-13/"))[0]!)).toEqual([record]);
    const logged = error.mock.calls.map(([line]) => String(line));
    expect(logged.some((line) => line.includes('"event":"analytics_add_failed"') && line.includes(summary.batchId))).toBe(true);
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
