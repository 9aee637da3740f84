// Cloudflare's custom hostname API (Cloudflare for SaaS) for the control Worker: the SaaS zone's
// /zones/{CF_ZONE_ID}/custom_hostnames endpoints with the API token CF_API_TOKEN. Every answer is the v4 envelope
// { success, errors, messages, result } and is validated (schemas/cloudflare.ts) before anything is read from it.
// Failures become one EdgeError the operator can act on (502 with Cloudflare's own error codes and messages); the
// token is only ever placed in the Authorization header, never in a message or a log line.
import * as v from "valibot";
import { CloudflareEnvelopeSchema, type CustomHostname, CustomHostnameListSchema, CustomHostnameSchema } from "../../schemas/cloudflare";
import { describeIssues } from "../../schemas/issues";
import { EdgeError } from "../shared/errors";

type CloudflareEnv = Pick<Env, "CF_API_TOKEN" | "CF_ZONE_ID" | "CF_API_BASE" | "SAAS_CNAME_TARGET">;

const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";

/** An operator call waits for Cloudflare at most this long, so a stuck API cannot hold a request open. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * TXT domain control validation: the customer publishes the ownership and certificate TXT records together with the
 * CNAME, and Cloudflare can issue the certificate before the CNAME points at us (pre-validation). A tracking domain
 * that is already live elsewhere (another sGTM host, Stape) therefore moves without minutes of broken HTTPS, which
 * HTTP validation would cost, since it needs the CNAME in place first. Renewals of a proxied, non-wildcard hostname
 * are validated over HTTP by Cloudflare itself, so the TXT records are needed once.
 */
const SSL_REQUEST = { method: "txt", type: "dv", settings: { min_tls_version: "1.2" } } as const;

export interface CustomHostnamesApi {
  /** The zone's custom hostname for `host`, or null (GET ?hostname=). */
  find(host: string): Promise<CustomHostname | null>;
  create(host: string): Promise<CustomHostname>;
  /** Null when Cloudflare no longer has it. */
  get(id: string): Promise<CustomHostname | null>;
  /** Sends the same SSL settings again, which asks Cloudflare to re-run validation (PATCH). */
  revalidate(id: string): Promise<CustomHostname>;
  /** Deletes the custom hostname and its certificate; one already gone counts as deleted. */
  remove(id: string): Promise<void>;
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
  const base = `${(env.CF_API_BASE || DEFAULT_API_BASE).replace(/\/+$/, "")}/zones/${encodeURIComponent(env.CF_ZONE_ID)}/custom_hostnames`;

  async function call(method: string, path: string, body?: unknown, notFoundIsNull = false): Promise<unknown> {
    const what = `${method} custom_hostnames`;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${env.CF_API_TOKEN}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new EdgeError(502, "cloudflare_unreachable", `Cloudflare's API could not be reached (${what})`, errorName(error));
    }
    let parsed: v.InferOutput<typeof CloudflareEnvelopeSchema>;
    try {
      parsed = v.parse(CloudflareEnvelopeSchema, await response.json());
    } catch (error) {
      throw new EdgeError(
        502,
        "cloudflare_bad_response",
        `Cloudflare's API answered ${what} with HTTP ${response.status} and no API envelope`,
        errorName(error),
      );
    }
    if (response.status === 404 && notFoundIsNull) return null;
    if (!response.ok || !parsed.success) {
      const reasons = parsed.errors.map((e) => `${e.code ?? "?"} ${e.message ?? ""}`.trim()).join("; ") || "no error given";
      throw new EdgeError(
        502,
        "cloudflare_api_error",
        `Cloudflare's API refused ${what} (HTTP ${response.status}): ${reasons}`,
        `HTTP ${response.status}`,
      );
    }
    return parsed.result;
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

  return {
    async find(host) {
      const result = await call("GET", `?hostname=${encodeURIComponent(host)}`);
      const parsed = v.safeParse(CustomHostnameListSchema, result);
      if (!parsed.success) {
        throw new EdgeError(
          502,
          "cloudflare_bad_response",
          `Cloudflare's API answered GET custom_hostnames with an unexpected list: ${describeIssues(parsed.issues)}`,
        );
      }
      // The filter is documented as a match on the hostname; only an exact one is ours.
      return parsed.output.find((entry) => entry.hostname === host) ?? null;
    },
    async create(host) {
      return hostname(await call("POST", "", { hostname: host, ssl: SSL_REQUEST }), "POST custom_hostnames");
    },
    async get(id) {
      const result = await call("GET", `/${encodeURIComponent(id)}`, undefined, true);
      return result === null ? null : hostname(result, "GET custom_hostnames");
    },
    async revalidate(id) {
      return hostname(await call("PATCH", `/${encodeURIComponent(id)}`, { ssl: SSL_REQUEST }), "PATCH custom_hostnames");
    },
    async remove(id) {
      await call("DELETE", `/${encodeURIComponent(id)}`, undefined, true);
    },
  };
}

/** What went wrong with fetch or JSON, without anything from the request (its headers hold the token). */
function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
}
