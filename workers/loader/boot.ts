// POST /boot, once per page view: keeps the `_sid` session cookie and, when cookie restoration is active, the cookie
// backup. The browser sends the listed cookies its page can see; the edge keeps a backup per identity cookie (FPID,
// the long-lived, server-set, HttpOnly id, or the site's own `identityCookie`) and answers with the backed-up cookies
// the browser has lost. The backup marker (backup-marker.ts) spares the vault read when the browser shows exactly
// what the backup holds.
import { type EdgeConfig, moduleActive } from "../../schemas/edge-config";
import { BootBodySchema, type BootResponse } from "../../schemas/loader";
import { readJsonBody } from "../shared/body";
import { jsonResponse } from "../shared/errors";
import type { Site } from "../shared/site";
import { backupDigest, markerSetCookie, markerVouches } from "./backup-marker";
import {
  BACKUP_MARKER,
  backupEligible,
  cookieMaxAgeSeconds,
  edgeIssuesIdentity,
  fpidSetCookie,
  IDENTITY_PROOF,
  newFpid,
  parseCookieHeader,
  shownCookies,
  usableIdentity,
} from "./cookies";
import { identityProofSetCookie, identityVouched } from "./identity-proof";
import { currentSession, SESSION_COOKIE, sessionSetCookie } from "./session";
import { readVault, vaultKey, vaultNeedsWrite, writeVault } from "./vault";

export async function handleBoot(request: Request, env: Env, ctx: ExecutionContext, site: Site): Promise<Response> {
  const { cookies: sent } = await readJsonBody(request, BootBodySchema);
  const { config } = site;
  const jar = parseCookieHeader(request.headers.get("Cookie"));
  const sessionId = await currentSession(env, site.containerId, jar.get(SESSION_COOKIE));
  const headers = new Headers({ "Set-Cookie": sessionSetCookie(sessionId, site) });
  const answer = (restoreCookies: BootResponse["restoreCookies"]) =>
    jsonResponse({ restoreCookies, sessionId } satisfies BootResponse, 200, headers);

  if (!moduleActive(config, "cookieRestoration")) return answer([]);
  const identity = jar.get(config.identityCookie);
  if (!usableIdentity(identity)) {
    // A new id has no backup yet, and nothing is stored under it until the browser shows it keeps cookies by
    // sending it back: clients that drop cookies (most bots) then never cost a KV read or write. A site-set identity
    // is the site's to issue; until its server has set one there is nothing to key a backup by.
    if (edgeIssuesIdentity(config)) {
      const fpid = newFpid();
      headers.append("Set-Cookie", fpidSetCookie(fpid, site));
      headers.append("Set-Cookie", await identityProofSetCookie(env, fpid, site));
    }
    return answer([]);
  }
  // Only an identity this edge issued or saw set (identity-proof.ts) gets a backup: an invented one costs no KV
  // call. A site-set identity the edge has not seen yet gets its proof now and its first backup when it comes back.
  if (!(await identityVouched(env, site.containerId, identity, jar.get(IDENTITY_PROOF)))) {
    if (!edgeIssuesIdentity(config)) headers.append("Set-Cookie", await identityProofSetCookie(env, identity, site));
    return answer([]);
  }

  const key = vaultKey(site.containerId, identity);
  const shown = shownCookies(sent, jar, config);
  const digest = await backupDigest(key, shown);
  const now = Math.floor(Date.now() / 1000);
  // Nothing lost, nothing new to back up, and no refresh due: no KV read, and the marker stays as it is.
  if (markerVouches(jar.get(BACKUP_MARKER), digest, now)) return answer([]);

  const { restoreCookies, savedAt } = await restore(env, ctx, site, config, key, shown, now);
  // The marker describes the browser once the script has written the restored cookies back.
  for (const { name, value } of restoreCookies) shown.set(name, value);
  const after = restoreCookies.length > 0 ? await backupDigest(key, shown) : digest;
  headers.append("Set-Cookie", markerSetCookie(savedAt, after, site));
  return answer(restoreCookies);
}

/**
 * Merges the shown cookies into the backup (written off the response path) and lists the ones the browser lost.
 * `savedAt` is the backup's as it now stands: now when written, else the stored one (now when there is none).
 */
async function restore(
  env: Env,
  ctx: ExecutionContext,
  site: Site,
  config: EdgeConfig,
  key: string,
  shown: Map<string, string | null>,
  now: number,
): Promise<{ restoreCookies: BootResponse["restoreCookies"]; savedAt: number }> {
  const stored = await readVault(env, key);
  const maxAge = cookieMaxAgeSeconds(config);
  const restoreCookies: BootResponse["restoreCookies"] = [];
  // No prototype: a cookie named like an Object.prototype member must stay a plain key.
  const next: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(stored?.cookies ?? {})) {
    // A name the container no longer lists is dropped from the backup, not restored.
    if (!backupEligible(name, config)) continue;
    next[name] = value;
    if (!shown.has(name)) restoreCookies.push({ name, value, maxAge });
  }
  // Only values the page sent are backed up; a name only the Cookie header carries just counts as present.
  for (const [name, value] of shown) if (value !== null) next[name] = value;

  if (!vaultNeedsWrite(stored, next, now)) return { restoreCookies, savedAt: stored?.savedAt ?? now };
  // Off the response path: the page waits for /boot before loading GTM.
  ctx.waitUntil(
    writeVault(env, key, next, now).catch((error: unknown) =>
      console.error(JSON.stringify({ event: "cookie_vault_write_failed", containerId: site.containerId, error: String(error) })),
    ),
  );
  return { restoreCookies, savedAt: now };
}
