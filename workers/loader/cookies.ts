// Cookie helpers for /boot: reading the Cookie header, the container's cookie list (which names are backed up, and
// which of them are volatile), the identity cookie that keys the vault, and the server-side FPID.
import type { EdgeConfig } from "../../schemas/edge-config";
import { randomBase64url } from "../shared/base64url";
import { siteCookieDomain } from "../shared/cookie-domain";
import { cookieNameTest } from "../shared/cookie-names";
import type { Site } from "../shared/site";

const FPID = "FPID";
/** The edge's own record of the last backup (backup-marker.ts): never a cookie to back up itself. */
export const BACKUP_MARKER = "_qxb";
/** The edge's proof that it issued or saw the identity cookie set (identity-proof.ts): not backed up either. */
export const IDENTITY_PROOF = "_qxi";
export const DAY_SECONDS = 86_400;

/** Name → value from a Cookie header; the first occurrence wins, as browsers send the most specific cookie first. */
export function parseCookieHeader(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * Names the vault keeps for this container: listed, and writable again by the script. The identity cookie is the
 * vault key itself, and HttpOnly names (the backup marker and the identity proof among them) are invisible to
 * `document.cookie`, so none of them can be sent or restored by the page.
 */
export function backupEligible(name: string, config: EdgeConfig): boolean {
  const keeper = config.modules.cookieKeeper;
  return (
    name !== config.identityCookie &&
    name !== BACKUP_MARKER &&
    name !== IDENTITY_PROOF &&
    !keeper.httpOnly.includes(name) &&
    cookieNameTest(keeper.cookies)(name)
  );
}

/**
 * Volatile cookies: backed up like any other, but a change of only their value does not rewrite the backup (the new
 * value goes along with the next write, or the 30-day refresh). GA4's session cookie `_ga_<ID>` (session start,
 * session number, engagement, last hit time) is rewritten by GA4's script on every page view, so keeping it current
 * would cost a KV write per page view. A days-old copy costs little accuracy when it is restored: GA4 starts a new
 * session after 30 idle minutes anyway, so only the session number (`ga_session_number`) may undercount, by the
 * sessions since the last write. A new `_ga_<ID>` name is still written at once (docs/cookies.md).
 */
export function volatileCookie(name: string): boolean {
  return name.startsWith("_ga_");
}

/**
 * The backup-eligible cookies a /boot shows, as restore() sees them: name → the value the page sent, or null for a
 * name only the Cookie header carries (the page cannot read it, so its value is never backed up; it only counts as
 * present).
 */
export function shownCookies(sent: Record<string, string>, jar: Map<string, string>, config: EdgeConfig): Map<string, string | null> {
  const shown = new Map<string, string | null>();
  for (const [name, value] of Object.entries(sent)) if (backupEligible(name, config)) shown.set(name, value);
  for (const name of jar.keys()) if (!shown.has(name) && backupEligible(name, config)) shown.set(name, null);
  return shown;
}

/**
 * True when the edge issues the identity cookie itself (the default FPID). Any other name is set by the site's own
 * server, which Safari does not cap the way it caps a cookie set from an edge IP that differs from the site's.
 */
export function edgeIssuesIdentity(config: EdgeConfig): boolean {
  return config.identityCookie === FPID;
}

export function cookieMaxAgeSeconds(config: EdgeConfig): number {
  return config.modules.cookieKeeper.maxAgeDays * DAY_SECONDS;
}

// A usable identity is a plain cookie value short enough to be part of a KV key (512 bytes with the container id).
const IDENTITY_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{8,256}$/;

export function usableIdentity(value: string | undefined): value is string {
  return value !== undefined && IDENTITY_VALUE.test(value);
}

/** Same shape as sGTM's own FPID (`FPID2.2.<random>.<seconds>`), so the container reads it like one it set itself. */
export function newFpid(now = Date.now()): string {
  const random = randomBase64url(18);
  return `FPID2.2.${random}.${Math.floor(now / 1000)}`;
}

/** Server-set, so Safari does not cap it like a script cookie; HttpOnly, so page scripts can neither read nor forge it. */
export function fpidSetCookie(value: string, site: Pick<Site, "publicHost" | "config">): string {
  return edgeSetCookie(FPID, value, cookieMaxAgeSeconds(site.config), site, { secure: true, httpOnly: true });
}

/**
 * A cookie the edge sets for the site (FPID, `_sid`, the backup marker): the site's cookie Domain (none on an infra
 * host), Path=/ and SameSite=Lax.
 */
export function edgeSetCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  site: Pick<Site, "publicHost" | "config">,
  flags: { secure: boolean; httpOnly: boolean },
): string {
  const domain = siteCookieDomain(site);
  return [
    `${name}=${value}`,
    `Max-Age=${maxAgeSeconds}`,
    ...(domain === null ? [] : [`Domain=${domain}`]),
    "Path=/",
    ...(flags.secure ? ["Secure"] : []),
    ...(flags.httpOnly ? ["HttpOnly"] : []),
    "SameSite=Lax",
  ].join("; ");
}
