// Cookie Keeper: sGTM's own cookies (FPID, _ga, ...) are set by a server on the shop's domain, so the edge may give
// them the lifetime the browser allows for server-set first-party cookies instead of the short one JavaScript or a
// third party gets. Only configured names are touched; every other Set-Cookie passes byte for byte.
import { moduleActive, type EdgeConfig } from "../../schemas/edge-config";
import { cookieNameTest, type CookieNameTest } from "../shared/cookie-names";

export interface KeeperRule {
  names: CookieNameTest;
  httpOnly: CookieNameTest;
  maxAgeSeconds: number;
}


/** Attributes the keeper decides; anything else the upstream sent (Partitioned, Priority, ...) is kept. */
const OWNED_ATTRIBUTES = new Set(["max-age", "expires", "domain", "path", "secure", "httponly", "samesite"]);


// Built once per config object: cached configs are replaced, never mutated, when a new version arrives.
const rules = new WeakMap<EdgeConfig, KeeperRule | null>();

/** The compiled rule, or null when Cookie Keeper is disabled or not entitled. */
export function keeperRule(config: EdgeConfig): KeeperRule | null {
  let rule = rules.get(config);
  if (rule === undefined) {
    const keeper = config.modules.cookieKeeper;
    rule = moduleActive(config, "cookieKeeper")
      ? {
          names: cookieNameTest(keeper.cookies),
          httpOnly: cookieNameTest(keeper.httpOnly),
          // The schema clamps to 400 days already; clamping again keeps a hand-written KV value honest too.
          maxAgeSeconds: Math.min(keeper.maxAgeDays, 400) * 86_400,
        }
      : null;
    rules.set(config, rule);
  }
  return rule;
}

/** A Set-Cookie that deletes (Max-Age <= 0, or Expires in the past) must stay a deletion, not be extended. */
function isDeletion(maxAge: string | null, expires: string | null, now: number): boolean {
  if (maxAge !== null) return !(Number(maxAge) > 0);
  if (expires !== null) {
    const at = Date.parse(expires);
    return Number.isFinite(at) && at <= now;
  }
  return false;
}

/**
 * The rewritten header, or null when the cookie is not one of the configured names (the caller keeps the original).
 * Never throws: anything it cannot parse is not a configured cookie and is left alone.
 */
export function rewriteSetCookie(header: string, rule: KeeperRule, domain: string | null, now = Date.now()): string | null {
  const firstSemicolon = header.indexOf(";");
  const pair = (firstSemicolon === -1 ? header : header.slice(0, firstSemicolon)).trim();
  const equals = pair.indexOf("=");
  if (equals <= 0) return null;
  const name = pair.slice(0, equals).trim();
  if (!rule.names(name)) return null;

  let maxAge: string | null = null;
  let expires: string | null = null;
  const kept: string[] = [];
  if (firstSemicolon !== -1) {
    for (const raw of header.slice(firstSemicolon + 1).split(";")) {
      const attribute = raw.trim();
      if (attribute === "") continue;
      const eq = attribute.indexOf("=");
      const key = (eq === -1 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
      const value = eq === -1 ? "" : attribute.slice(eq + 1).trim();
      if (key === "max-age") maxAge = value;
      else if (key === "expires") expires = value;
      else if (!OWNED_ATTRIBUTES.has(key)) kept.push(attribute);
    }
  }

  const lifetime = isDeletion(maxAge, expires, now) ? 0 : rule.maxAgeSeconds;
  // __Host- cookies must be host-only by definition; a Domain would make the browser reject them.
  const domainAttribute = domain !== null && !name.startsWith("__Host-") ? `; Domain=${domain}` : "";
  const httpOnly = rule.httpOnly(name) ? "; HttpOnly" : "";
  const extra = kept.length > 0 ? `; ${kept.join("; ")}` : "";
  return `${pair}; Max-Age=${lifetime}${domainAttribute}; Path=/; Secure; SameSite=Lax${httpOnly}${extra}`;
}

/**
 * Per response, Cookie Keeper rewrites at most this many matching cookies and this many bytes of rewritten headers;
 * matching cookies past either bound pass through exactly as the upstream sent them (so the edge never makes a
 * response's headers more than MAX_REWRITTEN_BYTES larger than the upstream's). sGTM sets a handful of cookies per
 * response; the bounds only stop an upstream from making the edge amplify its headers past what the runtime can
 * send: about 128 KB of response headers hang the response under wrangler dev (2,000 rewritten _ga_* cookies).
 */
export const MAX_COOKIE_REWRITES = 50;
export const MAX_REWRITTEN_BYTES = 16 * 1024;

export interface RewrittenCookies {
  headers: string[];
  rewrites: number;
  /** Matching cookies left as they were because a bound was reached. */
  overBound: number;
}

/**
 * Applies the rule to every Set-Cookie of a response, within the bounds above. Returns the new list, how many were
 * rewritten and how many were left over the bound, or null when nothing was rewritten (so the caller can keep the
 * upstream headers untouched).
 */
export function rewriteSetCookies(setCookies: readonly string[], rule: KeeperRule, domain: string | null): RewrittenCookies | null {
  let rewrites = 0;
  let bytes = 0;
  let overBound = 0;
  const now = Date.now();
  const headers = setCookies.map((header) => {
    const rewritten = rewriteSetCookie(header, rule, domain, now);
    if (rewritten === null) return header;
    if (overBound > 0 || rewrites === MAX_COOKIE_REWRITES || bytes + rewritten.length > MAX_REWRITTEN_BYTES) {
      overBound++;
      return header;
    }
    rewrites++;
    bytes += rewritten.length;
    return rewritten;
  });
  return rewrites > 0 ? { headers, rewrites, overBound } : null;
}
