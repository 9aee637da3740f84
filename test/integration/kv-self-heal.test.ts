// KV self-heal without a scan: each ContainerState re-verifies its own keys on a slow, jittered alarm and rewrites
// only what is missing or wrong; live traffic that misses one of a container's keys serves from what the container
// knows and queues a repair. Keys are deleted by hand in the real (miniflare) KV; writes are counted by spies on the
// Durable Object's own bindings (it is the only writer); repairs go through the real local config queue.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { containerStub } from "../../durable/container-state";
import type { EdgeConfig } from "../../schemas/edge-config";
import { clearConfigCache } from "../../workers/shared/config-store";
import { clearKvMissReports } from "../../workers/shared/kv-miss";
import { clearTokenCache } from "../../workers/loader/serve-script";
import { QUEUES } from "../../workers/shared/queues";
import { entriesFor, type KvMap } from "../../workers/sync-consumer/kv-sync";
import { edgeConfig } from "../support/fixtures";
import { deliver, kvWriteCount, spyOnKvWrites, statusOf } from "../support/pipeline";
import { callRouter, originUrl, routerRequest, uniqueId } from "../support/router-harness";
import * as v from "valibot";
import { EdgeConfigSchema } from "../../schemas/edge-config";

const INTERVAL_MS = Number(env.KV_VERIFY_INTERVAL_MS);

/** A container applied through the real queue handler, so its Durable Object holds the applied config. */
async function applied(prefix: string): Promise<EdgeConfig> {
  const containerId = uniqueId(prefix);
  const config = v.parse(EdgeConfigSchema, edgeConfig({ containerId, upstream: originUrl() }));
  const result = await deliver(QUEUES.config, [{ type: "upsert", containerId, version: 1, config }]);
  expect(result.explicitAcks).toHaveLength(1);
  return config;
}

function keyOf(config: EdgeConfig, map: KvMap): string {
  return entriesFor(config).find((entry) => entry.map === map)!.key;
}

async function kvMatches(config: EdgeConfig): Promise<boolean> {
  const values = await Promise.all(entriesFor(config).map((entry) => env[entry.map].get(entry.key)));
  return entriesFor(config).every((entry, i) => values[i] === entry.value);
}

const alarmOf = (containerId: string) =>
  runInDurableObject(containerStub(env, containerId), (_instance, state) => state.storage.getAlarm());

beforeEach(() => {
  clearConfigCache();
  clearTokenCache();
  clearKvMissReports();
});

describe("the verification alarm", () => {
  for (const map of ["EDGE_CONFIG", "ROUTING_MAP", "SITE_REGISTRY", "LOADER_TOKEN_MAP"] as const) {
    it(`rewrites a deleted ${map} key with one KV write and nothing else`, async () => {
      const config = await applied("verify");
      await env[map].delete(keyOf(config, map));
      const spies = await spyOnKvWrites(config.containerId);

      expect(await runDurableObjectAlarm(containerStub(env, config.containerId))).toBe(true);

      expect(kvWriteCount(spies)).toBe(1);
      expect(spies.find((s) => s.map === map)!.put).toHaveBeenCalledTimes(1);
      expect(await kvMatches(config)).toBe(true);
    });
  }

  it("rewrites a config left at an older version, and a second run writes nothing", async () => {
    const config = await applied("verify-wrong");
    await env.EDGE_CONFIG.put(config.containerId, JSON.stringify({ ...config, gtmId: "GTM-STALE1" }));
    await env.ROUTING_MAP.delete(config.infraHosts[0]!);
    const spies = await spyOnKvWrites(config.containerId);

    await runDurableObjectAlarm(containerStub(env, config.containerId));
    expect(kvWriteCount(spies)).toBe(2);
    expect(await kvMatches(config)).toBe(true);

    await runDurableObjectAlarm(containerStub(env, config.containerId));
    expect(kvWriteCount(spies)).toBe(2);
  });

  it("comes back about once per interval, jittered (90–110 %)", async () => {
    const config = await applied("verify-next");
    const before = Date.now();
    await runDurableObjectAlarm(containerStub(env, config.containerId));
    const next = (await alarmOf(config.containerId))!;
    expect(next).toBeGreaterThanOrEqual(before + INTERVAL_MS * 0.9);
    expect(next).toBeLessThanOrEqual(Date.now() + INTERVAL_MS * 1.1);
  });

  it("never overwrites a key another container holds: the conflict becomes lastError and is looked at again soon", async () => {
    const config = await applied("verify-taken");
    await env.ROUTING_MAP.put(config.infraHosts[0]!, "someone-else");
    const spies = await spyOnKvWrites(config.containerId);

    await runDurableObjectAlarm(containerStub(env, config.containerId));

    expect(kvWriteCount(spies)).toBe(0);
    expect(await env.ROUTING_MAP.get(config.infraHosts[0]!)).toBe("someone-else");
    expect((await statusOf(config.containerId))?.lastError).toMatch(/KV verification of v1 failed: .*another container/);
    expect((await alarmOf(config.containerId))!).toBeLessThan(Date.now() + 20 * 60_000);
  });

  it("a removed container has nothing left to verify: no alarm", async () => {
    const config = await applied("verify-gone");
    await deliver(QUEUES.config, [{ type: "delete", containerId: config.containerId, version: 2 }]);
    expect(await alarmOf(config.containerId)).toBeNull();
  });
});

describe("a miss on live traffic", () => {
  it("a deleted EDGE_CONFIG key: the request is served from the Durable Object, and KV is repaired with one write", async () => {
    const config = await applied("miss-config");
    await env.EDGE_CONFIG.delete(config.containerId);
    const spies = await spyOnKvWrites(config.containerId);

    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo"));
    expect(response.status).toBe(200);
    await response.body?.cancel();

    await expect.poll(() => kvMatches(config), { timeout: 10_000 }).toBe(true);
    expect(kvWriteCount(spies)).toBe(1);
  });

  it("a deleted loader token: the script is still served, and KV is repaired with one write however many requests missed", async () => {
    const config = await applied("miss-token");
    await env.LOADER_TOKEN_MAP.delete(config.loaderToken);
    const spies = await spyOnKvWrites(config.containerId);

    for (let i = 0; i < 3; i += 1) {
      clearTokenCache(); // every request reads KV, as in fresh isolates
      const { response } = await callRouter(routerRequest(config.publicHosts[0]!, `/l/${config.loaderToken}.js`));
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toContain("javascript");
      await response.body?.cancel();
    }

    await expect.poll(() => env.LOADER_TOKEN_MAP.get(config.loaderToken), { timeout: 10_000 }).toBe(config.containerId);
    expect(kvWriteCount(spies)).toBe(1);
  });

  it("a token this container's config does not name is still unknown (404), and nothing is repaired", async () => {
    const config = await applied("miss-foreign");
    const spies = await spyOnKvWrites(config.containerId);
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/l/lt_not_ours_at_all.js"));
    expect(response.status).toBe(404);
    await response.body?.cancel();
    expect(kvWriteCount(spies)).toBe(0);
  });
});
