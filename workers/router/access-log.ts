// One access record per request on a resolved host, sent to LOG_QUEUE after the response is on its way. Logging
// must never cost the visitor anything: the send is not awaited, and a failing send is only reported.
import { type AccessRecord, MAX_RECORD_METHOD, MAX_RECORD_PATH, MAX_RECORD_REQUEST_ID } from "../../schemas/log-record";
import { requestCountry } from "../shared/country";
import { type LogQueueEnv, queueLogRecord } from "../shared/log-buffer";
import type { Site } from "../shared/site";

export type PathClass = AccessRecord["pathClass"];

export interface Outcome {
  pathClass: PathClass;
  /** The upstream path without query (queries can carry identifiers), or the edge path when nothing was fetched. */
  path: string;
  status: number;
  upstreamStatus: number | null;
  cookieRewrites: number;
  /** The bot verdict when botDetection is active, else null. */
  bot: boolean | null;
  /** The error code when the edge answered instead of the upstream (or `bot_blocked`), else null. */
  reason: string | null;
}

function accessRecord(request: Request, site: Site, outcome: Outcome): AccessRecord {
  return {
    kind: "access",
    ts: site.startedAt,
    // cf-ray identifies the request in Cloudflare's own logs too; it is absent only in local runs.
    requestId: (request.headers.get("cf-ray") ?? crypto.randomUUID()).slice(0, MAX_RECORD_REQUEST_ID),
    containerId: site.containerId,
    host: site.publicHost,
    method: request.method.slice(0, MAX_RECORD_METHOD),
    pathClass: outcome.pathClass,
    path: outcome.path.length > MAX_RECORD_PATH ? outcome.path.slice(0, MAX_RECORD_PATH) : outcome.path,
    status: outcome.status,
    upstreamStatus: outcome.upstreamStatus,
    durationMs: Math.max(0, Date.now() - site.startedAt),
    country: requestCountry(request),
    cookieRewrites: outcome.cookieRewrites,
    bot: outcome.bot,
    reason: outcome.reason,
  };
}

/**
 * Hands the request's access record to the isolate's LOG_QUEUE buffer (workers/shared/log-buffer.ts). Never throws
 * and never makes the response wait: the caller has its response already; a failed send is only reported.
 */
export function sendAccessRecord(env: LogQueueEnv, ctx: ExecutionContext, request: Request, site: Site, outcome: Outcome): void {
  let record: AccessRecord;
  try {
    record = accessRecord(request, site, outcome);
  } catch (error) {
    console.error(JSON.stringify({ event: "log_send_failed", records: 1, error: String(error) }));
    return;
  }
  queueLogRecord(env, ctx, record);
}
