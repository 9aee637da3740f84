// PUT a config -> CONFIG_QUEUE (real local queue) -> consumer -> ContainerState -> four KV maps.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { admin, OPERATOR_ORIGIN, putConfig, waitApplied } from "../support/pipeline";

describe("config pipeline end to end", () => {
  it("a PUT reaches all four KV maps and the status reports in sync", async () => {
    const config = edgeConfig({ containerId: "e2e-shop", version: 3, publicHosts: ["ss.e2e.example", "www.e2e.example/metrics"] });
    const res = await putConfig(config);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ containerId: "e2e-shop", version: 3, enqueued: true, warnings: [] });

    const status = await waitApplied("e2e-shop", 3);
    expect(status).toMatchObject({ desiredVersion: 3, appliedVersion: 3, inSync: true, lastError: null });
    expect(await env.ROUTING_MAP.get("e2e-shop.edge.example")).toBe("e2e-shop");
    expect(await env.SITE_REGISTRY.get("ss.e2e.example")).toBe("e2e-shop");
    expect(await env.SITE_REGISTRY.get("www.e2e.example/metrics")).toBe("e2e-shop");
    expect(await env.LOADER_TOKEN_MAP.get("lt_e2e-shop_token")).toBe("e2e-shop");
    expect(await env.EDGE_CONFIG.get("e2e-shop", "json")).toMatchObject({ containerId: "e2e-shop", version: 3, proxyPath: "/k/" });
  });

  it("the status endpoint reports the Durable Object's view", async () => {
    await putConfig(edgeConfig({ containerId: "e2e-status", version: 2 }));
    await waitApplied("e2e-status", 2);
    const res = await admin("/_edge/admin/containers/e2e-status/status");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      containerId: "e2e-status",
      desiredVersion: 2,
      appliedVersion: 2,
      inSync: true,
      lastError: null,
    });
  });

  it("a PUT of a version not newer than the applied one is refused with 409 and nothing is queued", async () => {
    await putConfig(edgeConfig({ containerId: "e2e-stale", version: 5 }));
    await waitApplied("e2e-stale", 5);
    const res = await putConfig(edgeConfig({ containerId: "e2e-stale", version: 4, gtmId: "GTM-OTHER1" }));
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: "stale_version" });
    expect(await env.EDGE_CONFIG.get("e2e-stale", "json")).toMatchObject({ version: 5, gtmId: "GTM-ABC123" });
  });

  it("DELETE removes every key of the container", async () => {
    await putConfig(edgeConfig({ containerId: "e2e-gone", version: 1 }));
    await waitApplied("e2e-gone", 1);
    const res = await admin("/_edge/admin/containers/e2e-gone", { method: "DELETE" });
    expect(res.status).toBe(202);
    const { version } = (await res.json()) as { version: number };
    expect(version).toBe(2);
    await waitApplied("e2e-gone", 2);
    const keys = await Promise.all([
      env.EDGE_CONFIG.get("e2e-gone"),
      env.ROUTING_MAP.get("e2e-gone.edge.example"),
      env.SITE_REGISTRY.get("ss.e2e-gone.example"),
      env.LOADER_TOKEN_MAP.get("lt_e2e-gone_token"),
    ]);
    expect(keys).toEqual([null, null, null, null]);
  });

  it("a removed container's host answers 404 on live traffic", async () => {
    await putConfig(edgeConfig({ containerId: "e2e-traffic", version: 1, upstream: "https://sgtm.invalid" }));
    await waitApplied("e2e-traffic", 1);
    await admin("/_edge/admin/containers/e2e-traffic", { method: "DELETE" });
    await waitApplied("e2e-traffic", 2);
    // Distinct isolate cache entries are keyed by container; a fresh host lookup sees the deletion.
    const res = await exports.default.fetch("https://e2e-traffic.edge.example/g/collect", {
      headers: { Host: "e2e-traffic.edge.example" },
    });
    expect(res.status).toBe(404);
  });

  it("GET /_edge/config/:id serves the applied config to holders of X-Edge-Auth", async () => {
    await putConfig(edgeConfig({ containerId: "e2e-origin", version: 4 }));
    await waitApplied("e2e-origin", 4);
    const denied = await exports.default.fetch(`${OPERATOR_ORIGIN}/_edge/config/e2e-origin`, { headers: { "X-Edge-Auth": "nope" } });
    expect(denied.status).toBe(401);
    const res = await exports.default.fetch(`${OPERATOR_ORIGIN}/_edge/config/e2e-origin`, { headers: { "X-Edge-Auth": "test-edge-auth" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ containerId: "e2e-origin", version: 4 });
  });
});
