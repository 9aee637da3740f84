// Who is calling the operator API, and what they may do. The admin token may do everything; an API key (created
// by the admin token) may read, or read and write, the containers it was created for. Keys are shown once and
// stored only as SHA-256: they are 256-bit random secrets, so a fast hash is enough (no password stretching).
import type { IRequest } from "itty-router";
import { type ApiKeyInfo, operatorAccess } from "../../durable/operator-access";
import type { ApiKeyCreate } from "../../schemas/admin";
import { secretsEqual } from "../shared/auth";
import { randomBase64url } from "../shared/base64url";
import { EdgeError } from "../shared/errors";

export type Principal = { kind: "admin" } | { kind: "key"; key: ApiKeyInfo } | { kind: "webhook" };

/** An operator request after authentication; handlers add what the audit log should say about it. */
export type OperatorRequest = IRequest & {
  principal?: Principal;
  audit?: { containerId?: string | null; detail?: string };
};

const KEY_PREFIX = "qxk_";
/** A key's public id: 8 random bytes as hex (what the audit log and DELETE /_edge/admin/keys/:keyId name). */
const KEY_ID = "[0-9a-f]{16}";
const KEY_ID_PATTERN = new RegExp(`^${KEY_ID}$`);
/** `qxk_<id>_<secret>`: the secret is 32 random bytes as base64url. */
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}(${KEY_ID})_[A-Za-z0-9_-]{43}$`);

export function isKeyId(id: string): boolean {
  return KEY_ID_PATTERN.test(id);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `Authorization: Bearer <ADMIN_TOKEN | API key>` → request.principal; 401 when neither matches. */
export async function authenticate(request: OperatorRequest, env: Env): Promise<void> {
  const header = request.headers.get("Authorization");
  const token = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : null;
  if (token?.startsWith(KEY_PREFIX)) {
    const match = KEY_PATTERN.exec(token);
    const key = match ? await operatorAccess(env).verifyKey(match[1]!, await sha256Hex(token)) : null;
    if (!key) throw new EdgeError(401, "unauthorized", "unknown or revoked API key");
    request.principal = { kind: "key", key };
    return;
  }
  // An unset ADMIN_TOKEN must never let an empty credential through.
  if (!env.ADMIN_TOKEN || token === null || !(await secretsEqual(token, env.ADMIN_TOKEN))) {
    throw new EdgeError(401, "unauthorized", "missing or wrong bearer token");
  }
  request.principal = { kind: "admin" };
}

/**
 * Throws 403 unless the caller may do this. `containers`: the ids the request touches, "*" for every container
 * (a report without a container filter, a replay of all), or "admin" for the admin token only (keys, audit).
 */
export function authorize(request: OperatorRequest, access: "read" | "write", containers: readonly string[] | "*" | "admin"): void {
  const principal = request.principal;
  if (principal?.kind === "admin") return;
  if (principal?.kind !== "key") throw new EdgeError(403, "forbidden", "this endpoint needs the admin token");
  const { key } = principal;
  if (containers === "admin") throw new EdgeError(403, "forbidden", `API key "${key.name}" may not do this: it needs the admin token`);
  if (access === "write" && key.access !== "write") {
    throw new EdgeError(403, "forbidden", `API key "${key.name}" is read-only`);
  }
  if (key.containers === "*") return;
  if (containers === "*") {
    throw new EdgeError(
      403,
      "forbidden",
      `API key "${key.name}" is limited to ${key.containers.join(", ")}: name one of them (e.g. ?container=${key.containers[0]})`,
    );
  }
  const outside = containers.filter((id) => !key.containers.includes(id));
  if (outside.length > 0)
    throw new EdgeError(403, "forbidden", `API key "${key.name}" may not ${access === "write" ? "change" : "read"} ${outside.join(", ")}`);
}

/**
 * The containers the caller may read, for lists that cover "every container" (containers, alerts, fleet): "*" for
 * the admin token and unscoped keys, else the key's own list. A scoped key sees its part, never a 403 with a hint.
 */
export function readScope(request: OperatorRequest): readonly string[] | "*" {
  const principal = request.principal;
  if (principal?.kind === "admin") return "*";
  if (principal?.kind !== "key") throw new EdgeError(403, "forbidden", "this endpoint needs the admin token");
  return principal.key.containers;
}

/** Makes a key (`qxk_<id>_<secret>`), stores its hash, and returns it with its scope: the only time it is shown. */
export async function createApiKey(env: Env, body: ApiKeyCreate): Promise<ApiKeyInfo & { key: string }> {
  const id = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = `${KEY_PREFIX}${id}_${randomBase64url(32)}`;
  const info = await operatorAccess(env).createKey(id, await sha256Hex(key), body.name, body.containers, body.access);
  return { ...info, key };
}

/** The actor as the audit log names it. */
export function actorOf(principal: Principal): { actor: string; keyName: string | null } {
  if (principal.kind === "key") return { actor: `key:${principal.key.id}`, keyName: principal.key.name };
  return { actor: principal.kind, keyName: null };
}
