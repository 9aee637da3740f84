// Drives the purge API stand-in (cache-purge-stand-in.mjs) from Workers-runtime tests: the control Worker's env with
// the purge API pointed at one tenant, what was purged, and a failure for the next request. One tenant per test.
import { env } from "cloudflare:workers";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    cachePurgeStandInUrl: string;
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    cachePurgeStandInUrl: string;
  }
}

/** The control Worker's env with the purge API configured against one stand-in tenant. */
export function purgeTenant() {
  const base = inject("cachePurgeStandInUrl");
  const tenant = crypto.randomUUID().slice(0, 8);
  const control = (path: string, body?: unknown) =>
    fetch(`${base}/__stand-in/t/${tenant}/${path}`, { method: body === undefined ? "GET" : "POST", body: JSON.stringify(body) }).then(
      (res) => res.json(),
    );
  return {
    env: {
      ...env,
      CF_API_TOKEN: "stand-in-purge-token-7c2e",
      CF_ZONE_ID: "9a7806061c88ada191ed06f989cc3dac",
      CF_API_BASE: `${base}/t/${tenant}/client/v4` as Env["CF_API_BASE"],
      CONFIG_CACHE_HOST: "config-cache.qaxal.example" as Env["CONFIG_CACHE_HOST"],
    } satisfies Env,
    purged: () => control("purged") as Promise<string[][]>,
    failNext: (status: number) => control("fail-next", { status }),
  };
}
