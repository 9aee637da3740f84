// Config messages the consumer refuses for good: kept as a dead letter, acknowledged (no retry can fix them), the
// reason recorded in the container's status, and nothing written to KV.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QUEUES } from "../../workers/shared/queues";
import { EDGE_CONFIG_RPC } from "../../workers/sync-consumer/supabase-source";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";

async function deadLetterBodies(): Promise<unknown[]> {
  const letters = await env.LOG_BUCKET.list({ prefix: "dead-letters/config/" });
  return Promise.all(letters.objects.map(async (o) => (await (await env.LOG_BUCKET.get(o.key))!.json<{ body: unknown }>()).body));
}

describe("a refused config message", () => {
  it("whose config carries another version than the message is a dead letter and writes nothing", async () => {
    const spies = await spyOnKvWrites("refuse-version");
    const message = {
      type: "upsert",
      containerId: "refuse-version",
      version: 3,
      config: edgeConfig({ containerId: "refuse-version", version: 2 }),
    };

    const result = await deliver(QUEUES.config, [message]);

    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(kvWriteCount(spies)).toBe(0);
    expect(await statusOf("refuse-version")).toMatchObject({ appliedVersion: 0, desiredVersion: 3, inSync: false });
    expect((await statusOf("refuse-version"))?.lastError).toContain("config.version 2 does not match message version 3");
    expect(await deadLetterBodies()).toContainEqual(message);
  });

  it("with an http upstream is a dead letter and writes nothing unless ALLOW_INSECURE_UPSTREAM is true", async () => {
    const spies = await spyOnKvWrites("refuse-http");
    const message = {
      type: "upsert",
      containerId: "refuse-http",
      version: 1,
      config: edgeConfig({ containerId: "refuse-http", upstream: "http://sgtm.refuse-http.example" }),
    };

    const result = await deliver(QUEUES.config, [message], { ALLOW_INSECURE_UPSTREAM: "false" });

    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(kvWriteCount(spies)).toBe(0);
    expect(await env.ROUTING_MAP.get("refuse-http.edge.example")).toBeNull();
    expect((await statusOf("refuse-http"))?.lastError).toContain("upstream must be https");
    expect(await deadLetterBodies()).toContainEqual(message);
  });
});

describe("a config that reached the queue without the host rules' check", () => {
  it("with an infra host outside PLATFORM_DOMAINS is a dead letter and routes nothing", async () => {
    const spies = await spyOnKvWrites("refuse-squat");
    const message = {
      type: "upsert",
      containerId: "refuse-squat",
      version: 1,
      config: edgeConfig({ containerId: "refuse-squat", infraHosts: ["x.victim-squat.com"] }),
    };

    const result = await deliver(QUEUES.config, [message]);

    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(kvWriteCount(spies)).toBe(0);
    expect(await env.ROUTING_MAP.get("x.victim-squat.com")).toBeNull();
    expect((await statusOf("refuse-squat"))?.lastError).toContain("infra_host_outside_platform");
    expect(await deadLetterBodies()).toContainEqual(message);
  });
});

describe("a refused config read from the control plane", () => {
  it("whose version is not a number is a dead letter, not retried as a lagging read", async () => {
    const id = "refuse-text-version";
    const supabase = standInTenant(id);
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: id }, { body: { ...edgeConfig({ containerId: id }), version: "1" } });

    const result = await deliver(QUEUES.config, [{ containerId: id, version: 2 }], supabase.env);

    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect((await statusOf(id))?.lastError).toContain("invalid EdgeConfig");
    expect(await env.EDGE_CONFIG.get(id)).toBeNull();
  });
});
