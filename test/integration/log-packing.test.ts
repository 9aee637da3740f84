// Packed LOG_QUEUE messages end to end, on the real local queue and the real consumer (configured from
// wrangler.jsonc): what one isolate's window sends comes out of R2 complete and in order, across both message
// limits (records and bytes), and a poisoned record is dead-lettered alone while its neighbours are written.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LOG_FLUSH_RECORDS, type LogRecord, MAX_MESSAGE_BYTES, PACKED_LOG_VERSION, type PackedLogMessage } from "../../schemas/log-record";
import type { DeadLetter } from "../../workers/shared/dead-letters";
import { queueLogRecord } from "../../workers/shared/log-buffer";
import { jsonBytes } from "../../workers/shared/send-batches";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs, listKeys, readObject } from "../support/log-records";

afterEach(() => {
  vi.restoreAllMocks();
});

const at = (day: number) => Date.UTC(2031, 0, day, 10, 0);

/** Every record under `logs/dt=<day>/`, objects ordered by their first record's place in `order`. */
async function recordsInR2(prefix: string, order: Map<string, number>): Promise<LogRecord[]> {
  const objects = await Promise.all((await listKeys(prefix)).map(async (key) => (await readObject(key)) as LogRecord[]));
  const place = (record: LogRecord) => order.get(record.kind === "access" ? record.requestId : record.sessionId)!;
  return objects.sort((a, b) => place(a[0]!) - place(b[0]!)).flat();
}

async function deadLetter(key: string): Promise<DeadLetter> {
  const object = await env.LOG_BUCKET.get(key);
  if (!object) throw new Error(`no dead letter ${key}`);
  return object.json();
}

