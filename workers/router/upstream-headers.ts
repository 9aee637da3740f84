// Request headers for the upstream sGTM container, by allow-list: only the client headers sGTM, its clients and
// their tags read are forwarded, and the edge adds the forwarding headers (client address, public host, scheme) and
// what the optional modules decide (geo headers, the bot verdict). Anything else a client sends, in particular
// every header a proxy or CDN may use to claim a client address (Via, True-Client-IP, X_Forwarded_For, …), never
// reaches the upstream: a list of names to remove would always miss one.
import type { BotVerdict } from "../shared/bot-verdict";
import type { Site } from "../shared/site";
import { truncateIp } from "./anonymize-ip";
import type { RequestModules } from "./request-modules";

/**
 * Client headers the upstream receives as sent (lower case; docs/privacy.md says why each is here). None of them can
 * carry a client address: X-Forwarded-For and the geo and bot headers are the edge's own, set below.
 */
const FORWARDED = new Set([
  // What sGTM's clients and tags read to build a hit: identity cookies, the browser, the page, consent signals.
  "cookie",
  "user-agent",
  "accept-language",
  "referer",
  "origin",
  "dnt",
  "sec-gpc",
  "sec-fetch-site",
  "sec-fetch-mode",
  "sec-fetch-dest",
  // Preview and debug mode through the customer's own domain (Tag Assistant sets it).
  "x-gtm-server-preview",
  // Content negotiation, the body's description, and conditional requests for gtm.js / gtag.js.
  "accept",
  "accept-encoding",
  "content-type",
  "content-encoding",
  "content-length",
  "if-none-match",
  "if-modified-since",
]);

/** User-agent client hints (Sec-CH-UA, -Mobile, -Platform, -Platform-Version, -Full-Version-List, -Model, …). */
const CLIENT_HINTS_PREFIX = "sec-ch-ua";

function forwards(name: string): boolean {
  return FORWARDED.has(name) || name.startsWith(CLIENT_HINTS_PREFIX);
}

/** Header values must be ASCII here; a city like "Zürich" is percent-encoded rather than dropped. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** The client IP as the upstream may see it under the container's ipAnonymization mode (null: none at all). */
function forwardedIp(clientIp: string, mode: RequestModules["ipAnonymization"]): string | null {
  if (mode === null) return clientIp;
  return mode === "truncate" ? truncateIp(clientIp) : null;
}

/**
 * Reads request.cf, whose parse is the largest single cost a request can add: only with geoHeaders on. App
 * Engine's names, which sGTM's Visitor Region variable and geo-aware templates read.
 */
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
    if (forwards(name)) headers.append(name, value);
    else if (name === "cf-connecting-ip") clientIp = value;
    else if (name === "connection") connection = value;
  }
  // Headers named in Connection are hop-by-hop for this hop only (RFC 9110 §7.6.1), allowed or not.
  if (connection !== null) for (const name of connection.split(",")) headers.delete(name.trim());

  // The one client-address header: from what Cloudflare saw (CF-Connecting-IP), never from the client.
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
