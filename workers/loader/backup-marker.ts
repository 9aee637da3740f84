// The backup marker `_qxb`: after /boot read or wrote a browser's backup, the answer sets a first-party, HttpOnly
// cookie holding the backup's `savedAt` and a digest of what the backup holds, as this browser shows it. A later
// /boot that shows the same (no cookie lost, no new name, no changed non-volatile value) while the backup is younger
// than its refresh has nothing to restore and nothing to write, so it answers without touching COOKIE_VAULT. Any
// difference, or a marker that is missing, garbled, forged or old, falls back to reading the vault. Forging one only
// spares the forger's own backup: the marker can skip work, never make the edge restore or store anything.
import * as v from "valibot";
import { BackupMarkerSchema } from "../../schemas/loader";
import { bytesToBase64url } from "../shared/base64url";
import type { Site } from "../shared/site";
import { BACKUP_MARKER, edgeSetCookie, volatileCookie } from "./cookies";
import { VAULT_REFRESH_SECONDS, VAULT_TTL_SECONDS } from "./vault";

/**
 * A digest of `shown` (shownCookies: eligible name → the page's value, or null when only the Cookie header has it)
 * under the vault key, so a marker vouches only for its own container and identity. It covers every name, each
 * non-volatile value and whether the page could read the name (a value only the Cookie header carried was never
 * backed up, so the page sending it later must be merged). SHA-256 from the runtime's native `crypto.subtle`, cut to
 * 96 bits: native code over a few hundred bytes, no hand-written 64-bit arithmetic (which an FNV-1a-64 in JS would
 * need), and no accidental collision, so a matching digest means the same cookies.
 */
export async function backupDigest(key: string, shown: Map<string, string | null>): Promise<string> {
  const entries = [...shown.keys()].sort().map((name) => {
    const value = shown.get(name) ?? null;
    return [name, value !== null && volatileCookie(name) ? 0 : value];
  });
  const bytes = new TextEncoder().encode(JSON.stringify([key, entries]));
  return bytesToBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).subarray(0, 12));
}

/**
 * True when the marker the browser sent vouches for a backup that holds exactly what it shows now (same `digest`)
 * and is not due for its refresh. The savedAt must not lie in the future either (no marker the edge set does).
 */
export function markerVouches(cookie: string | undefined, digest: string, nowSeconds: number): boolean {
  if (cookie === undefined) return false;
  const marker = v.safeParse(BackupMarkerSchema, cookie);
  if (!marker.success) return false;
  const age = nowSeconds - marker.output.savedAt;
  return marker.output.digest === digest && age >= 0 && age < VAULT_REFRESH_SECONDS;
}

/**
 * Set by the edge only, with the FPID's Domain rule and the vault's lifetime; HttpOnly, since page scripts have no
 * use for it; Secure when the request came over https (a local http run keeps it too).
 */
export function markerSetCookie(savedAt: number, digest: string, site: Pick<Site, "publicHost" | "config" | "url">): string {
  return edgeSetCookie(BACKUP_MARKER, `${savedAt}.${digest}`, VAULT_TTL_SECONDS, site, {
    secure: site.url.protocol === "https:",
    httpOnly: true,
  });
}
