// Refused operator calls (400, 401, 403, 404) are limited per caller: per API key once it is verified, per client
// address otherwise (a wrong or missing credential, whatever key id it names). Past the REFUSED_CALLS rate limiter's
// limit (wrangler.control.jsonc: 30 a minute) the answer is 429 with Retry-After and no audit row, and this isolate
// answers the caller's next calls with 429 before verifying anything, so a flood costs neither audit rows nor
// OperatorAccess round trips. The admin token is not limited: it is the platform's own and can do everything anyway.
import { jsonResponse } from "../shared/errors";
import type { OperatorRequest } from "./access";

const REFUSED = new Set([400, 401, 403, 404]);
/** The limiter's period (seconds): a caller past the limit waits this long. */
const RETRY_AFTER_SECONDS = 60;
/** In-isolate memory of callers past the limit; cleared when it grows this large (each entry expires anyway). */
const MAX_BLOCKED = 10_000;
const blockedUntil = new Map<string, number>();

const PRESENTED_KEY_ID = /^Bearer qxk_([0-9a-f]{16})_/;

function clientKey(request: Request): string {
  return `client:${request.headers.get("CF-Connecting-IP") ?? "unknown"}`;
}

/** Who a refusal is counted against; null for the admin token. */
function callerKey(request: OperatorRequest): string | null {
  const principal = request.principal;
  if (principal?.kind === "admin") return null;
  if (principal?.kind === "key") return `key:${principal.key.id}`;
  if (principal?.kind === "webhook") return "webhook";
  return clientKey(request);
}

function tooMany(): Response {
  return jsonResponse(
    { error: "too_many_refusals", message: `too many refused calls from this caller; retry after ${RETRY_AFTER_SECONDS} seconds` },
    429,
    { "Retry-After": String(RETRY_AFTER_SECONDS) },
  );
}

function blocked(key: string, now: number): boolean {
  const until = blockedUntil.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  blockedUntil.delete(key);
  return false;
}

/** Before authentication: 429 for a caller this isolate already found past the limit, else nothing. */
export function refusedTooOften(request: Request): Response | undefined {
  const now = Date.now();
  const presented = PRESENTED_KEY_ID.exec(request.headers.get("Authorization") ?? "")?.[1];
  if (blocked(clientKey(request), now) || (presented !== undefined && blocked(`key:${presented}`, now))) return tooMany();
  return undefined;
}

/** A router `finally` step: counts a refused answer against its caller, and turns it into 429 past the limit. */
export async function limitRefusals(response: Response, request: OperatorRequest, env: Env): Promise<Response> {
  if (!REFUSED.has(response.status)) return response;
  const key = callerKey(request);
  // `wrangler dev -c wrangler.jsonc -c wrangler.control.jsonc` (the local run, wrangler 4.86) gives the session's
  // second Worker no rate-limit bindings at all; every refusal there would otherwise be a 500. Deployed, it is bound.
  if (key === null || env.REFUSED_CALLS === undefined) return response;
  const { success } = await env.REFUSED_CALLS.limit({ key });
  if (success) return response;
  if (blockedUntil.size >= MAX_BLOCKED) blockedUntil.clear();
  blockedUntil.set(key, Date.now() + RETRY_AFTER_SECONDS * 1000);
  return tooMany();
}
