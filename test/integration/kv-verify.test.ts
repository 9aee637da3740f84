// KV self-heal without a scan, the control Worker's side: each ContainerState re-verifies its own keys on a slow,
// jittered alarm and rewrites only what is missing or wrong, and a miss reported by live traffic (kvMiss) queues a
// rate-limited repair. Keys are deleted by hand in the real (miniflare) KV; writes are counted by spies on the
// Durable Object's own bindings (it is the only writer); repairs go through the real local config queue.
// The edge's side (live traffic that misses a key) is test/integration/router-kv-miss.test.ts.

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { containerStub } from "../../durable/container-state";
import { entriesFor, type KvMap } from "../../durable/kv-sync";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import type { EdgeConfig } from "../../schemas/edge-config";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";

const INTERVAL_MS = Number(env.KV_VERIFY_INTERVAL_MS);

/** A container applied through the real queue handler, so its Durable Object holds the applied config. */
async function applied(prefix: string): Promise<EdgeConfig> {
  const containerId = uniqueId(prefix);
  const result = await deliver(QUEUES.config, [{ type: "upsert", containerId, version: 1, config: edgeConfig({ containerId }) }]);
  expect(result.explicitAcks).toHaveLength(1);
  // As stored: with the cookie domains the consumer derives on acceptance.
  return v.parse(AcceptedEdgeConfigSchema, edgeConfig({ containerId }));
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

const uniqueId = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`;

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

describe("a miss reported by live traffic (ContainerState.kvMiss, what the edge calls)", () => {
  it("queues one repair that rewrites just the lost key (one KV write); another report within the interval queues none", async () => {
    const config = await applied("miss-report");
    await env.SITE_REGISTRY.delete(config.publicHosts[0]!);
    const spies = await spyOnKvWrites(config.containerId);
    const stub = containerStub(env, config.containerId);

    expect(await stub.kvMiss(config.containerId)).toBe(true);
    expect(await stub.kvMiss(config.containerId)).toBe(false);

    await expect.poll(() => kvMatches(config), { timeout: 10_000 }).toBe(true);
    expect(kvWriteCount(spies)).toBe(1);
  });

  it("a container the object never applied queues nothing", async () => {
    const id = uniqueId("miss-unknown");
    expect(await containerStub(env, id).kvMiss(id)).toBe(false);
  });
});
