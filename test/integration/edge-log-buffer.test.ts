// The edge's log buffer (workers/shared/log-buffer.ts): sent at min(t0 + LOG_WINDOW_MS, t_last + LOG_HOLD_MS), or at
// once when LOG_FLUSH_RECORDS records wait, by a request holding it within the 25 s it may wait. Each "request" is
// its own execution context, as in the Worker; the queue is a recorder (test/support/router-harness.ts), fresh per
// test so that no buffer is shared between tests. The gaps between records are a fraction of the hold and the
// phases are far apart, so a loaded machine cannot move a record into another send.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LOG_FLUSH_RECORDS } from "../../schemas/log-record";
import { queueLogRecord } from "../../workers/shared/log-buffer";
import { accessRecord } from "../support/log-record-builders";
import { type RecordingQueue, recordingQueue } from "../support/router-harness";

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request that adds one record; its context's waitUntil holds the request's wait. */
function request(log: RecordingQueue, windowMs: number, holdMs: number, requestId?: string): ExecutionContext {
  const ctx = createExecutionContext();
  queueLogRecord(
    { LOG_QUEUE: log.queue, LOG_WINDOW_MS: String(windowMs), LOG_HOLD_MS: String(holdMs) },
    ctx,
    accessRecord({ ts: Date.now(), ...(requestId ? { requestId } : {}) }),
  );
  return ctx;
}

const sizes = (log: RecordingQueue) => log.messages.map((message) => message.records.length);

describe("the edge's log buffer", () => {
  it("holds the buffer while records keep arriving within the hold: one send, not two", async () => {
    const log = recordingQueue();
    const contexts: ExecutionContext[] = [];
    // 8 records 250 ms apart: 1.75 s in all, longer than the 1.5 s hold, each well within the hold of the one before.
    for (let i = 0; i < 8; i += 1) {
      if (i > 0) await sleep(250);
      contexts.push(request(log, 20_000, 1_500));
    }
    // Past the first record's hold, nothing has gone: the newest record holds the buffer.
    expect(log.calls).toBe(0);
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    expect(log.calls).toBe(1);
    expect(sizes(log)).toEqual([8]);
  });

  it("sends at the maximum age even under steady traffic", async () => {
    const log = recordingQueue();
    const contexts: ExecutionContext[] = [];
    // A record every 100 ms for 2 s, under a 5 s hold that never runs out: only the 500 ms maximum age can send.
    for (let i = 0; i < 20; i += 1) {
      if (i > 0) await sleep(100);
      contexts.push(request(log, 500, 5_000, `steady-${i}`));
    }
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    expect(log.calls).toBeGreaterThanOrEqual(3);
    expect(sizes(log).reduce((sum, n) => sum + n, 0)).toBe(20);
    expect(log.records.map((r) => r.requestId)).toEqual(contexts.map((_, i) => `steady-${i}`));
  });

  it("sends once the hold after the last record runs out, long before the maximum age", async () => {
    const log = recordingQueue();
    const contexts = [request(log, 60_000, 2_000)];
    await sleep(1_000);
    contexts.push(request(log, 60_000, 2_000));
    const all = Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx))).then(() => true);
    // Sent 2 s after the last record, not at the 60 s maximum age.
    expect(await Promise.race([all, sleep(15_000).then(() => false)])).toBe(true);
    expect(sizes(log)).toEqual([2]);
  });

  it("hands the buffer to a newer request when its send time passes what the holding request may wait", async () => {
    const log = recordingQueue();
    // A 25 s hold, the most a request may wait after its record: the second record's send time (27 s) is past what
    // the first request may wait (25 s), so the second request holds the buffer and sends it.
    const first = request(log, 60_000, 25_000);
    await sleep(2_000);
    const second = request(log, 60_000, 25_000);
    await waitOnExecutionContext(first);
    expect(log.calls).toBe(0);
    await waitOnExecutionContext(second);
    expect(sizes(log)).toEqual([2]);
  }, 45_000);

  it("sends at once when LOG_FLUSH_RECORDS records wait", async () => {
    const log = recordingQueue();
    const contexts = Array.from({ length: LOG_FLUSH_RECORDS }, () => request(log, 1_000, 1_000));
    // The request that brought the last record carries the send; it does not wait for the hold.
    await waitOnExecutionContext(contexts.at(-1)!);
    expect(sizes(log)).toEqual([LOG_FLUSH_RECORDS]);
    // The request holding the buffer finds it sent and ends without sending.
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    expect(log.calls).toBe(1);
    // The next record opens a new buffer.
    await waitOnExecutionContext(request(log, 1_000, 100));
    expect(sizes(log)).toEqual([LOG_FLUSH_RECORDS, 1]);
  });

  it("only reports a failed send, with the count of records it lost", async () => {
    const log = recordingQueue(true);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const contexts = [request(log, 1_000, 100), request(log, 1_000, 100)];
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    const failures = logged.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(failures).toEqual([{ event: "log_send_failed", records: 2, error: "Error: queue unavailable" }]);
  });
});
