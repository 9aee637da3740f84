// The config consumer on hand-made batches: idempotency, ordering, removal, fail-closed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { containerStub } from "../../durable/container-state";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { operatorPut } from "../support/operator";
import { statusOf } from "../support/pipeline";

const upsert = (containerId: string, version: number, overrides = {}) => ({
  type: "upsert",
  containerId,
  version,
  config: edgeConfig({ containerId, version, ...overrides }),
});

describe("idempotency", () => {
  it("applying the same version twice writes nothing the second time", async () => {
    const spies = await spyOnKvWrites("idem-shop");
    await deliver(QUEUES.config, [upsert("idem-shop", 1)]);
    expect(kvWriteCount(spies)).toBe(4);
    const second = await deliver(QUEUES.config, [upsert("idem-shop", 1)]);
    expect(kvWriteCount(spies)).toBe(4);
    expect(second.explicitAcks).toHaveLength(1);
  });

  it("a new version that only changes the config writes only EDGE_CONFIG", async () => {
    const spies = await spyOnKvWrites("idem-small");
    await deliver(QUEUES.config, [upsert("idem-small", 1)]);
    const before = kvWriteCount(spies);
    await deliver(QUEUES.config, [upsert("idem-small", 2, { gtmId: "GTM-NEW123" })]);
    expect(kvWriteCount(spies) - before).toBe(1);
    expect(spies.find((s) => s.map === "EDGE_CONFIG")!.put).toHaveBeenLastCalledWith("idem-small", expect.stringContaining("GTM-NEW123"));
  });
});

