// Drift repair, replay and dead letters.

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { containerStub } from "../../durable/container-state";
import type { UpsertMessage } from "../../schemas/config-message";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { admin, statusOf, waitApplied } from "../support/pipeline";

const upsert = (containerId: string, version: number): UpsertMessage => ({
  type: "upsert",
  containerId,
  version,
  config: edgeConfig({ containerId, version }),
  source: "admin",
});

describe("drift", () => {
  it("a desired version whose message was lost is re-sent by the alarm and applied", async () => {
    const stub = containerStub(env, "drift-lost");
    // Recorded as desired, but the message never reached the queue.
    await stub.recordDesired(upsert("drift-lost", 2));
    expect(await statusOf("drift-lost")).toMatchObject({ desiredVersion: 2, appliedVersion: 0, inSync: false });

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const status = await waitApplied("drift-lost", 2);
    expect(status.inSync).toBe(true);
    expect(await env.EDGE_CONFIG.get("drift-lost", "json")).toMatchObject({ version: 2 });
  });

  it("once the container is in sync, the only alarm left is the daily KV verification, which re-sends nothing", async () => {
    const stub = containerStub(env, "drift-done");
    await deliver(QUEUES.config, [upsert("drift-done", 1)]);
    const alarmAt = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    // The first verification lands anywhere in 50–150 % of KV_VERIFY_INTERVAL_MS: far beyond any drift re-send.
    expect(alarmAt).toBeGreaterThan(Date.now() + Number(env.KV_VERIFY_INTERVAL_MS) * 0.4);
    // On the object's own env: that is the queue binding its alarm would send with.
    const send = await runInDurableObject(stub, (instance) => vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"));
    try {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(send).not.toHaveBeenCalled();
    } finally {
      send.mockRestore();
    }
    expect(await statusOf("drift-done")).toMatchObject({ appliedVersion: 1, inSync: true });
  });

  it("a failed apply arms the alarm so the change is retried without any scan", async () => {
    const stub = containerStub(env, "drift-failed");
    await stub.recordFailure("drift-failed", 3, "simulated");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
  });
});

describe("replay", () => {
  it("replaying a container restores a KV key that was lost", async () => {
    await deliver(QUEUES.config, [upsert("replay-one", 1)]);
    await env.ROUTING_MAP.delete("replay-one.edge.example");

    const res = await admin("/_edge/admin/replay", { method: "POST", body: JSON.stringify({ containerIds: ["replay-one"] }) });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ enqueued: 1, skipped: 0 });
    await expect.poll(() => env.ROUTING_MAP.get("replay-one.edge.example"), { timeout: 10_000 }).toBe("replay-one");
  });

  it("replay all enqueues one repair per configured container", async () => {
    await deliver(QUEUES.config, [upsert("replay-all-a", 1)]);
    await deliver(QUEUES.config, [upsert("replay-all-b", 1)]);
    const res = await admin("/_edge/admin/replay", { method: "POST", body: JSON.stringify({ all: true }) });
    const { enqueued } = (await res.json()) as { enqueued: number };
    const listed = (await env.EDGE_CONFIG.list()).keys.length;
    expect(enqueued).toBe(listed);
    expect(enqueued).toBeGreaterThanOrEqual(2);
  });

  it("a repair re-sends a pending desired version", async () => {
    const stub = containerStub(env, "replay-pending");
    await stub.recordDesired(upsert("replay-pending", 4));
    const result = await stub.repair("replay-pending");
    expect(result.resent).toBe(true);
    await waitApplied("replay-pending", 4);
  });
});

describe("dead letters", () => {
  it("the dead-letter consumer keeps each message in R2 and acknowledges it", async () => {
    const body = upsert("dlq-kept", 1);
    const result = await deliver(QUEUES.configDeadLetters, [body]);
    expect(result.explicitAcks).toHaveLength(0);
    expect(result.ackAll).toBe(true);
    const listed = await env.LOG_BUCKET.list({ prefix: "dead-letters/config/" });
    const letters = await Promise.all(listed.objects.map(async (o) => (await env.LOG_BUCKET.get(o.key))!.json<{ body: unknown }>()));
    expect(letters.map((l) => l.body)).toContainEqual(body);
  });

  it("replaying dead letters re-sends them, applies them and empties the store", async () => {
    await deliver(QUEUES.configDeadLetters, [upsert("dlq-replayed", 1)]);
    const res = await admin("/_edge/admin/replay", { method: "POST", body: JSON.stringify({ deadLetters: true }) });
    expect(res.status).toBe(202);
    const { enqueued } = (await res.json()) as { enqueued: number };
    expect(enqueued).toBeGreaterThanOrEqual(1);
    await waitApplied("dlq-replayed", 1);
    expect((await env.LOG_BUCKET.list({ prefix: "dead-letters/" })).objects).toHaveLength(0);
  });
});

describe("KV-miss fallback", () => {
  it("serves the applied config from the object and queues a repair that restores KV", async () => {
    await deliver(QUEUES.config, [upsert("miss-shop", 1)]);
    await env.EDGE_CONFIG.delete("miss-shop");
    const config = await containerStub(env, "miss-shop").appliedConfig("miss-shop", true);
    expect(config).toMatchObject({ containerId: "miss-shop", version: 1 });
    await expect.poll(() => env.EDGE_CONFIG.get("miss-shop"), { timeout: 10_000 }).not.toBeNull();
  });
});
