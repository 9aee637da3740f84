// botDetection `block`: a request the verdict calls a bot is answered at the edge and never reaches the upstream.
// A collect hit gets what sGTM itself answers to one, an empty 204, so a tracking library sees success and does
// not retry; anything else (gtm.js, other sGTM client paths) gets a 403 that says why, so a false positive is
// visible in the browser's network panel instead of looking like an empty script.
import { applyCors } from "../shared/cors";
import { EdgeError } from "../shared/errors";

/** GA4's /g/collect, Universal Analytics' /collect and /j/collect, the Measurement Protocol's /mp/collect, ... */
function isCollectPath(path: string): boolean {
  return path.endsWith("/collect");
}

export function blockedBotResponse(upstreamPath: string, allowedOrigin: string | null): Response {
  if (!isCollectPath(upstreamPath)) throw new EdgeError(403, "bot_blocked", "automated traffic is not forwarded");
  const response = new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
  applyCors(response.headers, allowedOrigin);
  return response;
}
