// No object for nothing (issue 24 "Durable Objects created in bulk"): status, config, DELETE and replay of a container the
// control plane never accepted answer 404 (replay: skip and count) without creating a ContainerState object or a
// message. Proof from the runtime itself: listDurableObjectIds lists every object that has storage, and a
// ContainerState writes its schema when it starts.
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { operator, operatorDelete, putAndApply } from "../support/operator";
import { uniqueId } from "../support/takeovers";

async function objectExists(containerId: string): Promise<boolean> {
  const id = env.CONTAINER_STATE.idFromName(containerId);
  return (await listDurableObjectIds(env.CONTAINER_STATE)).some((listed) => listed.equals(id));
}

describe("a container the control plane never accepted", () => {
  it("GET …/status: 404, no object", async () => {
    const id = uniqueId("never-status");
    const call = await operator(`/_edge/admin/containers/${id}/status`, { method: "GET" });
    expect(call.response.status).toBe(404);
    expect(await objectExists(id)).toBe(false);
  });

  it("GET …/containers/:id: 404, no object", async () => {
    const id = uniqueId("never-config");
    const call = await operator(`/_edge/admin/containers/${id}`, { method: "GET" });
    expect(call.response.status).toBe(404);
    expect(await objectExists(id)).toBe(false);
  });

  it("DELETE: 404, no object, nothing queued", async () => {
    const id = uniqueId("never-delete");
    const call = await operatorDelete(id);
    expect(call.response.status).toBe(404);
    expect(call.queued).toEqual([]);
    expect(await objectExists(id)).toBe(false);
  });

  it("replay: skipped and counted, only the known container gets a repair, no object for the others", async () => {
    const known = uniqueId("known");
    await putAndApply(edgeConfig({ containerId: known }));
    const never = Array.from({ length: 150 }, () => uniqueId("never-replay"));
    const call = await operator("/_edge/admin/replay", { method: "POST", body: JSON.stringify({ containerIds: [known, ...never] }) });
    expect(call.response.status).toBe(202);
    expect(await call.response.json()).toEqual({ enqueued: 1, skipped: 150 });
    expect(call.queued).toEqual([{ type: "repair", containerId: known, source: "replay" }]);
    for (const id of never.slice(0, 5)) expect(await objectExists(id)).toBe(false);
    expect(await objectExists(known)).toBe(true);
  });
});

describe("a container accepted without its names", () => {
  it("a webhook announcement (no Supabase to read the config from) makes it known: status answers", async () => {
    const id = uniqueId("announced");
    const payload = {
      type: "INSERT",
      table: "edge_outbox",
      schema: "public",
      record: { id: 9, container_id: id, config_version: 4, op: "upsert" },
      old_record: null,
    };
    const hook = await operator("/_edge/hooks/supabase", {
      method: "POST",
      headers: { "X-Webhook-Secret": "test-webhook-secret" },
      body: JSON.stringify(payload),
    });
    expect(hook.response.status).toBe(202);
    const status = await operator(`/_edge/admin/containers/${id}/status`, { method: "GET" });
    expect(status.response.status).toBe(200);
    expect(await status.response.json()).toMatchObject({ containerId: id, desiredVersion: 4, appliedVersion: 0 });
  });
});
