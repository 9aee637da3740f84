// The control Worker's purge of the edge's location cache (durable/config-purge.ts, durable/purge-queue.ts) against a
// stand-in for Cloudflare's purge API (test/support/cache-purge-stand-in.mjs): exactly the changed keys' URLs, in
// batches within Cloudflare's per-request limit, retried with backoff when refused, and once more after KV settled.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PURGE_FILES_PER_REQUEST, purgeLocationCaches, purgeUrls } from "../../durable/config-purge";
import { containerStub } from "../../durable/container-state";
import { KV_SETTLE_MS, nextPurgeAt, queuePurges, runDuePurges } from "../../durable/purge-queue";
import { purgeTenant } from "../support/cache-purge-stand-in.client";

const cacheHost = { CONFIG_CACHE_HOST: "config-cache.qaxal.example" as Env["CONFIG_CACHE_HOST"] };

describe("purge URLs", () => {
  it("names each changed key's entries: a public host is both a host and a public-host entry", () => {
    const urls = purgeUrls(cacheHost, [
      { map: "EDGE_CONFIG", key: "shop1" },
      { map: "ROUTING_MAP", key: "shop1.edge.example" },
      { map: "SITE_REGISTRY", key: "www.shop1.example/metrics" },
      { map: "LOADER_TOKEN_MAP", key: "lt_shop1" },
    ]);
    const base = "https://config-cache.qaxal.example/_config-cache/v1";
    expect(urls).toEqual([
      `${base}/c/shop1`,
      `${base}/h/shop1.edge.example`,
      `${base}/h/www.shop1.example%2Fmetrics`,
      `${base}/s/www.shop1.example%2Fmetrics`,
      `${base}/t/lt_shop1`,
    ]);
  });

  it("names a host once when ROUTING_MAP and SITE_REGISTRY both changed it", () => {
    expect(
      purgeUrls(cacheHost, [
        { map: "ROUTING_MAP", key: "h.example" },
        { map: "SITE_REGISTRY", key: "h.example" },
      ]),
    ).toHaveLength(2);
  });
});

describe("purge through Cloudflare's API (stand-in)", () => {
  it("sends the URLs in batches within the per-request limit, every one on the zone", async () => {
    const api = purgeTenant();
    const urls = Array.from({ length: 70 }, (_, i) => `https://config-cache.qaxal.example/_config-cache/v1/h/host-${i}.example`);
    await purgeLocationCaches(api.env, urls);
    const batches = await api.purged();
    expect(batches.map((batch) => batch.length)).toEqual([PURGE_FILES_PER_REQUEST, PURGE_FILES_PER_REQUEST, 10]);
    expect(batches.flat()).toEqual(urls);
  });

  it("fails when the keys' host is not on the zone (CONFIG_CACHE_HOST must be a name on CF_ZONE_ID)", async () => {
    const api = purgeTenant();
    const elsewhere = { ...api.env, CONFIG_CACHE_HOST: "elsewhere.example" as Env["CONFIG_CACHE_HOST"] };
    const urls = purgeUrls(elsewhere, [{ map: "EDGE_CONFIG", key: "x" }]);
    await expect(purgeLocationCaches(elsewhere, urls)).rejects.toThrow(/on qaxal.example/);
  });

  it("keeps a refused purge due, retries it with backoff, then purges once more after KV settled, then forgets it", async () => {
    const api = purgeTenant();
    const url = "https://config-cache.qaxal.example/_config-cache/v1/c/shop-retry";
    await runInDurableObject(containerStub(env, `purge-${crypto.randomUUID()}`), async (_instance, state) => {
      const sql = state.storage.sql;
      const now = 1_000_000;
      queuePurges(sql, [url], now, KV_SETTLE_MS);
      await api.failNext(429);
      await runDuePurges(sql, api.env, now, now);
      expect(nextPurgeAt(sql)).toBe(now + 5_000);
      await runDuePurges(sql, api.env, now + 5_000, now + 5_000);
      expect(nextPurgeAt(sql)).toBe(now + KV_SETTLE_MS);
      await runDuePurges(sql, api.env, now + KV_SETTLE_MS, now + KV_SETTLE_MS);
      expect(nextPurgeAt(sql)).toBe(0);
    });
    expect(await api.purged()).toEqual([[url], [url]]);
  });
});

describe("purge without the API (the local run)", () => {
  it("deletes the entries from this location's Cache API", async () => {
    const url = "https://config-cache.qaxal.localhost/_config-cache/v1/c/shop-local";
    await caches.default.put(url, new Response("{}", { headers: { "Cache-Control": "max-age=3600" } }));
    expect(await caches.default.match(url)).toBeDefined();
    await purgeLocationCaches({ ...env, CF_ZONE_ID: "", CF_API_TOKEN: "" }, [url]);
    expect(await caches.default.match(url)).toBeUndefined();
  });
});
