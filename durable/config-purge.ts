// Invalidates the edge's per-location config cache (workers/shared/location-cache.ts) for exactly the KV keys a sync
// wrote or deleted, in every Cloudflare location.
// - Cache API entries live in the data center that stored them, and `cache.delete` removes them there only
//   (developers.cloudflare.com/workers/runtime-apis/cache/). Everywhere at once takes the zone's purge API, by
//   single-file URL (developers.cloudflare.com/cache/how-to/purge-cache/purge-by-single-file/): POST
//   /zones/{CF_ZONE_ID}/purge_cache {"files": [...]}, the official SDK's `client.cache.purge`. The URLs' host
//   (CONFIG_CACHE_HOST) must be on that zone; the token needs the "Cache Purge" permission.
// - Limits (developers.cloudflare.com/cache/how-to/purge-cache/#availability-and-limits): 800-3,000 URLs per second
//   per account, token bucket, 429 over it. URLs per request: the table says 100, but purge by URL still takes 30 on
//   Free/Pro/Business (500 on Enterprise; cloudflare/cloudflare-docs#21338 and #13619), so batches are 30. A change
//   purges 2 + 2 × hosts URLs, far below the rate; a refused batch is retried by ContainerState (purge-queue.ts).
// - Without CF_ZONE_ID, CF_API_TOKEN or CONFIG_CACHE_HOST (the local run, tests) the purge is `caches.default.delete`
//   of the same URLs: the local run has one location, shared by both Workers, so it shows the same effect.
import { BaseCache } from "cloudflare/resources/cache/cache";
import { createClient } from "cloudflare/tree-shakable";
import { type CacheKind, cacheKeyUrl } from "../workers/shared/location-cache";
import type { KvEntry } from "./kv-sync";

type PurgeEnv = Pick<Env, "CF_ZONE_ID" | "CF_API_TOKEN" | "CF_API_BASE" | "CONFIG_CACHE_HOST">;

/** Cloudflare's per-request limit for purge by URL on Free, Pro and Business (Enterprise: 500). */
export const PURGE_FILES_PER_REQUEST = 30;

/** A purge request waits for Cloudflare at most this long; a slow one is retried like a refused one. */
const PURGE_TIMEOUT_MS = 10_000;

/** Which cache entries a KV key feeds: a public host is both a host lookup and a public-host lookup. */
const ENTRIES: Record<KvEntry["map"], CacheKind[]> = {
  ROUTING_MAP: ["host"],
  SITE_REGISTRY: ["host", "site"],
  EDGE_CONFIG: ["config"],
  LOADER_TOKEN_MAP: ["token"],
};

/** The location cache URLs of the changed KV keys, each once. */
export function purgeUrls(env: Pick<Env, "CONFIG_CACHE_HOST">, changed: Pick<KvEntry, "map" | "key">[]): string[] {
  return [...new Set(changed.flatMap(({ map, key }) => ENTRIES[map].map((kind) => cacheKeyUrl(env, kind, key))))];
}

export function purgeByApi(env: PurgeEnv): boolean {
  return Boolean(env.CF_ZONE_ID && env.CF_API_TOKEN && env.CONFIG_CACHE_HOST);
}

/** Purges `urls` everywhere (or, without the API, in this location). Throws when Cloudflare refuses a batch. */
export async function purgeLocationCaches(env: PurgeEnv, urls: string[]): Promise<void> {
  if (!purgeByApi(env)) {
    await Promise.all(urls.map((url) => caches.default.delete(url)));
    return;
  }
  // Retries are ContainerState's (a pending purge stays due), so one slow API call never holds the sync chain long.
  const client = createClient({
    apiToken: env.CF_API_TOKEN,
    baseURL: env.CF_API_BASE || undefined,
    maxRetries: 0,
    timeout: PURGE_TIMEOUT_MS,
    resources: [BaseCache],
  });
  for (let i = 0; i < urls.length; i += PURGE_FILES_PER_REQUEST) {
    await client.cache.purge({ zone_id: env.CF_ZONE_ID, files: urls.slice(i, i + PURGE_FILES_PER_REQUEST) });
  }
}
