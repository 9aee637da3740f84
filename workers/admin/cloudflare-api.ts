// Cloudflare's custom hostname API (Cloudflare for SaaS) for the control Worker, through the official SDK
// (cloudflare-typescript): the SaaS zone's /zones/{CF_ZONE_ID}/custom_hostnames endpoints with the API token
// CF_API_TOKEN, at CF_API_BASE. Only the custom hostnames resource is loaded (`cloudflare/tree-shakable`), so the
// control bundle does not carry the whole API (docs/custom-domains.md has the size). The SDK unwraps the v4
// envelope, pages lists and retries 5xx with backoff; each answer is still validated (schemas/cloudflare.ts) before
// anything is read from it. Failures become one EdgeError the operator can act on, with Cloudflare's own error codes;
// the token is only ever placed in the Authorization header, never in a message or a log line.
import { APIConnectionError, APIError } from "cloudflare/error";
import { BaseCustomHostnames } from "cloudflare/resources/custom-hostnames/custom-hostnames";
import { createClient } from "cloudflare/tree-shakable";
import * as v from "valibot";
import { type CustomHostname, CustomHostnameSchema } from "../../schemas/cloudflare";
import { describeIssues } from "../../schemas/issues";
import { EdgeError } from "../shared/errors";

type CloudflareEnv = Pick<Env, "CF_API_TOKEN" | "CF_ZONE_ID" | "CF_API_BASE" | "SAAS_CNAME_TARGET">;

/** An operator call waits for Cloudflare at most this long per attempt, so a stuck API cannot hold a request open. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Cloudflare's "Duplicate custom hostname found." (409), from the custom hostname status codes reference. */
const DUPLICATE_HOSTNAME = 1406;

/**
 * TXT domain control validation: the customer publishes the ownership and certificate TXT records together with the
 * CNAME, and Cloudflare can issue the certificate before the CNAME points at us (pre-validation). A tracking domain
 * that is already live elsewhere (another sGTM host, Stape) therefore moves without minutes of broken HTTPS, which
 * HTTP validation would cost, since it needs the CNAME in place first. Renewals of a proxied, non-wildcard hostname
 * are validated over HTTP by Cloudflare itself, so the TXT records are needed once.
 */
const SSL_REQUEST = { method: "txt", type: "dv", settings: { min_tls_version: "1.2" } } as const;

export interface CustomHostnamesApi {
  /** Creates the hostname; null when Cloudflare already has one for `host` (1406). */
  create(host: string): Promise<CustomHostname | null>;
  /** The zone's custom hostname for `host`, or null (GET ?hostname=). */
  find(host: string): Promise<CustomHostname | null>;
  /** Null when Cloudflare no longer has it. */
  get(id: string): Promise<CustomHostname | null>;
  /** Sends the same SSL settings again, which asks Cloudflare to re-run validation (PATCH). */
  revalidate(id: string): Promise<CustomHostname>;
  /** Deletes the custom hostname and its certificate; one already gone counts as deleted. */
  remove(id: string): Promise<void>;
  /** Requests left in Cloudflare's current rate-limit window as its last answer said (`Ratelimit: …;r=N`), or null. */
  remaining(): number | null;
}

/** The settings custom hostnames need, or the name of the first one missing. */
export function missingSetting(env: CloudflareEnv): string | null {
  if (!env.CF_API_TOKEN) return "the secret CF_API_TOKEN";
  if (!env.CF_ZONE_ID) return "the var CF_ZONE_ID";
  if (!env.SAAS_CNAME_TARGET) return "the var SAAS_CNAME_TARGET";
  return null;
}

