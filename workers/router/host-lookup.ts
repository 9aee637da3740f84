// Host lookups for routing, behind the isolate and location caches (../shared/location-cache.ts), misses included:
// a warm request reads no KV, and a flood of requests for an unknown host is not a flood of KV reads.
import { containerIdOrNull, LocationCache, type LocationEnv } from "../shared/location-cache";

type LookupEnv = LocationEnv & Pick<Env, "ROUTING_MAP" | "SITE_REGISTRY">;

/**
 * ROUTING_MAP (infra hosts) first, then SITE_REGISTRY (a customer CNAME straight to the edge). Both maps are read at
 * once on a miss so a public host costs one round trip, not two.
 */
const routes = new LocationCache<string | null, LookupEnv>({
  kind: "host",
  parse: containerIdOrNull,
  load: async (env, host) => {
    const [infra, site] = await Promise.all([env.ROUTING_MAP.get(host), env.SITE_REGISTRY.get(host)]);
    return infra ?? site;
  },
});

const registry = new LocationCache<string | null, LookupEnv>({
  kind: "site",
  parse: containerIdOrNull,
  load: (env, key) => env.SITE_REGISTRY.get(key),
});

/** The container serving `host` as a whole. */
export function containerForHost(env: LookupEnv, host: string): string | null | Promise<string | null> {
  return routes.get(env, host);
}

/** SITE_REGISTRY alone: `host` or `host/prefix` keys (X-Public-Host checks and same-origin mounts). */
export function containerForPublicHost(env: LookupEnv, key: string): string | null | Promise<string | null> {
  return registry.get(env, key);
}
