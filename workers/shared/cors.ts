// CORS for customer hosts (CONTRACT.md "Live traffic"), the edge's one CORS module, called by the router and the
// loader: an Origin is reflected, with credentials, only when the container trusts it; preflights are answered at
// the edge so the upstream never sees an OPTIONS; and the edge alone decides CORS for a customer host, so an
// upstream's own Access-Control-* headers (sGTM reflects any Origin) are replaced or removed.
import type { EdgeConfig } from "../../schemas/edge-config";
import type { Site } from "./site";

/** Chromium caps preflight caching at 2 hours; a longer value would be ignored. */
const PREFLIGHT_MAX_AGE_SECONDS = "7200";
const ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS";
/** Used when the browser does not say which headers it wants (it always does for non-simple requests). */
const DEFAULT_ALLOWED_HEADERS = "Content-Type";
/** Header names the preflight may reflect: RFC 9110 tokens separated by commas and spaces. */
const HEADER_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/** What an upstream may have granted on its own; removed before the edge's decision is applied. */
const UPSTREAM_CORS = [
  "Access-Control-Allow-Origin",
  "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Methods",
  "Access-Control-Allow-Headers",
  "Access-Control-Expose-Headers",
  "Access-Control-Max-Age",
];

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

/**
 * The request's Origin when it is in allowedOrigins or is https:// + the host of one of the container's public
 * hosts; null when there is no Origin or it is not trusted. The router works this out once per request.
 */
export function allowedOriginOf(request: Request, config: EdgeConfig): string | null {
  const origin = request.headers.get("Origin");
  return origin !== null && trustedOrigins(config).has(origin) ? origin : null;
}

/** The grant for an origin already checked against the container: reflected, with credentials. */
function grant(origin: string): Headers {
  return new Headers({
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  });
}

/**
 * The CORS headers for a response to `request`, or null when there is no Origin or it is not trusted (then the
 * response carries no CORS headers and the browser keeps it from the page).
 */
export function corsHeaders(request: Request, site: Site): Headers | null {
  const origin = allowedOriginOf(request, site.config);
  return origin === null ? null : grant(origin);
}

/** The headers for an error answer built by the edge itself: the grant for `allowedOrigin`, nothing for null. */
export function errorCorsHeaders(allowedOrigin: string | null): Headers | undefined {
  return allowedOrigin === null ? undefined : grant(allowedOrigin);
}

/** Answers an OPTIONS preflight at the edge: 204, with the CORS grant only for a trusted Origin. */
export function preflightResponse(request: Request, site: Site): Response {
  const headers = corsHeaders(request, site) ?? new Headers();
  if (headers.has("Access-Control-Allow-Origin")) {
    const requested = request.headers.get("Access-Control-Request-Headers");
    headers.set("Access-Control-Allow-Methods", ALLOWED_METHODS);
    headers.set(
      "Access-Control-Allow-Headers",
      // Header values reach the Worker trimmed (Fetch normalizes them).
      requested !== null && HEADER_LIST.test(requested) ? requested : DEFAULT_ALLOWED_HEADERS,
    );
    headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
  }
  return new Response(null, { status: 204, headers });
}

/** True when the upstream granted CORS itself (then its grant must be replaced or removed). */
export function hasUpstreamCors(headers: Headers): boolean {
  return headers.has("Access-Control-Allow-Origin") || headers.has("Access-Control-Allow-Credentials");
}

/**
 * Applies the edge's decision to mutable `headers`: `allowedOrigin` (already checked against the container) is
 * reflected with credentials, null grants nothing. Vary gains Origin instead of losing what it had.
 */
export function applyCors(headers: Headers, allowedOrigin: string | null): void {
  if (hasUpstreamCors(headers)) for (const name of UPSTREAM_CORS) headers.delete(name);
  if (allowedOrigin === null) return;
  headers.set("Access-Control-Allow-Origin", allowedOrigin);
  headers.set("Access-Control-Allow-Credentials", "true");
  const vary = headers.get("Vary");
  if (vary === null) headers.set("Vary", "Origin");
  else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) headers.set("Vary", `${vary}, Origin`);
}

/**
 * A loader answer as the browser gets it: the loader sets CORS on its POST answers itself; one without a grant
 * (the script, the bait file, a 405) gets the edge's. Copied only when a grant has to be added.
 */
export function withLoaderCors(loaded: Response, allowedOrigin: string | null): Response {
  if (allowedOrigin === null || loaded.headers.has("Access-Control-Allow-Origin")) return loaded;
  const response = new Response(loaded.body, loaded);
  applyCors(response.headers, allowedOrigin);
  return response;
}
