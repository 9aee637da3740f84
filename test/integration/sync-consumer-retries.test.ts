// Config messages the consumer cannot apply yet: retried with a backoff delay, the reason in the container's status,
// nothing written until the cause is gone. The control plane (Supabase) is the PostgREST stand-in over real HTTP
// (test/support/postgrest-stand-in.mjs), since PostgREST cannot run here.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../workers/control";
import { QUEUES } from "../../workers/shared/queues";
import { EDGE_CONFIG_RPC } from "../../workers/sync-consumer/supabase-source";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";

/**
 * Like `deliver`, for messages on their `attempts`-th delivery, and with each message's retry() spied on: the test
 * runtime's queue result records that a message was retried but not the delay asked for.
 */
async function deliverAttempt(bodies: unknown[], attempts: number, envOverrides: Partial<Env> = {}) {
  const batch = createMessageBatch(
    QUEUES.config,
    bodies.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts, body })),
  );
  const retries = batch.messages.map((message) => vi.spyOn(message, "retry"));
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch, { ...env, ...envOverrides }, ctx);
  return { result: await getQueueResult(batch, ctx), retries, ids: batch.messages.map((message) => message.id) };
}

describe("a message without a config", () => {
  it("for a container the control plane does not know is retried, naming the missing config", async () => {
    const supabase = standInTenant("retry-unknown");
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "retry-unknown" }, { body: null });

    const { result, retries } = await deliverAttempt([{ containerId: "retry-unknown", version: 1 }], 2, supabase.env);

    expect(result.explicitAcks).toHaveLength(0);
    expect(result.retryMessages).toHaveLength(1);
    // The second attempt waits 2^2 s (workers/shared/queues.ts backoffSeconds).
    expect(retries[0]).toHaveBeenCalledWith({ delaySeconds: 4 });
    expect((await statusOf("retry-unknown"))?.lastError).toContain("control plane has no config for retry-unknown");
    expect(await env.EDGE_CONFIG.get("retry-unknown")).toBeNull();
  });

  it("is retried while the control plane still returns an older version (replica lag), then applied", async () => {
    const supabase = standInTenant("retry-lag");
    await supabase.answerRpc(
      EDGE_CONFIG_RPC,
      { p_container_id: "retry-lag" },
      { body: edgeConfig({ containerId: "retry-lag", version: 1 }) },
    );

    const lagging = await deliver(QUEUES.config, [{ containerId: "retry-lag", version: 2 }], supabase.env);

    expect(lagging.explicitAcks).toHaveLength(0);
    expect(lagging.retryMessages).toHaveLength(1);
    expect((await statusOf("retry-lag"))?.lastError).toContain("control plane returned v1, older than announced v2");
    expect(await env.EDGE_CONFIG.get("retry-lag")).toBeNull();

    await supabase.answerRpc(
      EDGE_CONFIG_RPC,
      { p_container_id: "retry-lag" },
      { body: edgeConfig({ containerId: "retry-lag", version: 2 }) },
    );
    const caughtUp = await deliver(QUEUES.config, [{ containerId: "retry-lag", version: 2 }], supabase.env);

    expect(caughtUp.explicitAcks).toHaveLength(1);
    expect(await statusOf("retry-lag")).toMatchObject({ appliedVersion: 2, inSync: true, lastError: null });
    expect(await env.EDGE_CONFIG.get("retry-lag", "json")).toMatchObject({ version: 2 });
  });
});

describe("a repair", () => {
  it("that cannot write KV is retried after a backoff delay", async () => {
    const id = "retry-repair";
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    // KV lost the container's config; the repair that would restore it fails once.
    await env.EDGE_CONFIG.delete(id);
    const spies = await spyOnKvWrites(id);
    spies.find((s) => s.map === "EDGE_CONFIG")!.put.mockRejectedValueOnce(new Error("KV PUT failed: 429 Too Many Requests"));

    const { result: failed, retries } = await deliverAttempt([{ type: "repair", containerId: id, source: "drift" }], 3);

    expect(failed.explicitAcks).toHaveLength(0);
    expect(failed.retryMessages).toHaveLength(1);
    expect(retries[0]).toHaveBeenCalledWith({ delaySeconds: 8 });
    expect(await env.EDGE_CONFIG.get(id)).toBeNull();

    const retried = await deliver(QUEUES.config, [{ type: "repair", containerId: id, source: "drift" }]);
    expect(retried.explicitAcks).toHaveLength(1);
    expect(kvWriteCount(spies)).toBe(2);
    expect(await env.EDGE_CONFIG.get(id, "json")).toMatchObject({ containerId: id, version: 1 });
  });
});

describe("an upsert whose KV write fails", () => {
  it("is retried after a backoff delay", async () => {
    const id = "retry-kv-put";
    const spies = await spyOnKvWrites(id);
    spies.find((s) => s.map === "ROUTING_MAP")!.put.mockRejectedValueOnce(new Error("KV PUT failed: 429 Too Many Requests"));

    const { result, retries } = await deliverAttempt(
      [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }],
      4,
    );

    expect(result.explicitAcks).toHaveLength(0);
    expect(retries[0]).toHaveBeenCalledWith({ delaySeconds: 16 });
    expect(await statusOf(id)).toMatchObject({ appliedVersion: 0, desiredVersion: 1, inSync: false });
  });
});

describe("a batch with several versions of one container", () => {
  it("acknowledges the versions the newest supersedes, and retries the newest when it fails", async () => {
    const id = "retry-batch-newest";
    // Version 2 carries no config and Supabase is not configured here, so it cannot be applied yet.
    const { result, ids } = await deliverAttempt(
      [
        { type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) },
        { containerId: id, version: 2 },
      ],
      1,
    );

    expect(result.explicitAcks).toEqual([ids[0]]);
    expect(result.retryMessages).toEqual([{ msgId: ids[1] }]);
    expect(await env.EDGE_CONFIG.get(id)).toBeNull();
  });
});
