// Putting the edge's CORS decision on a response. The edge alone decides CORS for a customer host: an upstream's
// own Access-Control-* headers (sGTM reflects any Origin) would otherwise grant origins the container never trusted.

const UPSTREAM_CORS = [
  "Access-Control-Allow-Origin",
  "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Methods",
  "Access-Control-Allow-Headers",
  "Access-Control-Expose-Headers",
  "Access-Control-Max-Age",
];

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
