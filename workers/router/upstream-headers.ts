// Request headers for the upstream sGTM container: the client's headers minus hop-by-hop and Cloudflare-internal
// ones, plus the forwarding and geo headers the container needs to see the real visitor.
import type { Site } from "../shared/site";

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies still send. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

/**
 * Headers the edge sets itself (a client-sent copy must never reach the upstream, or a visitor could claim any
 * host), the edge's own routing header, and `host` (fetch derives it from the upstream URL).
 */
const EDGE_OWNED = ["host", "x-public-host", "x-forwarded-host", "x-forwarded-proto"];

/**
 * Every header a client could send to claim an IP address or a location, in one place. Proxies, CDNs and platforms
 * each have their own; an upstream (sGTM, its tags, a WAF in front of it) may trust any of them, so a client-sent
 * copy never passes. The edge sets X-Forwarded-For and the X-Appengine geo headers itself from what Cloudflare saw.
 */
export const CLIENT_IP_AND_LOCATION_HEADERS = [
  // Standard and de-facto forwarding headers
  "forwarded", "x-forwarded-for", "x-forwarded", "forwarded-for", "x-original-forwarded-for", "x-real-ip",
  "x-client-ip", "client-ip", "x-cluster-client-ip", "x-originating-ip", "x-remote-ip", "x-remote-addr",
  "x-proxyuser-ip",
  // CDNs and hosting platforms (cf-* headers are all dropped anyway)
  "true-client-ip", "fastly-client-ip", "akamai-client-ip", "x-akamai-edgescape", "x-azure-clientip",
  "x-azure-socketip", "x-envoy-external-address", "x-vercel-forwarded-for", "x-vercel-ip-country",
  "x-vercel-ip-country-region", "x-vercel-ip-city", "x-vercel-ip-latitude", "x-vercel-ip-longitude",
  "cloudfront-viewer-address", "cloudfront-viewer-country", "cloudfront-viewer-country-region",
  "cloudfront-viewer-city", "cloudfront-viewer-latitude", "cloudfront-viewer-longitude", "x-country-code",
  // Google App Engine / sGTM: what the container's Visitor Region and geo templates read
  "x-appengine-user-ip", "x-appengine-country", "x-appengine-region", "x-appengine-city", "x-appengine-citylatlong",
];

const DROPPED = new Set([...HOP_BY_HOP, ...EDGE_OWNED, ...CLIENT_IP_AND_LOCATION_HEADERS]);

/** Header values must be ASCII here; a city like "Zürich" is percent-encoded rather than dropped. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

export function upstreamHeaders(request: Request, site: Site): Headers {
  // One pass over the client's headers: native Headers calls dominate this function's cost, so the values the edge
  // needs (client IP, Connection) are picked up on the way instead of looked up again.
  const headers = new Headers();
  let clientIp: string | null = null;
  let connection: string | null = null;
  for (const [name, value] of request.headers) {
    if (name.startsWith("cf-")) {
      if (name === "cf-connecting-ip") clientIp = value;
    } else if (DROPPED.has(name)) {
      if (name === "connection") connection = value;
    } else {
      headers.append(name, value);
    }
  }
  // Headers named in Connection are hop-by-hop for this hop only (RFC 9110 §7.6.1).
  if (connection !== null) for (const name of connection.split(",")) headers.delete(name.trim());

  if (clientIp !== null) headers.set("X-Forwarded-For", clientIp);
  headers.set("X-Forwarded-Host", site.publicHost);
  headers.set("X-Forwarded-Proto", site.url.protocol === "http:" ? "http" : "https");

  const cf = request.cf as IncomingRequestCfProperties | undefined;
  if (cf?.country) headers.set("X-Appengine-Country", cf.country);
  if (cf?.regionCode) headers.set("X-Appengine-Region", cf.regionCode.toLowerCase());
  if (cf?.city) headers.set("X-Appengine-City", headerSafe(cf.city.toLowerCase()));
  return headers;
}
