// The per-location config cache: the Cache API (`caches.default`, shared by every isolate of a Cloudflare location and
// not billed) between each isolate's TtlCache and KV, for the four config maps. Entries live long
// (LOCATION_CACHE_TTL_MS, hours in production); the control Worker purges exactly the keys a sync wrote or deleted
// (durable/config-purge.ts), so a change does not wait for them to expire.
//
// What is cached, and what a miss costs (for the cost model):
//   entry   cache key path         value               KV reads when neither the isolate nor the location has it
//   host    /h/<host>              containerId | null  ROUTING_MAP[host] + SITE_REGISTRY[host], in parallel: 2 (1 round trip)
//   site    /s/<host[/prefix]>     containerId | null  SITE_REGISTRY[key]: 1 (X-Public-Host checks, same-origin mounts)
//   config  /c/<containerId>       EdgeConfig | null   EDGE_CONFIG[id]: 1 (a KV miss then asks ContainerState: no KV read)
//   token   /t/<token>             containerId | null  LOADER_TOKEN_MAP[token]: 1
// - Misses (null) are cached like values: an unknown host, public host or token costs KV nothing after its first
//   miss in a location, until the entry expires or a sync that writes that key purges it.
// - Per container and location: 3 KV reads (host + config), 4 with the loader script; another host of a container
//   whose config the location holds: 2. Then none for LOCATION_CACHE_TTL_MS.
// - Per isolate: an entry is kept CONFIG_CACHE_TTL_MS (seconds); after that the isolate reads the location (one
//   cache.match, no KV). A warm request reads neither.
import { TtlCache } from "./ttl-cache";

export type LocationEnv = Pick<Env, "CONFIG_CACHE_TTL_MS" | "LOCATION_CACHE_TTL_MS" | "CONFIG_CACHE_HOST">;

const CACHE_KINDS = { host: "h", site: "s", config: "c", token: "t" } as const;
export type CacheKind = keyof typeof CACHE_KINDS;

/** Used when CONFIG_CACHE_HOST is empty: keys then only work locally, and the purge API is off (config-purge.ts). */
const FALLBACK_HOST = "config-cache.invalid";

/**
 * The cache key of an entry. The edge reads it, the control Worker purges it, so both build it here. Purge by URL
 * needs the host to be on the purged zone: CONFIG_CACHE_HOST is a name on CF_ZONE_ID that serves nothing else.
 * `v1` changes whenever the stored form of an entry does, so a deploy never reads entries it cannot parse.
 */
export function cacheKeyUrl(env: Pick<Env, "CONFIG_CACHE_HOST">, kind: CacheKind, key: string): string {
  return `https://${env.CONFIG_CACHE_HOST || FALLBACK_HOST}/_config-cache/v1/${CACHE_KINDS[kind]}/${encodeURIComponent(key)}`;
}

function isolateTtlMs(env: Pick<Env, "CONFIG_CACHE_TTL_MS">): number {
  return millis(env.CONFIG_CACHE_TTL_MS, 30_000);
}

function locationTtlMs(env: Pick<Env, "LOCATION_CACHE_TTL_MS">): number {
  return millis(env.LOCATION_CACHE_TTL_MS, 6 * 3_600_000);
}

function millis(value: string, fallback: number): number {
  const ms = Number(value);
  return value !== "" && Number.isFinite(ms) && ms >= 0 ? ms : fallback;
}

/** The stored form: the value and when it expires (ms), finer than the Cache-Control max-age the cache keeps it by. */
interface Entry {
  value: unknown;
  expires: number;
}

/** What a location entry may hold: `parse` returns undefined for anything else, which then counts as a miss. */
export type ParseValue<V> = (raw: unknown) => V | undefined;

export interface LocationLookup<V, E extends LocationEnv> {
  kind: CacheKind;
  parse: ParseValue<V>;
  /** Reads the value from KV (the location and the isolate both missed). */
  load: (env: E, key: string) => Promise<V>;
  /** True when `kept` must win over `loaded` (a newer config version over an older KV read). */
  keep?: (kept: V, loaded: V) => boolean;
}

/**
 * One map behind both caches. `get` answers a warm isolate with a plain value (no promise, no await), else reads the
 * location, else KV, filling the caches it missed on the way back. Concurrent cold lookups each load for themselves:
 * a promise shared between requests would make one request continue in another's I/O context, which workerd refuses
 * ("Cannot perform I/O on behalf of a different request", seen in the benchmark). A failed load caches nothing.
 */
export class LocationCache<V, E extends LocationEnv> {
  private readonly isolate = new TtlCache<V>();

  constructor(private readonly lookup: LocationLookup<V, E>) {}

  get(env: E, key: string): V | Promise<V> {
    const hit = this.isolate.get(key);
    if (hit !== undefined) return hit;
    return this.fromLocation(env, key, this.isolate.peek(key)).then((value) => {
      this.isolate.set(key, value, isolateTtlMs(env));
      return value;
    });
  }

  /** For tests: forget this isolate's entries (the location keeps its own). */
  clear(): void {
    this.isolate.clear();
  }

  /** `seen`: what this isolate held before (expired), so an older KV read cannot replace it here or in the location. */
  private async fromLocation(env: E, key: string, seen: V | undefined): Promise<V> {
    const request = new Request(cacheKeyUrl(env, this.lookup.kind, key));
    const cached = await this.read(request);
    if (cached !== undefined) return this.newest(seen, cached);
    const loaded = this.newest(seen, await this.lookup.load(env, key));
    if (this.lookup.keep) {
      // Another isolate may have stored a newer version meanwhile: never replace it with this (possibly stale) read.
      const current = await this.read(request);
      if (current !== undefined && this.lookup.keep(current, loaded)) return current;
    }
    await this.write(env, request, loaded);
    return loaded;
  }

  /** KV is eventually consistent: a value this isolate saw wins over an older one read later. */
  private newest(seen: V | undefined, value: V): V {
    return seen !== undefined && this.lookup.keep?.(seen, value) ? seen : value;
  }

  private async read(request: Request): Promise<V | undefined> {
    const response = await caches.default.match(request);
    if (!response) return undefined;
    const entry = (await response.json().catch(() => null)) as Entry | null;
    if (entry === null || typeof entry.expires !== "number" || entry.expires <= Date.now()) return undefined;
    return this.lookup.parse(entry.value);
  }

  private async write(env: LocationEnv, request: Request, value: V): Promise<void> {
    const ttl = locationTtlMs(env);
    if (ttl === 0) return;
    const entry: Entry = { value, expires: Date.now() + ttl };
    const response = new Response(JSON.stringify(entry), {
      headers: { "Content-Type": "application/json", "Cache-Control": `public, max-age=${Math.ceil(ttl / 1000)}` },
    });
    await caches.default.put(request, response);
  }
}

/** A map value that is a container id or a cached miss. */
export const containerIdOrNull: ParseValue<string | null> = (raw) => (raw === null || typeof raw === "string" ? raw : undefined);
