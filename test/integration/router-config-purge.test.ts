// A config change reaches live traffic through the location cache's purge: the location keeps entries for an hour
// here, so only the control Worker's purge (the local run's `caches.default.delete`, durable/config-purge.ts) can make
// a PUT visible, within the isolate's lifetime (CONFIG_CACHE_TTL_MS, 200 ms in tests) after the sync applied it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { containerForHost } from "../../workers/router/host-lookup";
import { getEdgeConfig } from "../../workers/shared/config-store";
import { edgeConfig } from "../support/fixtures";
import { putConfig, waitApplied } from "../support/pipeline";
import { uniqueId } from "../support/router-harness";

const located = { ...env, LOCATION_CACHE_TTL_MS: "3600000" } satisfies Env;
/** The stated bound: the isolate's lifetime, plus a margin for the test's own polling. */
const WITHIN_MS = Number(env.CONFIG_CACHE_TTL_MS) + 300;

describe("location cache purge on change", () => {
  it("a new version, a new host and a removed host reach live traffic within the isolate's lifetime", async () => {
    const id = uniqueId("purge");
    const v1 = edgeConfig({ containerId: id, version: 1, infraHosts: [`a-${id}.edge.example`] });
    expect((await putConfig(v1)).status).toBe(202);
    await waitApplied(id, 1);
    // The location now holds v1, host a, and a cached miss for host b.
    expect((await getEdgeConfig(located, id))?.version).toBe(1);
    expect(await containerForHost(located, `a-${id}.edge.example`)).toBe(id);
    expect(await containerForHost(located, `b-${id}.edge.example`)).toBeNull();

    expect((await putConfig({ ...v1, version: 2, infraHosts: [`b-${id}.edge.example`] })).status).toBe(202);
    await waitApplied(id, 2);
    await expect.poll(async () => (await getEdgeConfig(located, id))?.version, { timeout: WITHIN_MS, interval: 20 }).toBe(2);
    await expect.poll(() => containerForHost(located, `b-${id}.edge.example`), { timeout: WITHIN_MS, interval: 20 }).toBe(id);
    await expect.poll(() => containerForHost(located, `a-${id}.edge.example`), { timeout: WITHIN_MS, interval: 20 }).toBeNull();
  });

  it("without the purge the location would have kept the old entries: they are gone from the Cache API itself", async () => {
    const id = uniqueId("purge");
    const v1 = edgeConfig({ containerId: id, version: 1 });
    await putConfig(v1);
    await waitApplied(id, 1);
    await getEdgeConfig(located, id);
    const url = `https://${env.CONFIG_CACHE_HOST}/_config-cache/v1/c/${id}`;
    expect(await caches.default.match(url)).toBeDefined();
    await putConfig({ ...v1, version: 2 });
    await waitApplied(id, 2);
    expect(await caches.default.match(url)).toBeUndefined();
  });
});
