// One access record per request on a resolved host, sent to LOG_QUEUE after the response is on its way. Logging
// must never cost the visitor anything: the send is not awaited, and a failing send is only reported.
import type { AccessRecord } from "../../schemas/log-record";
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
}

export function accessRecord(request: Request, site: Site, outcome: Outcome): AccessRecord {
  const cf = request.cf as IncomingRequestCfProperties | undefined;
  const country = cf?.country ?? null;
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
    country: country !== null && country.length <= 8 ? country : null,
    cookieRewrites: outcome.cookieRewrites,
  };
}

export function sendAccessRecord(
  env: Pick<Env, "LOG_QUEUE">,
  ctx: ExecutionContext,
  request: Request,
  site: Site,
  outcome: Outcome,
): void {
  try {
    ctx.waitUntil(
      env.LOG_QUEUE.send(accessRecord(request, site, outcome)).catch((error: unknown) => {
        console.error(JSON.stringify({ event: "access_log_failed", containerId: site.containerId, error: String(error) }));
      }),
    );
  } catch (error) {
    console.error(JSON.stringify({ event: "access_log_failed", containerId: site.containerId, error: String(error) }));
  }
}
