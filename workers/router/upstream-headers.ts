// Request headers for the upstream sGTM container: the client's headers minus hop-by-hop and Cloudflare-internal
// ones, plus the forwarding headers the container needs to see the real visitor, and what the optional modules add
// (geo headers, the bot verdict) or change (the client IP).
import type { BotVerdict } from "../shared/bot-verdict";
import type { Site } from "../shared/site";
import { truncateIp } from "./anonymize-ip";
import type { RequestModules } from "./request-modules";

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies still send. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

/**
 * Headers the edge sets itself (a client-sent copy must never reach the upstream, or a visitor could claim any
 * host or bot verdict), the edge's own routing header, and `host` (fetch derives it from the upstream URL).
 */
const EDGE_OWNED = ["host", "x-public-host", "x-forwarded-host", "x-forwarded-proto", "x-device-bot", "x-device-bot-score"];

/**
 * Every header a client could send to claim an IP address or a location, in one place. Proxies, CDNs and platforms
 * each have their own; an upstream (sGTM, its tags, a WAF in front of it) may trust any of them, and with
 * ipAnonymization on one must not become a way around the cut, so a client-sent copy never passes. The edge sets
 * X-Forwarded-For and (geoHeaders) the X-Appengine geo headers itself, from what Cloudflare saw. Geo headers use
 * App Engine's names, which sGTM's Visitor Region variable and geo-aware templates read.
 */
const CLIENT_IP_AND_LOCATION_HEADERS = [
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

/** The client IP as the upstream may see it under the container's ipAnonymization mode (null: none at all). */
function forwardedIp(clientIp: string, mode: RequestModules["ipAnonymization"]): string | null {
  if (mode === null) return clientIp;
  return mode === "truncate" ? truncateIp(clientIp) : null;
}

/** Reads request.cf, whose parse is the largest single cost a request can add: only with geoHeaders on. */
function setGeoHeaders(headers: Headers, request: Request): void {
  const cf = request.cf as IncomingRequestCfProperties | undefined;
  if (cf?.country) headers.set("X-Appengine-Country", cf.country);
  if (cf?.regionCode) headers.set("X-Appengine-Region", cf.regionCode.toLowerCase());
  if (cf?.city) headers.set("X-Appengine-City", headerSafe(cf.city.toLowerCase()));
}

/** `bot` is the request's verdict when botDetection is active (null otherwise). */
export function upstreamHeaders(request: Request, site: Site, modules: RequestModules, bot: BotVerdict | null): Headers {
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

  const forwarded = clientIp === null ? null : forwardedIp(clientIp, modules.ipAnonymization);
  if (forwarded !== null) headers.set("X-Forwarded-For", forwarded);
  headers.set("X-Forwarded-Host", site.publicHost);
  headers.set("X-Forwarded-Proto", site.url.protocol === "http:" ? "http" : "https");

  if (modules.geoHeaders) setGeoHeaders(headers, request);
  // Stape's header names, so sGTM variables and templates written for its Bot Detection power-up read them as is.
  if (bot !== null) {
    headers.set("X-Device-Bot", bot.bot ? "true" : "false");
    headers.set("X-Device-Bot-Score", String(bot.score));
  }
  return headers;
}
