// POST /_edge/hooks/supabase: Supabase Database Webhook payloads into the config queue.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";

function hook(payload: unknown, secret = "test-webhook-secret"): Promise<Response> {
  return exports.default.fetch("https://edge.example/_edge/hooks/supabase", {
    method: "POST",
    headers: { "X-Webhook-Secret": secret, "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

const outboxInsert = (record: Record<string, unknown>) => ({
  type: "INSERT",
  table: "edge_outbox",
  schema: "public",
  record,
  old_record: null,
});

describe("Supabase webhook", () => {
  it("an outbox insert records the desired version and answers 202", async () => {
    const res = await hook(
      outboxInsert({ id: 1, container_id: "hook-shop", config_version: 7, op: "upsert", created_at: "2026-11-23T00:00:00Z" }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ containerId: "hook-shop", version: 7, enqueued: true });
    expect(await statusOf("hook-shop")).toMatchObject({ desiredVersion: 7, appliedVersion: 0, inSync: false });
  });

  it("the queued {containerId, version} fails clearly without Supabase and is retried", async () => {
    await hook(outboxInsert({ id: 2, container_id: "hook-nosupa", config_version: 1, op: "upsert" }));
    await expect.poll(async () => (await statusOf("hook-nosupa"))?.lastError, { timeout: 10_000 }).toContain("SUPABASE_URL");
  });

  it("an outbox row for a version already applied is acknowledged without enqueueing", async () => {
    await deliver(QUEUES.config, [
      { type: "upsert", containerId: "hook-old", version: 3, config: edgeConfig({ containerId: "hook-old", version: 3 }) },
    ]);
    const res = await hook(outboxInsert({ id: 3, container_id: "hook-old", config_version: 2, op: "upsert" }));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ enqueued: false });
  });

  it("an outbox delete row becomes a removal at that version", async () => {
    await deliver(QUEUES.config, [
      { type: "upsert", containerId: "hook-del", version: 1, config: edgeConfig({ containerId: "hook-del" }) },
    ]);
    const res = await hook(outboxInsert({ id: 4, container_id: "hook-del", config_version: 2, op: "delete" }));
    expect(await res.json()).toEqual({ containerId: "hook-del", version: 2, enqueued: true });
  });

  it("a DELETE on the containers table orders the removal after the row's last version", async () => {
    const res = await hook({
      type: "DELETE",
      table: "containers",
      schema: "public",
      record: null,
      old_record: { id: "hook-row", config_version: 4 },
    });
    expect(await res.json()).toEqual({ containerId: "hook-row", version: 5, enqueued: true });
  });

  it("a table that is not a config source gets 400 naming it", async () => {
    const res = await hook({ type: "INSERT", table: "orders", schema: "public", record: {}, old_record: null });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unsupported_table" });
  });

  it("an outbox row with a bad container id gets 400 naming the column", async () => {
    const res = await hook(outboxInsert({ id: 5, container_id: "Bad Id", config_version: 1, op: "upsert" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("record: container_id");
  });

  it("a payload missing old_record gets 400 naming it", async () => {
    const res = await hook({ type: "INSERT", table: "edge_outbox", schema: "public", record: {} });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("old_record");
  });
});
