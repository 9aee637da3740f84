import { describe, expect, it } from "vitest";
import { TtlCache } from "../../workers/shared/ttl-cache";

describe("TtlCache", () => {
  it("returns a value within its lifetime, null included (a cached miss)", () => {
    const cache = new TtlCache<string | null>();
    cache.set("a.example", "shop1", 60_000, 1_000);
    cache.set("unknown.example", null, 60_000, 1_000);
    expect(cache.get("a.example", 2_000)).toBe("shop1");
    expect(cache.get("unknown.example", 2_000)).toBeNull();
    expect(cache.get("other.example", 2_000)).toBeUndefined();
  });

  it("stops returning an entry once it expired, but peek still shows it (for version comparisons)", () => {
    const cache = new TtlCache<string>();
    cache.set("k", "v", 100, 1_000);
    expect(cache.get("k", 1_100)).toBeUndefined();
    expect(cache.peek("k")).toBe("v");
  });

  it("evicts the oldest insertion when full", () => {
    const cache = new TtlCache<number>(2);
    cache.set("a", 1, 60_000);
    cache.set("b", 2, 60_000);
    cache.set("c", 3, 60_000);
    expect(cache.peek("a")).toBeUndefined();
    expect([cache.peek("b"), cache.peek("c")]).toEqual([2, 3]);
  });
});
