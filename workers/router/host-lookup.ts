// Cached KV lookups for host resolution. Every request needs one, so they sit behind the same in-isolate TTL as
// configs (CONFIG_CACHE_TTL_MS): a warm request reads no KV at all. Misses are cached too (as null), so a flood of
// requests for an unknown host does not become a flood of KV reads.
// Concurrent cold lookups are deliberately not merged into one shared promise (see TtlCache.getOrLoad): the
// benchmark hit workerd's "Cannot perform I/O on behalf of a different request" when they were.
import { cacheTtlMs } from "../shared/config-store";
import { TtlCache } from "../shared/ttl-cache";

type LookupEnv = Pick<Env, "ROUTING_MAP" | "SITE_REGISTRY" | "CONFIG_CACHE_TTL_MS">;

const routes = new TtlCache<string | null>();
const registry = new TtlCache<string | null>();

/**
 * The container serving `host` as a whole: ROUTING_MAP (infra hosts) first, then SITE_REGISTRY (a customer CNAME
 * straight to the edge). Both maps are read at once on a miss so a public host costs one round trip, not two.
 */
export function containerForHost(env: LookupEnv, host: string): string | null | Promise<string | null> {
  return routes.getOrLoad(host, cacheTtlMs(env), async () => {
    const [infra, site] = await Promise.all([env.ROUTING_MAP.get(host), env.SITE_REGISTRY.get(host)]);
    return infra ?? site;
  });
}

/** SITE_REGISTRY alone: `host` or `host/prefix` keys (X-Public-Host checks and same-origin mounts). */
export function containerForPublicHost(env: LookupEnv, key: string): string | null | Promise<string | null> {
  return registry.getOrLoad(key, cacheTtlMs(env), () => env.SITE_REGISTRY.get(key));
}