describe("packed log messages through the real queue", () => {
  it("gives back every record of a window in order, sent in groups of LOG_FLUSH_RECORDS", async () => {
    // 150 small records, then 150 of about 1.4 KB (the message limits themselves are in test/unit/log-packing.test.ts).
    const ts = at(1);
    const records: LogRecord[] = [
      ...Array.from({ length: 150 }, (_, i) => (i % 10 === 0 ? detectionRecord({ ts }) : accessRecord({ ts }))),
      ...Array.from({ length: 150 }, () => accessRecord({ ts, path: `/${"é".repeat(511)}` })),
    ];
    const order = new Map(records.map((r, i) => [r.kind === "access" ? r.requestId : r.sessionId, i]));
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");

    const ctx = createExecutionContext();
    // A window longer than the loop, so only the limits split the records.
    const windowEnv = { LOG_QUEUE: env.LOG_QUEUE, LOG_WINDOW_MS: "1000" };
    for (const record of records) queueLogRecord(windowEnv, ctx, record);
    await waitOnExecutionContext(ctx);

    const sent = sendBatch.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body as PackedLogMessage));
    expect(sent.every((m) => m.v === PACKED_LOG_VERSION && jsonBytes(m) <= MAX_MESSAGE_BYTES)).toBe(true);
    expect(sent.map((m) => m.records.length)).toEqual(Array(records.length / LOG_FLUSH_RECORDS).fill(LOG_FLUSH_RECORDS));
    expect(sent.flatMap((m) => m.records)).toEqual(records);

    const out = await vi.waitFor(
      async () => {
        const stored = await recordsInR2("logs/dt=2031-01-01/", order);
        if (stored.length < records.length) throw new Error(`${stored.length} of ${records.length} records in R2`);
        return stored;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(out).toEqual(records);
  });

  it("sends as soon as LOG_FLUSH_RECORDS records wait, long before the window closes: what a crash can lose", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    const windowEnv = { LOG_QUEUE: env.LOG_QUEUE, LOG_WINDOW_MS: "3000" };
    const contexts = Array.from({ length: 2 * LOG_FLUSH_RECORDS + 3 }, () => createExecutionContext());
    let windowClosed = false;
    contexts.forEach((ctx, i) => {
      queueLogRecord(windowEnv, ctx, accessRecord({ ts: at(20), path: `/bound/${i}` }));
    });
    // The last 3 records wait for the window, held by the request that brought the first of them.
    const windowDone = waitOnExecutionContext(contexts[2 * LOG_FLUSH_RECORDS]!).then(() => {
      windowClosed = true;
    });
    // The requests that brought the 50th and the 100th record carry the sends.
    await waitOnExecutionContext(contexts[LOG_FLUSH_RECORDS - 1]!);
    await waitOnExecutionContext(contexts[2 * LOG_FLUSH_RECORDS - 1]!);
    expect(windowClosed).toBe(false);
    const sizes = () =>
      sendBatch.mock.calls.map(([messages]) => [...messages].reduce((n, m) => n + (m.body as PackedLogMessage).records.length, 0));
    expect(sizes()).toEqual([LOG_FLUSH_RECORDS, LOG_FLUSH_RECORDS]);
    // Only the last 3 waited for the window.
    await windowDone;
    expect(sizes()).toEqual([LOG_FLUSH_RECORDS, LOG_FLUSH_RECORDS, 3]);
  });

  it("dead-letters a poisoned record alone and writes its neighbours", async () => {
    const ts = at(2);
    const before = accessRecord({ ts });
    const poisoned = { ...accessRecord({ ts }), status: "teapot" };
    const after = detectionRecord({ ts });
    await env.LOG_QUEUE.sendBatch([{ body: { v: PACKED_LOG_VERSION, records: [before, poisoned, after] }, contentType: "json" }]);

    const letters = await vi.waitFor(
      async () => {
        const keys = await listKeys("dead-letters/logs/");
        const found = (await Promise.all(keys.map(async (key) => ({ key, letter: await deadLetter(key) })))).filter(({ letter }) =>
          JSON.stringify(letter.body).includes(poisoned.requestId),
        );
        const stored = await listKeys("logs/dt=2031-01-02/");
        if (found.length === 0 || stored.length === 0) throw new Error("not consumed yet");
        return found;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(letters).toHaveLength(1);
    // Keyed by the message id and the record's index; the body re-sends the record alone, in the packed format.
    expect(letters[0]!.key).toMatch(/^dead-letters\/logs\/.+-1\.json$/);
    expect(letters[0]!.letter).toMatchObject({ queue: "logs", body: { v: PACKED_LOG_VERSION, records: [poisoned] } });
    expect(letters[0]!.letter.reason).toContain("record 1: status");
    const [key] = await listKeys("logs/dt=2031-01-02/");
    expect(await readObject(key!)).toEqual([before, after]);
  });
});

describe("packed log messages in the consumer", () => {
  it("unpacks a batch of packed messages into one object per hour, in message order", async () => {
    const ts = at(3);
    const first = [accessRecord({ ts }), detectionRecord({ ts }), accessRecord({ ts })];
    const second = [accessRecord({ ts })];
    const { summary, result } = await deliverLogs([
      { v: PACKED_LOG_VERSION, records: first },
      { v: PACKED_LOG_VERSION, records: second },
    ]);
    expect(summary).toMatchObject({ status: "written", access: 3, detection: 1, malformed: 0 });
    expect(result.ackAll).toBe(true);
    expect(await readObject(summary.objects[0]!)).toEqual([...first, ...second]);
  });

  it("dead-letters a poisoned record under its message id and index, and nothing else", async () => {
    const ts = at(4);
    const good = [accessRecord({ ts }), accessRecord({ ts })];
    const poisoned = { ...detectionRecord({ ts }), sessionId: "no" };
    const { summary } = await deliverLogs([{ v: PACKED_LOG_VERSION, records: [good[0], poisoned, good[1]] }], { ids: ["pk-4"] });
    expect(summary).toMatchObject({ access: 2, malformed: 1 });
    expect(await listKeys("dead-letters/logs/pk-4")).toEqual(["dead-letters/logs/pk-4-1.json"]);
    expect((await deadLetter("dead-letters/logs/pk-4-1.json")).reason).toContain("record 1: sessionId");
    expect(await readObject(summary.objects[0]!)).toEqual(good);
  });

  it("dead-letters a message of an unknown format whole, naming what is wrong", async () => {
    const body = { v: 2, records: [accessRecord({ ts: at(5) })] };
    const { summary, result } = await deliverLogs([body], { ids: ["pk-5"] });
    expect(summary).toMatchObject({ access: 0, malformed: 1, objects: [] });
    expect(result.ackAll).toBe(true);
    const letter = await deadLetter("dead-letters/logs/pk-5.json");
    expect(letter.body).toEqual(body);
    expect(letter.reason).toContain("unreadable message: v must be 1, got the number 2");
  });
});
