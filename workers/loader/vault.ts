// COOKIE_VAULT access: `<containerId>:<fpid>` → { cookies, savedAt }. KV charges per write and allows one write per
// second per key, so a user's backup is written only when its content changed (or to keep an unchanged one alive);
// a change of only a volatile value (GA4's session cookie, cookies.ts) is not a change worth a write.
import * as v from "valibot";
import { type VaultValue, VaultValueSchema } from "../../schemas/loader";
import { DAY_SECONDS, volatileCookie } from "./cookies";

/** KV drops an entry nobody refreshed for this long: a little past the 400-day browser cookie cap. */
export const VAULT_TTL_SECONDS = 400 * DAY_SECONDS;
/** An unchanged backup is rewritten after this long, so a loyal user's entry never reaches its TTL. */
export const VAULT_REFRESH_SECONDS = 30 * DAY_SECONDS;

export function vaultKey(containerId: string, fpid: string): string {
  return `${containerId}:${fpid}`;
}

/** The stored backup, or null when there is none or it is unreadable (then the next write replaces it). */
export async function readVault(env: Pick<Env, "COOKIE_VAULT">, key: string): Promise<VaultValue | null> {
  const raw = await env.COOKIE_VAULT.get(key, "json");
  if (raw === null) return null;
  const parsed = v.safeParse(VaultValueSchema, raw);
  if (parsed.success) return parsed.output;
  console.error(JSON.stringify({ event: "cookie_vault_invalid", key: key.slice(0, key.indexOf(":")) }));
  return null;
}

/** The same names, and the same values except volatile ones. */
function sameBackup(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((name) => Object.hasOwn(b, name) && (volatileCookie(name) || b[name] === a[name]))
  );
}

/**
 * True when `next` must be written over `stored`: a new or removed name, a changed non-volatile value, or an entry
 * due for its refresh (which also stores the volatile values as they are now).
 */
export function vaultNeedsWrite(stored: VaultValue | null, next: Record<string, string>, nowSeconds: number): boolean {
  if (stored === null) return Object.keys(next).length > 0;
  return !sameBackup(stored.cookies, next) || nowSeconds - stored.savedAt >= VAULT_REFRESH_SECONDS;
}

export async function writeVault(
  env: Pick<Env, "COOKIE_VAULT">,
  key: string,
  cookies: Record<string, string>,
  nowSeconds: number,
): Promise<void> {
  const value: VaultValue = { cookies, savedAt: nowSeconds };
  await env.COOKIE_VAULT.put(key, JSON.stringify(value), { expirationTtl: VAULT_TTL_SECONDS });
}
