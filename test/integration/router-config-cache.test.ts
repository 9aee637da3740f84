// The per-location config cache (workers/shared/location-cache.ts): the Cache API between each isolate's cache and
// KV, for host, public-host, config and loader-token lookups. KV reads are counted with spies on the real (miniflare)
// namespaces. The isolate's lifetime is 0 here, so every lookup after the first goes to the location: what a fresh
// isolate of the same location would see.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfig } from "../../schemas/edge-config";
import { BAIT_FILE } from "../../workers/loader/client";
import { containerForHost, containerForPublicHost } from "../../workers/router/host-lookup";
import { handleTraffic } from "../../workers/router/traffic";
import { getEdgeConfig } from "../../workers/shared/config-store";
import { cacheKeyUrl } from "../../workers/shared/location-cache";
import { recordingQueue, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

/** A location that keeps entries for an hour, and isolates that keep nothing. */
const located = { ...env, CONFIG_CACHE_TTL_MS: "0", LOCATION_CACHE_TTL_MS: "3600000" } satisfies Env;

function kvReads() {
  const spies = [
    vi.spyOn(env.ROUTING_MAP, "get"),
    vi.spyOn(env.SITE_REGISTRY, "get"),
    vi.spyOn(env.EDGE_CONFIG, "get"),
    vi.spyOn(env.LOADER_TOKEN_MAP, "get"),
  ];
  return () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
}

async function get(request: Request, testEnv: Env = located): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await handleTraffic(request, { ...testEnv, LOG_QUEUE: recordingQueue().queue }, ctx, new URL(request.url));
  await waitOnExecutionContext(ctx);
  return response;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("location cache: hits", () => {
  it("serves a host from the location after its first read: 2 KV reads, then none", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    const reads = kvReads();
    expect(await containerForHost(located, host)).toBe(config.containerId);
    expect(reads()).toBe(2);
    expect(await containerForHost(located, host)).toBe(config.containerId);
    expect(reads()).toBe(2);
  });

  it("keeps serving the location's entry when KV changes without a sync (only a purge or expiry replaces it)", async () => {
    const config = await seedContainer();
    const host = config.infraHosts[0]!;
    expect(await containerForHost(located, host)).toBe(config.containerId);
    await env.ROUTING_MAP.delete(host);
    expect(await containerForHost(located, host)).toBe(config.containerId);
  });

  it("serves a config from the location with the version it was stored with, without a KV read", async () => {
    const config = await seedContainer();
    const reads = kvReads();
    expect((await getEdgeConfig(located, config.containerId))?.version).toBe(config.version);
    expect(reads()).toBe(1);
    expect(await getEdgeConfig(located, config.containerId)).toEqual(config);
    expect(reads()).toBe(1);
  });

  it("a whole request on a known host costs 3 KV reads in a new location and none afterwards", async () => {
    const config = await seedContainer();
    const reads = kvReads();
    expect((await get(routerRequest(config.publicHosts[0]!, "/echo"))).status).toBe(200);
    expect(reads()).toBe(3); // ROUTING_MAP + SITE_REGISTRY (host), EDGE_CONFIG
    for (let i = 0; i < 5; i += 1) expect((await get(routerRequest(config.publicHosts[0]!, "/echo"))).status).toBe(200);
    expect(reads()).toBe(3);
  });

  it("reads the location again once its entry expired", async () => {
    const shortLived = { ...located, LOCATION_CACHE_TTL_MS: "50" };
    const config = await seedContainer();
    const reads = kvReads();
    await containerForHost(shortLived, config.infraHosts[0]!);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await containerForHost(shortLived, config.infraHosts[0]!);
    expect(reads()).toBe(4);
  });
});

