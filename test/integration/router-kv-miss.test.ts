// KV self-heal, the edge Worker's side: a request that misses one of a container's KV keys is served from what the
// container knows, and the container's Durable Object (on the real control Worker, the edge's auxiliary) is told, so
// it queues a repair through the real local config queue. Keys are deleted by hand in the shared (miniflare) KV.
// The KV writes a repair makes are counted on the control side (test/integration/kv-verify.test.ts).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { entriesFor } from "../../durable/kv-sync";
import type { EdgeConfig } from "../../schemas/edge-config";
import { clearTokenCache } from "../../workers/loader/serve-script";
import { clearHostMissReports, HOST_MISS_LOOKUPS_PER_MINUTE, reportHostMiss } from "../../workers/router/host-miss";
import type { ControlCalls } from "../../workers/shared/control-calls";
import { clearKvMissReports, MISS_REPORT_INTERVAL_MS, reportKvMiss } from "../../workers/shared/kv-miss";
import { putConfig, waitApplied } from "../support/pipeline";
import { callRouter, originUrl, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

/** A container applied through the operator API, the real queue and its Durable Object. */
async function applied(): Promise<EdgeConfig> {
  const config = await seedContainer({ containerId: uniqueId("heal"), upstream: originUrl() });
  // What an operator submits: the derived cookieDomains are the control side's to add.
  const { cookieDomains: _derived, ...submitted } = config;
  expect((await putConfig(submitted)).status).toBe(202);
  await waitApplied(config.containerId, config.version);
  return config;
}

async function kvMatches(config: EdgeConfig): Promise<boolean> {
  const values = await Promise.all(entriesFor(config).map((entry) => env[entry.map].get(entry.key)));
  return entriesFor(config).every((entry, i) => values[i] === entry.value);
}

describe("a live-traffic miss on a key the container knows", () => {
  it("EDGE_CONFIG: the request is served from the Durable Object and KV is repaired", async () => {
    const config = await applied();
    await env.EDGE_CONFIG.delete(config.containerId);

    const { response } = await callRouter(routerRequest(config.infraHosts[0]!, "/echo"));
    expect(response.status).toBe(200);
    await response.body?.cancel();

    await expect.poll(() => kvMatches(config), { timeout: 10_000 }).toBe(true);
  });

  it("LOADER_TOKEN_MAP: the script is still served and KV is repaired", async () => {
    const config = await applied();
    await env.LOADER_TOKEN_MAP.delete(config.loaderToken);
    clearTokenCache();

    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, `/l/${config.loaderToken}.js`));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("javascript");
    await response.body?.cancel();

    await expect.poll(() => env.LOADER_TOKEN_MAP.get(config.loaderToken), { timeout: 10_000 }).toBe(config.containerId);
  });

  it("a token the container's config does not name stays unknown (404)", async () => {
    const config = await applied();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/l/lt_not_ours_at_all.js"));
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });
});

describe("reporting a miss", () => {
  /** A CONTAINER_STATE namespace that only counts the kvMiss calls it gets (the object's own limit is tested on the control side). */
  function countingNamespace() {
    const calls: string[] = [];
    const namespace = {
      idFromName: (name: string) => name,
      get: (name: string) => ({
        kvMiss: async (containerId: string) => {
          calls.push(`${name}:${containerId}`);
          return true;
        },
      }),
    } as unknown as DurableObjectNamespace;
    return { namespace, calls };
  }

  it(`tells the object once per key and isolate per ${MISS_REPORT_INTERVAL_MS / 1000} s, however many requests miss`, async () => {
    clearKvMissReports();
    const { namespace, calls } = countingNamespace();
    const ctx = createExecutionContext();
    for (let i = 0; i < 50; i += 1) reportKvMiss({ CONTAINER_STATE: namespace }, ctx, "shop-a", "LOADER_TOKEN_MAP:lt_a");
    reportKvMiss({ CONTAINER_STATE: namespace }, ctx, "shop-a", "EDGE_CONFIG:shop-a");
    reportKvMiss({ CONTAINER_STATE: namespace }, ctx, "shop-b", "LOADER_TOKEN_MAP:lt_b");
    await waitOnExecutionContext(ctx);
    expect(calls).toEqual(["shop-a:shop-a", "shop-a:shop-a", "shop-b:shop-b"]);
  });
});

describe("a host in neither ROUTING_MAP nor SITE_REGISTRY", () => {
  /** A CONTROL_CALLS binding that only counts what it is asked (the answer is tested on the control side). */
  function countingCalls() {
    const asked: string[] = [];
    const calls: ControlCalls = {
      keyMissed: async (key) => {
        asked.push(key);
        return { owner: null, queued: false };
      },
    };
    return { env: { CONTROL_CALLS: calls }, asked };
  }

  it("is asked about once per isolate however many requests miss it, and the 404 stands", async () => {
    clearHostMissReports();
    const { env: callsEnv, asked } = countingCalls();
    const ctx = createExecutionContext();
    for (let i = 0; i < 20; i += 1) {
      const request = routerRequest("Lost.Example:443", "/g/collect");
      reportHostMiss(callsEnv, ctx, request, new URL(request.url));
    }
    await waitOnExecutionContext(ctx);
    expect(asked).toEqual(["lost.example"]);
  });

  it(`at most ${HOST_MISS_LOOKUPS_PER_MINUTE} different hosts a minute per isolate (scanners send unknown hosts)`, async () => {
    clearHostMissReports();
    const { env: callsEnv, asked } = countingCalls();
    const ctx = createExecutionContext();
    for (let i = 0; i < 100; i += 1) {
      const request = routerRequest(`scan-${i}.example`, "/");
      reportHostMiss(callsEnv, ctx, request, new URL(request.url));
    }
    await waitOnExecutionContext(ctx);
    expect(asked).toHaveLength(HOST_MISS_LOOKUPS_PER_MINUTE);
  });

  it("an unknown host on live traffic still answers 404 while the control Worker is asked over CONTROL_CALLS", async () => {
    clearHostMissReports();
    const { response } = await callRouter(routerRequest(`${uniqueId("unknown")}.example`, "/echo"));
    expect(response.status).toBe(404);
    await response.body?.cancel();
    // The binding reaches the real control Worker's EdgeCalls entrypoint (no Supabase in this project: no owner).
    expect(await (env.CONTROL_CALLS as unknown as ControlCalls).keyMissed("nobody.example")).toEqual({ owner: null, queued: false });
  });
});
