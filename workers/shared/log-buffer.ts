// The per-isolate buffer for LOG_QUEUE records (access records from the router, detection records from the loader).
// Queues bills every message a write, a read and a delete, and an isolate of a busy fleet sees about one hit a second,
// so a buffer holds its records while traffic keeps arriving and goes out packed into as few messages as possible.
//
// The rule (bench/cost-model.mjs simulates it): a buffer opens with its first record at t0 and is sent at
// min(t0 + LOG_WINDOW_MS, t_last + LOG_HOLD_MS), t_last being its newest record's arrival, or at once, in the
// request that adds it, when LOG_FLUSH_RECORDS records wait. So an isolate that dies loses at most that many records
// besides the sends in flight, and a record reaches the queue within LOG_WINDOW_MS.
//
// Only plain records are shared between requests. Every request that adds a record keeps its own waitUntil alive
// until its own deadline min(t0 + W, t_i + H), with a timer of its own: another request's timer or promise may be
// gone, and workerd warns about promises resolved across requests. A request whose timer fires sends the buffer if
// it is still pending and either the request brought its newest record (whose deadline is the latest) or the buffer
// reached its maximum age; otherwise it ends. H stays under the 30 s a waitUntil may outlive its response.
// Logging never delays or fails a response: nothing here is awaited on the response path, and a failed send is
// only reported.
import { LOG_FLUSH_RECORDS, type LogRecord } from "../../schemas/log-record";
import { packRecords } from "./log-packing";
import { sendBatches } from "./send-batches";

export type LogQueueEnv = Pick<Env, "LOG_QUEUE"> & { LOG_WINDOW_MS?: string; LOG_HOLD_MS?: string };

/** A buffer's maximum age in production (wrangler.jsonc): records reach the queue within a minute. */
const DEFAULT_LOG_WINDOW_MS = 60_000;
const DEFAULT_LOG_HOLD_MS = 20_000;
/**
 * "The Worker's lifetime is extended for up to 30 seconds after the response is sent" (waitUntil,
 * https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil); the rest is left for the send itself.
 */
const MAX_LOG_HOLD_MS = 25_000;
/** How often a waiting request looks whether it can still send (an open request keeps its memory). */
const CHECK_MS = 1_000;

function positiveMs(value: string | undefined, fallback: number): number {
  const ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

interface Buffer {
  records: LogRecord[];
  /** t0 + LOG_WINDOW_MS: the buffer's maximum age. */
  closesAt: number;
  sent: boolean;
}

// One pending buffer per queue binding (in production there is one; tests pass their own).
const pendingByQueue = new WeakMap<Queue, Buffer>();

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

/** Takes the buffer's records for sending; the next record opens a new buffer. */
function close(queue: Queue, buffer: Buffer): LogRecord[] {
  buffer.sent = true;
  if (pendingByQueue.get(queue) === buffer) pendingByQueue.delete(queue);
  return buffer.records;
}

/**
 * One request's wait: `place` is how many records the buffer held once this request's record was in. The newest
 * record's request has the latest deadline, so it sends; at the maximum age every waiting request's deadline is the
 * same, and the first whose timer fires sends rather than count on the newest one's. The wait goes in steps of
 * CHECK_MS: a request that can no longer send (its buffer went out, or a newer record came before the maximum age)
 * ends at its next step instead of its deadline, so an isolate at 100 hits/s keeps ~100 requests open, not ~2,000.
 */
async function holdThenSend(queue: Queue, buffer: Buffer, place: number, ms: number, atMaxAge: boolean): Promise<void> {
  const canSend = () => !buffer.sent && (buffer.records.length === place || atMaxAge);
  for (let left = ms; left > 0 && canSend(); left -= CHECK_MS) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(CHECK_MS, left)));
  }
  if (canSend()) await send(queue, close(queue, buffer));
}

/** Adds a record to this isolate's buffer. Never throws and never makes the response wait. */
export function queueLogRecord(env: LogQueueEnv, ctx: ExecutionContext, record: LogRecord): void {
  try {
    const queue = env.LOG_QUEUE;
    const now = Date.now();
    let buffer = pendingByQueue.get(queue);
    if (!buffer) {
      buffer = { records: [], closesAt: now + positiveMs(env.LOG_WINDOW_MS, DEFAULT_LOG_WINDOW_MS), sent: false };
      pendingByQueue.set(queue, buffer);
    }
    const place = buffer.records.push(record);
    if (place >= LOG_FLUSH_RECORDS) {
      // Enough records wait: they go at once, in this request's waitUntil; the other requests' waits end unsent.
      ctx.waitUntil(send(queue, close(queue, buffer)));
      return;
    }
    const holdMs = Math.min(positiveMs(env.LOG_HOLD_MS, DEFAULT_LOG_HOLD_MS), MAX_LOG_HOLD_MS);
    const deadline = Math.min(buffer.closesAt, now + holdMs);
    ctx.waitUntil(holdThenSend(queue, buffer, place, Math.max(0, deadline - now), deadline >= buffer.closesAt));
  } catch (error) {
    reportFailure(error, 1);
  }
}
