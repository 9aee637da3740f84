// The per-isolate window for LOG_QUEUE records (access records from the router, detection records from the loader).
// The first record opens a window; whatever arrives within LOG_WINDOW_MS goes out packed into as few messages as
// possible, and as soon as LOG_FLUSH_RECORDS records wait they go at once, so an isolate that dies loses at most
// that many records besides the sends in flight. Queues bills each message a write, a
// read and a delete, so one message per record cost more than the Worker request itself; a longer window means fuller
// messages at a given request rate, at the price of records reaching R2 that much later.
// Logging never delays or fails a response: nothing here is awaited on the response path, and a failed send is
// only reported.
import { LOG_FLUSH_RECORDS, type LogRecord } from "../../schemas/log-record";
import { packRecords } from "./log-packing";
import { sendBatches } from "./send-batches";

export type LogQueueEnv = Pick<Env, "LOG_QUEUE"> & { LOG_WINDOW_MS?: string };

/**
 * Production window. It must stay well under the 30 s a waitUntil may outlive its response; it holds the records of
 * one isolate, so with traffic spread over many isolates each window fills more slowly (docs/cost.md).
 */
const DEFAULT_LOG_WINDOW_MS = 20_000;

function logWindowMs(env: LogQueueEnv): number {
  const ms = Number(env.LOG_WINDOW_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_LOG_WINDOW_MS;
}

interface Pending {
  records: LogRecord[];
  scheduled: boolean;
}

// One buffer per queue binding (in production there is one; tests pass their own). Only plain records are shared
// between requests: each send runs in, and is kept alive by, the waitUntil of the request that started it.
const pendingByQueue = new WeakMap<Queue, Pending>();

function reportFailure(error: unknown, count: number): void {
  console.error(JSON.stringify({ event: "log_send_failed", records: count, error: String(error) }));
}

async function send(queue: Queue, records: LogRecord[]): Promise<void> {
  for (const batch of sendBatches(packRecords(records), (message) => message.bytes)) {
    try {
      await queue.sendBatch(batch.map((message) => ({ body: message.body, contentType: "json" as const })));
    } catch (error) {
      reportFailure(
        error,
        batch.reduce((sum, message) => sum + message.body.records.length, 0),
      );
    }
  }
}

/**
 * Sends what the window collected, and only that: records arriving meanwhile open the next window. Draining until
 * the buffer is empty would, under steady traffic, keep one request's waitUntil running past its time limit.
 */
async function flushLater(queue: Queue, pending: Pending, ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  pending.scheduled = false;
  await send(queue, pending.records.splice(0));
}

/** Adds a record to this isolate's window. Never throws and never makes the response wait. */
export function queueLogRecord(env: LogQueueEnv, ctx: ExecutionContext, record: LogRecord): void {
  try {
    const queue = env.LOG_QUEUE;
    let pending = pendingByQueue.get(queue);
    if (!pending) {
      pending = { records: [], scheduled: false };
      pendingByQueue.set(queue, pending);
    }
    pending.records.push(record);
    if (pending.records.length >= LOG_FLUSH_RECORDS) {
      // Enough records wait: they go at once, in this request's waitUntil; the window's timer keeps running.
      ctx.waitUntil(send(queue, pending.records.splice(0)));
    } else if (!pending.scheduled) {
      pending.scheduled = true;
      ctx.waitUntil(flushLater(queue, pending, logWindowMs(env)));
    }
  } catch (error) {
    reportFailure(error, 1);
  }
}
