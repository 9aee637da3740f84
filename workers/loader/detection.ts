// POST /mark-session-detection: one DetectionRecord per reported session onto LOG_QUEUE (the log consumer writes it
// to R2 and Supabase `loader_sessions`), packed with the isolate's access records (workers/shared/log-buffer.ts),
// only for a session the edge started. The body comes from navigator.sendBeacon, so it is read whatever its
// Content-Type says (a beacon with a JSON type would need a preflight the beacon API cannot make).
import { moduleActive } from "../../schemas/edge-config";
import { DetectionBodySchema } from "../../schemas/loader";
import type { DetectionRecord } from "../../schemas/log-record";
import { readJsonBody } from "../shared/body";
import { botVerdict } from "../shared/bot-verdict";
import { requestCountry } from "../shared/country";
import { EdgeError } from "../shared/errors";
import { queueLogRecord } from "../shared/log-buffer";
import type { Site } from "../shared/site";
import { sessionStarted } from "./session";
import { visitMode } from "./visit-mode";

export async function handleDetection(request: Request, env: Env, ctx: ExecutionContext, site: Site, headers: Headers): Promise<Response> {
  const body = await readJsonBody(request, DetectionBodySchema);
  // A session id the edge did not start (session.ts) would become a loader_sessions row per invented id.
  if (!(await sessionStarted(env, site.containerId, body.sessionId))) {
    throw new EdgeError(400, "unknown_session", "sessionId is not a session this edge started");
  }
  // A script cached before the module was switched off may still report: accepted, but not recorded, since the
  // container is not entitled to (or did not ask for) detection data.
  if (moduleActive(site.config, "adblockDetection")) {
    const record: DetectionRecord = {
      kind: "detection",
      ts: Date.now(),
      containerId: site.containerId,
      sessionId: body.sessionId,
      host: site.publicHost,
      adblock: body.adblock,
      itp: body.itp,
      etp: body.etp,
      mode: visitMode(request.headers.get("Origin"), site),
      country: requestCountry(request),
      webdriver: body.webdriver,
      // The edge's verdict on the report itself (it comes from the same browser as the page view), or the page's
      // own admission that automation drives it.
      bot: moduleActive(site.config, "botDetection") ? body.webdriver || botVerdict(request).bot : null,
    };
    // Not awaited, like every log record: 202 means accepted, and the record leaves with the isolate's next send.
    queueLogRecord(env, ctx, record);
  }
  headers.set("Cache-Control", "no-store");
  return new Response(null, { status: 202, headers });
}
