import { describe, expect, it, vi } from "vitest";
import { TtlCache } from "../../workers/shared/ttl-cache";

describe("TtlCache.getOrLoad", () => {
  it("loads on a miss and returns the cached value as a plain value afterwards", async () => {
    const cache = new TtlCache<string | null>();
    const load = vi.fn(async () => "shop1");
    expect(await cache.getOrLoad("a.example", 60_000, load)).toBe("shop1");
    expect(cache.getOrLoad("a.example", 60_000, load)).toBe("shop1");
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("caches a null result, so a miss is not loaded again within the TTL", async () => {
    const cache = new TtlCache<string | null>();
    const load = vi.fn(async () => null);
    await cache.getOrLoad("unknown.example", 60_000, load);
    expect(cache.getOrLoad("unknown.example", 60_000, load)).toBeNull();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("loads again once the entry has expired", async () => {
    const cache = new TtlCache<string>();
    const load = vi.fn(async () => "v");
    await cache.getOrLoad("k", 0, load);
    await cache.getOrLoad("k", 0, load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it("does not cache a failed load", async () => {
    const cache = new TtlCache<string>();
    await expect(cache.getOrLoad("k", 60_000, () => Promise.reject(new Error("KV down")))).rejects.toThrow("KV down");
    expect(cache.get("k")).toBeUndefined();
  });
});