describe("ordering", () => {
  const orders = [
    { name: "3, 5, 4 in one batch", batches: [[3, 5, 4]] },
    { name: "3, 5, 4 in three batches", batches: [[3], [5], [4]] },
    { name: "5, 4, 3 in two batches", batches: [[5, 4], [3]] },
    { name: "4 then 3 and 5", batches: [[4], [3, 5]] },
  ];
  for (const [i, order] of orders.entries()) {
    it(`ends at version 5 for ${order.name}`, async () => {
      const id = `order-${i}`;
      for (const versions of order.batches) {
        await deliver(
          QUEUES.config,
          versions.map((version) => upsert(id, version, { gtmId: `GTM-VER${version}00` })),
        );
      }
      expect((await statusOf(id))?.appliedVersion).toBe(5);
      expect(await env.EDGE_CONFIG.get(id, "json")).toMatchObject({ version: 5, gtmId: "GTM-VER500" });
    });
  }

  it("acknowledges and drops a stale version without writing", async () => {
    await deliver(QUEUES.config, [upsert("order-stale", 5)]);
    const spies = await spyOnKvWrites("order-stale");
    const result = await deliver(QUEUES.config, [upsert("order-stale", 4)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(kvWriteCount(spies)).toBe(0);
  });
});

describe("removal", () => {
  it("deletes the key of a host the new version no longer names", async () => {
    await deliver(QUEUES.config, [upsert("rm-host", 1, { infraHosts: ["a.rm.edge.example", "b.rm.edge.example"] })]);
    await deliver(QUEUES.config, [upsert("rm-host", 2, { infraHosts: ["a.rm.edge.example"] })]);
    expect(await env.ROUTING_MAP.get("a.rm.edge.example")).toBe("rm-host");
    expect(await env.ROUTING_MAP.get("b.rm.edge.example")).toBeNull();
  });

  it("deletes the old loader token when the token changes", async () => {
    await deliver(QUEUES.config, [upsert("rm-token", 1, { loaderToken: "lt_old_token" })]);
    await deliver(QUEUES.config, [upsert("rm-token", 2, { loaderToken: "lt_new_token" })]);
    expect(await env.LOADER_TOKEN_MAP.get("lt_old_token")).toBeNull();
    expect(await env.LOADER_TOKEN_MAP.get("lt_new_token")).toBe("rm-token");
  });

  it("a delete message removes every key of the container", async () => {
    await deliver(QUEUES.config, [upsert("rm-all", 1)]);
    await deliver(QUEUES.config, [{ type: "delete", containerId: "rm-all", version: 2 }]);
    const values = await Promise.all([
      env.EDGE_CONFIG.get("rm-all"),
      env.ROUTING_MAP.get("rm-all.edge.example"),
      env.SITE_REGISTRY.get("ss.rm-all.example"),
      env.LOADER_TOKEN_MAP.get("lt_rm-all_token"),
    ]);
    expect(values).toEqual([null, null, null, null]);
  });
});

describe("fail-closed", () => {
  it("a KV write that throws leaves the applied version unchanged and retries the message", async () => {
    await deliver(QUEUES.config, [upsert("fail-shop", 1)]);
    const spies = await spyOnKvWrites("fail-shop");
    spies.find((s) => s.map === "EDGE_CONFIG")!.put.mockRejectedValueOnce(new Error("KV PUT failed: 429 Too Many Requests"));

    const failed = await deliver(QUEUES.config, [upsert("fail-shop", 2, { gtmId: "GTM-FAIL22" })]);
    expect(failed.retryMessages).toHaveLength(1);
    expect(failed.explicitAcks).toHaveLength(0);
    const status = await statusOf("fail-shop");
    expect(status).toMatchObject({ appliedVersion: 1, desiredVersion: 2, inSync: false });
    expect(status?.lastError).toContain("429");

    // The fault clears; the retried message converges.
    const retried = await deliver(QUEUES.config, [upsert("fail-shop", 2, { gtmId: "GTM-FAIL22" })]);
    expect(retried.explicitAcks).toHaveLength(1);
    expect(await statusOf("fail-shop")).toMatchObject({ appliedVersion: 2, inSync: true, lastError: null });
    expect(await env.EDGE_CONFIG.get("fail-shop", "json")).toMatchObject({ gtmId: "GTM-FAIL22" });
  });

  it("a message with only {containerId, version} fails clearly when Supabase is not configured", async () => {
    const result = await deliver(QUEUES.config, [{ containerId: "fail-nosupa", version: 1 }]);
    expect(result.retryMessages).toHaveLength(1);
    expect((await statusOf("fail-nosupa"))?.lastError).toContain("SUPABASE_URL");
    expect(await env.EDGE_CONFIG.get("fail-nosupa")).toBeNull();
  });

  it("an invalid config is kept as a dead letter, acknowledged, and writes nothing", async () => {
    const bad = {
      type: "upsert",
      containerId: "fail-bad",
      version: 1,
      config: { ...edgeConfig({ containerId: "fail-bad" }), extra: true },
    };
    const result = await deliver(QUEUES.config, [bad]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await env.EDGE_CONFIG.get("fail-bad")).toBeNull();
    expect((await statusOf("fail-bad"))?.lastError).toContain('unknown field "extra"');
    const letters = await env.LOG_BUCKET.list({ prefix: "dead-letters/config/" });
    const stored = await Promise.all(letters.objects.map(async (o) => (await env.LOG_BUCKET.get(o.key))!.json<{ body: unknown }>()));
    expect(stored.map((l) => l.body)).toContainEqual(bad);
  });

  it("an unparseable message is kept as a dead letter and acknowledged", async () => {
    const result = await deliver(QUEUES.config, [{ containerId: "NOT VALID", version: -1 }]);
    expect(result.explicitAcks).toHaveLength(1);
    const letters = await env.LOG_BUCKET.list({ prefix: "dead-letters/config/" });
    const reasons = await Promise.all(letters.objects.map(async (o) => (await env.LOG_BUCKET.get(o.key))!.json<{ reason: string }>()));
    expect(reasons.some((l) => l.reason.startsWith("invalid config message"))).toBe(true);
  });

  it("the object refuses a version not newer than the applied one", async () => {
    const stub = containerStub(env, "fail-stale");
    await deliver(QUEUES.config, [upsert("fail-stale", 3)]);
    expect(await stub.apply("fail-stale", 3, null)).toEqual({ status: "stale", appliedVersion: 3 });
    expect(await env.EDGE_CONFIG.get("fail-stale")).not.toBeNull();
  });

  it("a KV delete that throws leaves the applied version unchanged, keeps the key owned, and retries", async () => {
    await deliver(QUEUES.config, [upsert("fail-del", 1, { infraHosts: ["keep.fail-del.edge.example", "drop.fail-del.edge.example"] })]);
    const spies = await spyOnKvWrites("fail-del");
    spies.find((s) => s.map === "ROUTING_MAP")!.delete.mockRejectedValueOnce(new Error("KV DELETE failed: 500"));

    const next = upsert("fail-del", 2, { infraHosts: ["keep.fail-del.edge.example"] });
    const failed = await deliver(QUEUES.config, [next]);
    expect(failed.retryMessages).toHaveLength(1);
    expect(await statusOf("fail-del")).toMatchObject({ appliedVersion: 1, desiredVersion: 2, inSync: false });
    expect((await statusOf("fail-del"))?.lastError).toContain("KV DELETE failed");
    // The delete did not happen, so the host still routes here and nobody else may claim it yet.
    expect(await env.ROUTING_MAP.get("drop.fail-del.edge.example")).toBe("fail-del");
    const early = await operatorPut(
      edgeConfig({ containerId: "fail-del-other", infraHosts: ["drop.fail-del.edge.example"], publicHosts: ["ss.fail-del-other.example"] }),
    );
    expect(early.response.status).toBe(409);

    const retried = await deliver(QUEUES.config, [next]);
    expect(retried.explicitAcks).toHaveLength(1);
    expect(await env.ROUTING_MAP.get("drop.fail-del.edge.example")).toBeNull();
    expect(await statusOf("fail-del")).toMatchObject({ appliedVersion: 2, inSync: true });
  });
});

describe("a config naming another container", () => {
  it("is refused as a dead letter: neither container's keys are written", async () => {
    const foreign = { type: "upsert", containerId: "cross-a", version: 1, config: edgeConfig({ containerId: "cross-b" }) };
    const result = await deliver(QUEUES.config, [foreign]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await statusOf("cross-a"))?.lastError).toContain("config.containerId cross-b does not match message cross-a");
    const written = await Promise.all([
      env.EDGE_CONFIG.get("cross-a"),
      env.EDGE_CONFIG.get("cross-b"),
      env.ROUTING_MAP.get("cross-b.edge.example"),
      env.SITE_REGISTRY.get("ss.cross-b.example"),
      env.LOADER_TOKEN_MAP.get("lt_cross-b_token"),
    ]);
    expect(written).toEqual([null, null, null, null, null]);
    const letters = await env.LOG_BUCKET.list({ prefix: "dead-letters/config/" });
    const stored = await Promise.all(letters.objects.map(async (o) => (await env.LOG_BUCKET.get(o.key))!.json<{ body: unknown }>()));
    expect(stored.map((l) => l.body)).toContainEqual(foreign);
  });
});
