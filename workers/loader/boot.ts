// POST /boot: cookie restoration. The browser sends the listed cookies its page can see; the edge keeps a backup per
// FPID (the long-lived, server-set, HttpOnly id) and answers with the backed-up cookies the browser has lost.
import { moduleActive } from "../../schemas/edge-config";
import { BootBodySchema, type BootResponse } from "../../schemas/loader";
import { readJsonBody } from "../shared/body";
import { jsonResponse } from "../shared/errors";
import type { Site } from "../shared/site";
import {
  backupEligible,
  cookieMaxAgeSeconds,
  FPID,
  fpidSetCookie,
  newFpid,
  parseCookieHeader,
  usableFpid,
} from "./cookies";
import { readVault, vaultKey, vaultNeedsWrite, writeVault } from "./vault";

const NOTHING: BootResponse = { restoreCookies: [] };

export async function handleBoot(request: Request, env: Env, ctx: ExecutionContext, site: Site): Promise<Response> {
  const { cookies: sent } = await readJsonBody(request, BootBodySchema);
  const { config } = site;
  if (!moduleActive(config, "cookieRestoration")) return jsonResponse(NOTHING);

  const jar = parseCookieHeader(request.headers.get("Cookie"));
  const fpid = jar.get(FPID);
  if (!usableFpid(fpid)) {
    // A new id has no backup yet, and nothing is stored under it until the browser shows it keeps cookies by
    // sending it back: clients that drop cookies (most bots) then never cost a KV read or write.
    const headers = { "Set-Cookie": fpidSetCookie(newFpid(), site) };
    return jsonResponse(NOTHING, 200, headers);
  }

  const key = vaultKey(site.containerId, fpid);
  const stored = await readVault(env, key);
  const maxAge = cookieMaxAgeSeconds(config);
  const restoreCookies: BootResponse["restoreCookies"] = [];
  // No prototype: a cookie named like an Object.prototype member must stay a plain key.
  const next: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(stored?.cookies ?? {})) {
    // A name the container no longer lists is dropped from the backup, not restored.
    if (!backupEligible(name, config)) continue;
    next[name] = value;
    if (!Object.hasOwn(sent, name) && !jar.has(name)) restoreCookies.push({ name, value, maxAge });
  }
  for (const [name, value] of Object.entries(sent)) {
    if (backupEligible(name, config)) next[name] = value;
  }

  const now = Math.floor(Date.now() / 1000);
  if (vaultNeedsWrite(stored, next, now)) {
    // Off the response path: the page waits for /boot before loading GTM.
    ctx.waitUntil(
      writeVault(env, key, next, now).catch((error: unknown) =>
        console.error(JSON.stringify({ event: "cookie_vault_write_failed", containerId: site.containerId, error: String(error) })),
      ),
    );
  }
  return jsonResponse({ restoreCookies } satisfies BootResponse);
}
