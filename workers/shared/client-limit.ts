// Per-client bounds on what a client can repeat for free (CONTRACT.md "Live traffic"): /boot, detection beacons
// and unknown hosts, each checked against a Workers Rate Limiting binding (wrangler.jsonc `ratelimits`) only on its
// own path, never on a proxied hit. Cloudflare counts per location and lets a little more through while its counters
// settle: a bound on abuse, not an exact quota.

import { ipv6Hextets } from "../router/anonymize-ip";
import { EdgeError, errorResponse } from "./errors";

/** The binding's `simple.period` in wrangler.jsonc: a limited client may try again after at most this long. */
const PERIOD_SECONDS = 60;

/** Loopback: the machine itself, which on Cloudflare is never a client (the local run's tools and browsers are). */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * Whom a request is counted for: the client address Cloudflare saw, an IPv6 client by its /64 (one subscriber's
 * network, which it can fill with addresses at will). Null, not counted, without CF-Connecting-IP (Cloudflare sets it
 * on every request it serves, and a client cannot remove it) or from a loopback address: such a request came from a
 * test or the local run, whose every tool and browser shares 127.0.0.1.
 */
export function clientKey(request: Request): string | null {
  const ip = request.headers.get("CF-Connecting-IP");
  if (ip === null || LOOPBACK.test(ip)) return null;
  const groups = ip.includes(":") ? ipv6Hextets(ip) : null;
  return groups === null
    ? ip
    : `${groups
        .slice(0, 4)
        .map((group) => group.toString(16))
        .join(":")}::/64`;
}

/**
 * True when `key` has used up its share (never for a null key: no client address to count). A limiter that fails lets the request through: the bound protects the
 * stores, it must never take live traffic down with it.
 */
export async function overLimit(limiter: RateLimit, key: string | null): Promise<boolean> {
  if (key === null) return false;
  try {
    return !(await limiter.limit({ key })).success;
  } catch (error) {
    console.error(JSON.stringify({ event: "rate_limit_failed", error: String(error) }));
    return false;
  }
}

/** 429 with Retry-After; `headers` carries CORS where the caller needs it. */
export function tooManyRequests(headers = new Headers()): Response {
  const response = errorResponse(
    new EdgeError(429, "rate_limited", `too many requests from this client, retry after ${PERIOD_SECONDS} s`),
    headers,
  );
  response.headers.set("Retry-After", String(PERIOD_SECONDS));
  return response;
}
