// One access record per request on a resolved host, sent to LOG_QUEUE after the response is on its way. Logging
// must never cost the visitor anything: the send is not awaited, and a failing send is only reported.
import type { AccessRecord } from "../../schemas/log-record";
import { requestCountry } from "../shared/country";
import type { Site } from "../shared/site";

export type PathClass = AccessRecord["pathClass"];

/** Limits from AccessRecordSchema, applied here so a long path or odd method cannot make a record invalid. */
const MAX_PATH = 512;
const MAX_METHOD = 16;

export interface Outcome {
  pathClass: PathClass;
  /** The upstream path without query (queries can carry identifiers), or the edge path when nothing was fetched. */
  path: string;
  status: number;
  upstreamStatus: number | null;
  cookieRewrites: number;
  /** The bot verdict when botDetection is active, else null. */
  bot: boolean | null;
}

export function accessRecord(request: Request, site: Site, outcome: Outcome): AccessRecord {
  return {
    kind: "access",
    ts: site.startedAt,
    // cf-ray identifies the request in Cloudflare's own logs too; it is absent only in local runs.
    requestId: (request.headers.get("cf-ray") ?? crypto.randomUUID()).slice(0, 64),
    containerId: site.containerId,
    host: site.publicHost,
    method: request.method.slice(0, MAX_METHOD),
    pathClass: outcome.pathClass,
    path: outcome.path.length > MAX_PATH ? outcome.path.slice(0, MAX_PATH) : outcome.path,
    status: outcome.status,
    upstreamStatus: outcome.upstreamStatus,
    durationMs: Math.max(0, Date.now() - site.startedAt),
    country: requestCountry(request),
    cookieRewrites: outcome.cookieRewrites,
    bot: outcome.bot,
  };
}

/**
 * Records wait this long in the isolate so that concurrent requests share one sendBatch: a Queues send is a
 * subrequest, and one per hit cost the local benchmark about half its throughput. Low traffic still sends each
 * record within this delay; the consumer sees the same individual messages either way.
 */
const FLUSH_DELAY_MS = 50;
/** Queues' sendBatch limit (messages per call). */
const MAX_BATCH = 100;

interface Pending {
  records: AccessRecord[];
  scheduled: boolean;
}

// One buffer per queue binding (in production there is one; tests pass their own). Only plain records are shared
// between requests: each flush runs in, and is kept alive by, the waitUntil of the request that started it.
const pendingByQueue = new WeakMap<Queue, Pending>();

function reportFailure(error: unknown, count: number): void {
  console.error(JSON.stringify({ event: "access_log_failed", records: count, error: String(error) }));
}

async function send(queue: Queue, records: AccessRecord[]): Promise<void> {
  try {
    await queue.sendBatch(records.map((body) => ({ body })));
  } catch (error) {
    reportFailure(error, records.length);
  }
}

/**
 * Sends what the window collected, and only that: records arriving meanwhile open the next window. Draining until
 * the buffer is empty would, under steady traffic, keep one request's waitUntil running past its time limit.
 */
async function flushLater(queue: Queue, pending: Pending): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
  pending.scheduled = false;
  const records = pending.records.splice(0);
  for (let i = 0; i < records.length; i += MAX_BATCH) await send(queue, records.slice(i, i + MAX_BATCH));
}

/**
 * Queues the request's access record for LOG_QUEUE through ctx.waitUntil. Never throws and never makes the
 * response wait: the caller has its response already; a failed send is only reported.
 */
export function sendAccessRecord(
  env: Pick<Env, "LOG_QUEUE">,
  ctx: ExecutionContext,
  request: Request,
  site: Site,
  outcome: Outcome,
): void {
  try {
    const queue = env.LOG_QUEUE;
    let pending = pendingByQueue.get(queue);
    if (!pending) {
      pending = { records: [], scheduled: false };
      pendingByQueue.set(queue, pending);
    }
    pending.records.push(accessRecord(request, site, outcome));
    if (pending.records.length >= MAX_BATCH) {
      // A full batch goes at once, in this request's waitUntil.
      ctx.waitUntil(send(queue, pending.records.splice(0, MAX_BATCH)));
    } else if (!pending.scheduled) {
      pending.scheduled = true;
      ctx.waitUntil(flushLater(queue, pending));
    }
  } catch (error) {
    reportFailure(error, 1);
  }
}
