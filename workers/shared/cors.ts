// CORS for customer hosts (CONTRACT.md "Live traffic"): an Origin is reflected, with credentials, only when the
// container trusts it; preflights are answered at the edge so the upstream never sees an OPTIONS.
import type { EdgeConfig } from "../../schemas/edge-config";
import type { Site } from "./site";

/** Chromium caps preflight caching at 2 hours; a longer value would be ignored. */
const PREFLIGHT_MAX_AGE_SECONDS = "7200";
const ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS";
/** Used when the browser does not say which headers it wants (it always does for non-simple requests). */
const DEFAULT_ALLOWED_HEADERS = "Content-Type";
/** Header names the preflight may reflect: RFC 9110 tokens separated by commas and spaces. */
const HEADER_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

// Trusted origins per config object. Configs are cached and replaced (never mutated) on update, so the set is
// built once per config version instead of once per request.
const trustedByConfig = new WeakMap<EdgeConfig, Set<string>>();

function trustedOrigins(config: EdgeConfig): Set<string> {
  let trusted = trustedByConfig.get(config);
  if (!trusted) {
    trusted = new Set(config.allowedOrigins);
    for (const entry of config.publicHosts) {
      const slash = entry.indexOf("/");
      trusted.add(`https://${slash === -1 ? entry : entry.slice(0, slash)}`);
    }
    trustedByConfig.set(config, trusted);
  }
  return trusted;
}

/** True when `origin` is in allowedOrigins or is https:// + the host of one of the container's public hosts. */
export function originAllowed(origin: string, config: EdgeConfig): boolean {
  return trustedOrigins(config).has(origin);
}

/**
 * The CORS headers for a response to `request`, or null when there is no Origin or it is not trusted (then the
 * response carries no CORS headers and the browser keeps it from the page).
 */
export function corsHeaders(request: Request, site: Site): Headers | null {
  const origin = request.headers.get("Origin");
  if (origin === null || !originAllowed(origin, site.config)) return null;
  return new Headers({
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  });
}

/** Answers an OPTIONS preflight at the edge: 204, with the CORS grant only for a trusted Origin. */
export function preflightResponse(request: Request, site: Site): Response {
  const headers = corsHeaders(request, site) ?? new Headers();
  if (headers.has("Access-Control-Allow-Origin")) {
    const requested = request.headers.get("Access-Control-Request-Headers");
    headers.set("Access-Control-Allow-Methods", ALLOWED_METHODS);
    headers.set(
      "Access-Control-Allow-Headers",
      requested !== null && HEADER_LIST.test(requested.trim()) ? requested.trim() : DEFAULT_ALLOWED_HEADERS,
    );
    headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
  }
  return new Response(null, { status: 204, headers });
}
