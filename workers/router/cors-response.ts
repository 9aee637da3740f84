// Putting the edge's CORS decision on a response. The edge alone decides CORS for a customer host: an upstream's
// own Access-Control-* headers (sGTM reflects any Origin) would otherwise grant origins the container never trusted.

function stripUpstreamCors(headers: Headers): void {
  const names: string[] = [];
  for (const [name] of headers) if (name.startsWith("access-control-")) names.push(name);
  for (const name of names) headers.delete(name);
}

/** Applies `cors` (null = not trusted) to mutable `headers`; Vary gains Origin instead of losing what it had. */
export function applyCors(headers: Headers, cors: Headers | null): void {
  stripUpstreamCors(headers);
  if (cors === null) return;
  for (const [name, value] of cors) {
    if (name !== "vary") headers.set(name, value);
  }
  const vary = headers.get("Vary");
  if (vary === null) headers.set("Vary", "Origin");
  else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) headers.set("Vary", `${vary}, Origin`);
}

/** True when the upstream's CORS headers would have to go (they are only ever kept if the edge sets its own). */
export function hasUpstreamCors(headers: Headers): boolean {
  return headers.has("Access-Control-Allow-Origin") || headers.has("Access-Control-Allow-Credentials");
}