export function customHostnamesApi(env: CloudflareEnv): CustomHostnamesApi {
  const missing = missingSetting(env);
  if (missing) throw new EdgeError(503, "custom_hostnames_not_configured", `custom hostnames need ${missing}`);
  let remaining: number | null = null;
  const client = createClient({
    apiToken: env.CF_API_TOKEN,
    baseURL: env.CF_API_BASE || undefined,
    timeout: REQUEST_TIMEOUT_MS,
    maxRetries: 2,
    logLevel: "off",
    resources: [BaseCustomHostnames],
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const left = /;\s*r=(\d+)/.exec(response.headers.get("ratelimit") ?? "");
      if (left) remaining = Number(left[1]);
      return response.status === 429 || response.status === 409 ? notRetried(response) : response;
    },
  });
  const hostnames = client.customHostnames;
  const zone = { zone_id: env.CF_ZONE_ID };

  async function call<T>(what: string, request: () => PromiseLike<T>, notFoundIsNull = false): Promise<T | null> {
    try {
      return await request();
    } catch (error) {
      if (notFoundIsNull && error instanceof APIError && error.status === 404) return null;
      throw asEdgeError(error, what);
    }
  }

  return {
    async create(host) {
      try {
        return hostname(await hostnames.create({ ...zone, hostname: host, ssl: SSL_REQUEST }), "POST custom_hostnames");
      } catch (error) {
        if (error instanceof APIError && error.errors.some((e) => e.code === DUPLICATE_HOSTNAME)) return null;
        throw error instanceof EdgeError ? error : asEdgeError(error, "POST custom_hostnames");
      }
    },
    async find(host) {
      const found = await call("GET custom_hostnames", async () => {
        // The filter is documented as a match on the hostname; only an exact one is ours.
        for await (const entry of hostnames.list({ ...zone, hostname: { exact: host } })) if (entry.hostname === host) return entry;
        return null;
      });
      return found ? hostname(found, "GET custom_hostnames") : null;
    },
    async get(id) {
      const found = await call("GET custom_hostnames", () => hostnames.get(id, zone), true);
      return found ? hostname(found, "GET custom_hostnames") : null;
    },
    async revalidate(id) {
      return hostname(
        await call("PATCH custom_hostnames", () => hostnames.edit(id, { ...zone, ssl: SSL_REQUEST })),
        "PATCH custom_hostnames",
      );
    },
    async remove(id) {
      // Cloudflare answers a bare {"id": …} without the envelope; the SDK hands it over as it is, and it means done.
      await call("DELETE custom_hostnames", () => hostnames.delete(id, zone), true);
    },
    remaining: () => remaining,
  };
}

function hostname(result: unknown, what: string): CustomHostname {
  const parsed = v.safeParse(CustomHostnameSchema, result);
  if (!parsed.success) {
    throw new EdgeError(
      502,
      "cloudflare_bad_response",
      `Cloudflare's API answered ${what} with an unexpected custom hostname: ${describeIssues(parsed.issues)}`,
    );
  }
  return parsed.output;
}

/**
 * Answers the SDK would retry but that retrying cannot fix, so it is told not to (it obeys `x-should-retry`): a 429
 * means the token is blocked for five minutes (1,200 requests per five minutes per user,
 * developers.cloudflare.com/fundamentals/api/reference/limits/), and a 409 (1406, a duplicate hostname) stays one.
 */
function notRetried(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("x-should-retry", "false");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** What went wrong, as one EdgeError, without anything from the request (its headers hold the token). */
function asEdgeError(error: unknown, what: string): EdgeError {
  if (error instanceof EdgeError) return error;
  if (error instanceof APIError && error.status !== undefined) {
    if (error.status === 429) {
      const after = error.headers?.get("retry-after") ?? "300";
      return new EdgeError(503, "cloudflare_rate_limited", `Cloudflare's API is rate-limiting the token (${what}); retry after ${after} s`);
    }
    const reasons = error.errors.map((e) => `${e.code ?? "?"} ${e.message ?? ""}`.trim()).join("; ") || "no error given";
    return new EdgeError(502, "cloudflare_api_error", `Cloudflare's API refused ${what} (HTTP ${error.status}): ${reasons}`);
  }
  const name = error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
  if (error instanceof APIConnectionError) {
    return new EdgeError(502, "cloudflare_unreachable", `Cloudflare's API could not be reached (${what})`, name);
  }
  return new EdgeError(502, "cloudflare_bad_response", `Cloudflare's API answered ${what} with something unreadable`, name);
}
