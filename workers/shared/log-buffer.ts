// The per-isolate buffer for LOG_QUEUE records (access records from the router, detection records from the loader).
// Queues bills every message a write, a read and a delete, and an isolate of a busy fleet sees about one hit a second,
// so a buffer holds its records while traffic keeps arriving and goes out packed into as few messages as possible.
//
// The rule (bench/cost-model.mjs simulates it): a buffer opens with its first record at t0 and is sent at
// min(t0 + LOG_WINDOW_MS, t_last + LOG_HOLD_MS), t_last being its newest record's arrival, or at once, in the
// request that adds it, when LOG_FLUSH_RECORDS records wait. So an isolate that dies loses at most that many records
// besides the sends in flight, and a record reaches the queue within LOG_WINDOW_MS.
//
// Who sends: a request that adds a record may wait, in its own waitUntil and on its own timers, at most MAX_WAIT_MS
// after its record (under the 30 s a waitUntil may outlive its response). It waits only when the buffer's send time
// would pass the limit of every request already waiting ("holding" the buffer); it then holds the buffer and, at the
// send time, sends. So a request never awaits another request's timer or promise (which may be gone; workerd warns
// about promises resolved across requests), only plain records are shared, and few requests wait: one per buffer
// at high rates, one in ~7 at 1 hit/s. (A request that waits costs workerd tens of µs of CPU more than one
// that does not; with a wait in every request the buffer would cost more than the router's own pipeline.)
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
 * The longest a request waits after its record, and so the cap on LOG_HOLD_MS: "The Worker's lifetime is extended
 * for up to 30 seconds after the response is sent" (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil);
 * the rest is left for the send itself.
 */
const MAX_WAIT_MS = 25_000;

function positiveMs(value: string | undefined, fallback: number): number {
  const ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

interface Buffer {
  records: LogRecord[];
  /** t0 + LOG_WINDOW_MS: the buffer's maximum age. */
  closesAt: number;
  holdMs: number;
  /** The newest record's arrival. */
  lastAt: number;
  /** The latest time a request holding this buffer can still send it. */
  heldUntil: number;
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

const sendTime = (buffer: Buffer) => Math.min(buffer.closesAt, buffer.lastAt + buffer.holdMs);

/**
 * One request holding the buffer until `until`: it follows the send time as records arrive and sends then, unless
 * the buffer went out meanwhile or the send time passed `until` (a newer request holds it; this one ends).
 */
async function hold(queue: Queue, buffer: Buffer, until: number): Promise<void> {
  for (;;) {
    const at = sendTime(buffer);
    if (buffer.sent || at > until) return;
    const now = Date.now();
    if (now >= at) return send(queue, close(queue, buffer));
    await new Promise((resolve) => setTimeout(resolve, at - now));
  }
}

/** Adds a record to this isolate's buffer. Never throws and never makes the response wait. */
export function queueLogRecord(env: LogQueueEnv, ctx: ExecutionContext, record: LogRecord): void {
  try {
    const queue = env.LOG_QUEUE;
    const now = Date.now();
    let buffer = pendingByQueue.get(queue);
    if (!buffer) {
      const closesAt = now + positiveMs(env.LOG_WINDOW_MS, DEFAULT_LOG_WINDOW_MS);
      const holdMs = Math.min(positiveMs(env.LOG_HOLD_MS, DEFAULT_LOG_HOLD_MS), MAX_WAIT_MS);
      buffer = { records: [], closesAt, holdMs, lastAt: now, heldUntil: 0, sent: false };
      pendingByQueue.set(queue, buffer);
    }
    buffer.records.push(record);
    buffer.lastAt = now;
    if (buffer.records.length >= LOG_FLUSH_RECORDS) {
      // Enough records wait: they go at once, in this request's waitUntil; the holding request ends when it wakes.
      ctx.waitUntil(send(queue, close(queue, buffer)));
    } else if (sendTime(buffer) > buffer.heldUntil) {
      buffer.heldUntil = now + MAX_WAIT_MS;
      ctx.waitUntil(hold(queue, buffer, buffer.heldUntil));
    }
  } catch (error) {
    reportFailure(error, 1);
  }
}