describe("location cache: misses are cached too", () => {
  it("an unknown host costs 3 KV reads once (host, then the path's mount), then nothing: ≤ 0.01 reads per junk request", async () => {
    const host = `${uniqueId("junk")}.nowhere.example`;
    const reads = kvReads();
    expect((await get(routerRequest(host, "/g/collect"))).status).toBe(404);
    const first = reads();
    expect(first).toBe(3); // ROUTING_MAP + SITE_REGISTRY for the host, SITE_REGISTRY["<host>/g"] for a mount
    for (let i = 0; i < 200; i += 1) expect((await get(routerRequest(host, "/g/collect"))).status).toBe(404);
    expect((reads() - first) / 200).toBeLessThanOrEqual(0.01);
  });

  it("an unknown loader token costs no KV read: the host's config names its only token", async () => {
    const config = await seedContainer();
    await get(routerRequest(config.publicHosts[0]!, `/l/${BAIT_FILE}`)); // the host and config are now in the location
    const reads = kvReads();
    for (let i = 0; i < 20; i += 1) {
      const junk = `/l/lt_${uniqueId("junk").replaceAll("-", "_")}.js`;
      expect((await get(routerRequest(config.publicHosts[0]!, junk))).status).toBe(404);
    }
    expect(reads()).toBe(0);
  });

  it("an unknown public host (X-Public-Host, mount) costs 1 KV read once, then nothing", async () => {
    const key = `${uniqueId("junk")}.nowhere.example`;
    const reads = kvReads();
    expect(await containerForPublicHost(located, key)).toBeNull();
    expect(await containerForPublicHost(located, key)).toBeNull();
    expect(reads()).toBe(1);
  });

  it("a cached miss stays a miss until purged, then the new key is found", async () => {
    const config = await seedContainer();
    const host = `new-${config.infraHosts[0]!}`;
    expect(await containerForHost(located, host)).toBeNull();
    await env.ROUTING_MAP.put(host, config.containerId);
    expect(await containerForHost(located, host)).toBeNull();
    await caches.default.delete(cacheKeyUrl(env, "host", host));
    expect(await containerForHost(located, host)).toBe(config.containerId);
  });
});

describe("location cache: versions", () => {
  const withVersion = (config: EdgeConfig, version: number) => ({ ...config, version });

  it("an older KV value read after a purge does not replace the newer config this isolate holds, here or in the location", async () => {
    const config = await seedContainer({ version: 3 });
    // An isolate that keeps its entries (expired ones are still compared): it sees v3.
    const isolate = { ...located, CONFIG_CACHE_TTL_MS: "1" };
    expect((await getEdgeConfig(isolate, config.containerId))?.version).toBe(3);
    // The sync purged the location, but this location's KV still answers an older version.
    await env.EDGE_CONFIG.put(config.containerId, JSON.stringify(withVersion(config, 2)));
    await caches.default.delete(cacheKeyUrl(env, "config", config.containerId));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await getEdgeConfig(isolate, config.containerId))?.version).toBe(3);
    const reads = kvReads();
    const stored = await caches.default.match(cacheKeyUrl(env, "config", config.containerId));
    expect(((await stored!.json()) as { value: EdgeConfig }).value.version).toBe(3);
    expect(reads()).toBe(0);
  });

  it("a stale KV read does not overwrite a newer version another isolate stored in the location meanwhile", async () => {
    const config = await seedContainer({ version: 5 });
    const url = cacheKeyUrl(env, "config", config.containerId);
    await env.EDGE_CONFIG.put(config.containerId, JSON.stringify(withVersion(config, 4)));
    const kvGet = env.EDGE_CONFIG.get.bind(env.EDGE_CONFIG);
    vi.spyOn(env.EDGE_CONFIG, "get").mockImplementation((async (key: string, type: "json") => {
      // While this isolate waits for KV (which answers v4), another one stores v5 in the location.
      const entry = { value: config, expires: Date.now() + 3_600_000 };
      await caches.default.put(url, new Response(JSON.stringify(entry), { headers: { "Cache-Control": "max-age=3600" } }));
      return kvGet(key, type);
    }) as never);
    expect((await getEdgeConfig(located, config.containerId))?.version).toBe(5);
    const stored = await caches.default.match(url);
    expect(((await stored!.json()) as { value: EdgeConfig }).value.version).toBe(5);
  });

  it("a removal (null) replaces a cached config", async () => {
    const config = await seedContainer();
    const isolate = { ...located, CONFIG_CACHE_TTL_MS: "1" };
    expect(await getEdgeConfig(isolate, config.containerId)).not.toBeNull();
    await env.EDGE_CONFIG.delete(config.containerId);
    await caches.default.delete(cacheKeyUrl(env, "config", config.containerId));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // No applied config in the Durable Object either (the container was only seeded into KV).
    expect(await getEdgeConfig(isolate, config.containerId)).toBeNull();
  });
});
