// Drives the Cloudflare API stand-in (cloudflare-api-stand-in.mjs) over HTTP from Workers-runtime tests: the control
// Worker's env pointed at one tenant, moving a hostname through Cloudflare's states, a failure for the next request,
// and the requests the code under test made. One tenant per test.
import { env } from "cloudflare:workers";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    cloudflareStandInUrl: string;
    hostnameScale: number;
  }
}

/** Mirror STAND_IN_CF_TOKEN and STAND_IN_ZONE_ID in cloudflare-api-stand-in.global.mjs (not read by the type checker). */
export const STAND_IN_CF_TOKEN = "stand-in-cf-api-token-5f1d";
export const STAND_IN_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
export const SAAS_TARGET = "fallback.saas.qaxal.example";

interface RecordedCloudflareRequest {
  method: string;
  /** The tenant's clock (epoch ms) when it arrived, and the HTTP status it got. */
  at: number;
  status: number;
  /** From the API base's host on, e.g. /client/v4/zones/<zone>/custom_hostnames. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

/** The parts of Cloudflare's custom hostname object the tests look at. */
interface StandInHostname {
  id: string;
  hostname: string;
  status: string;
  verification_errors: string[];
  ownership_verification?: { type: string; name: string; value: string };
  ssl: {
    status: string;
    method: string;
    validation_records?: { txt_name: string; txt_value: string }[];
    validation_errors: { message: string }[];
  };
}

export interface HostnameChange {
  status?: string;
  verification_errors?: string[];
  ssl?: { status?: string; validation_errors?: { message: string }[] };
}

/** How the tenant behaves: when TXT tokens appear, when a hostname validates by itself (null: never), the rate limit. */
export interface TenantConfig {
  tokensAfterMs?: number;
  activateAfterMs?: number | [number, number] | null;
  limit?: number;
}

export function cloudflareTenant(name: string) {
  const base = inject("cloudflareStandInUrl");
  const tenant = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const controlUrl = `${base}/__stand-in/t/${tenant}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${controlUrl}${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`stand-in ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    /** The control Worker's env with custom hostnames configured against this tenant. */
    env: {
      ...env,
      CF_API_TOKEN: STAND_IN_CF_TOKEN,
      CF_ZONE_ID: STAND_IN_ZONE_ID,
      CF_API_BASE: `${base}/t/${tenant}/client/v4` as Env["CF_API_BASE"],
      SAAS_CNAME_TARGET: SAAS_TARGET,
    } satisfies Env,
    /** Moves a hostname to Cloudflare statuses, as Cloudflare would once the customer's DNS is (or is not) in place. */
    setState: (hostname: string, change: HostnameChange) =>
      call("PATCH", `/hostnames/${encodeURIComponent(hostname)}`, change) as Promise<StandInHostname>,
    /** The next API request (with `match`: the next whose path contains it) answers this status and these errors. */
    failNext: (status: number, errors: { code: number; message: string }[], match?: string) =>
      call("POST", "/fail-next", { status, errors, match }),
    hostnames: () => call("GET", "/hostnames") as Promise<StandInHostname[]>,
    /** Moves this tenant's clock on (token delays, validation, the rate-limit window). */
    advanceClock: (ms: number) => call("POST", "/clock", { advanceMs: ms }) as Promise<{ now: number }>,
    now: () => (call("GET", "/clock") as Promise<{ now: number }>).then((clock) => clock.now),
    configure: (config: TenantConfig) => call("POST", "/config", config),
    requests: () => call("GET", "/requests") as Promise<RecordedCloudflareRequest[]>,
  };
}
