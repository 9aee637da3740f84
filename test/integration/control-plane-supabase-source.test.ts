// The sync consumer's Supabase read (workers/sync-consumer/supabase-source.ts) through @supabase/supabase-js, in
// the Workers runtime. PostgREST itself cannot run here (no Docker, no PostgREST binary), so supabase-js talks
// to an HTTP stand-in (test/support/postgrest-stand-in.mjs, started by vitest's globalSetup) that records each
// request and refuses the ones whose shape differs from what the Supabase/PostgREST docs describe for an RPC:
// POST /rest/v1/rpc/get_edge_config, headers apikey and Authorization: Bearer <service-role key>, JSON body
// {"p_container_id": "..."}. The SQL function itself is tested against real PostgreSQL in
// control-plane-sql.node.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QUEUES } from "../../workers/shared/queues";
import { EDGE_CONFIG_RPC, fetchEdgeConfig } from "../../workers/sync-consumer/supabase-source";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";

/** Runs the Worker's real queue handler on one config message, with Supabase pointed at a stand-in tenant. */
function deliverWithSupabase(supabase: { SUPABASE_URL: string; SUPABASE_SERVICE_ROLE_KEY: string }, body: unknown) {
  return deliver(QUEUES.config, [body], supabase);
}

describe("fetchEdgeConfig (PostgREST RPC over fetch)", () => {
  it("calls POST /rest/v1/rpc/get_edge_config with the service-role key and {p_container_id}", async () => {
    const supabase = standInTenant("cp-rpc-shape");
    const config = edgeConfig({ containerId: "cp-rpc-shape", version: 3 });
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-rpc-shape" }, { body: config });

    expect(await fetchEdgeConfig(supabase.env, "cp-rpc-shape")).toEqual(config);

    const [request, ...more] = await supabase.requests();
    expect(more).toHaveLength(0);
    expect(request).toMatchObject({ method: "POST", path: "/rest/v1/rpc/get_edge_config", search: "" });
    expect(request!.headers).toMatchObject({
      apikey: supabase.env.SUPABASE_SERVICE_ROLE_KEY,
      authorization: `Bearer ${supabase.env.SUPABASE_SERVICE_ROLE_KEY}`,
      "content-type": "application/json",
    });
    expect(request!.body).toEqual({ p_container_id: "cp-rpc-shape" });
  });

  it("returns null when the function returns null (the container is not in the control plane)", async () => {
    const supabase = standInTenant("cp-rpc-null");
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-rpc-null" }, { body: null });
    expect(await fetchEdgeConfig(supabase.env, "cp-rpc-null")).toBeNull();
  });

  it("turns a PostgREST error into a supabase_error naming the container", async () => {
    // No answer set: the stand-in replies 404 PGRST202 as PostgREST does for a function it does not know.
    const supabase = standInTenant("cp-rpc-missing");
    await expect(fetchEdgeConfig(supabase.env, "cp-rpc-missing")).rejects.toMatchObject({
      status: 502,
      code: "supabase_error",
      message: expect.stringContaining("cp-rpc-missing"),
    });
  });

  it("a wrong key is refused by the stand-in, as PostgREST would (the checks are live)", async () => {
    const supabase = standInTenant("cp-rpc-badkey");
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-rpc-badkey" }, { body: null });
    await expect(fetchEdgeConfig({ ...supabase.env, SUPABASE_SERVICE_ROLE_KEY: "not-the-key" }, "cp-rpc-badkey")).rejects.toMatchObject({
      code: "supabase_error",
    });
  });
});

describe("config queue message without a config", () => {
  it("{containerId, version} is read from Supabase and written to KV", async () => {
    const supabase = standInTenant("cp-e2e-apply");
    const config = edgeConfig({ containerId: "cp-e2e-apply", version: 4 });
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-e2e-apply" }, { body: config });

    const result = await deliverWithSupabase(supabase.env, { containerId: "cp-e2e-apply", version: 4 });

    expect(result.explicitAcks).toHaveLength(1);
    expect(await env.EDGE_CONFIG.get("cp-e2e-apply", "json")).toMatchObject({
      containerId: "cp-e2e-apply",
      version: 4,
      gtmId: config.gtmId,
    });
    expect(await env.ROUTING_MAP.get("cp-e2e-apply.edge.example")).toBe("cp-e2e-apply");
    expect(await env.LOADER_TOKEN_MAP.get(config.loaderToken)).toBe("cp-e2e-apply");
    expect(await statusOf("cp-e2e-apply")).toMatchObject({ appliedVersion: 4, inSync: true, lastError: null });
    // The stored config carries the cookie domains derived on acceptance, which the edge reads instead of the PSL.
    expect(await env.EDGE_CONFIG.get("cp-e2e-apply", "json")).toMatchObject({
      cookieDomains: { "ss.cp-e2e-apply.example": "cp-e2e-apply.example" },
    });
    expect((await supabase.requests()).map((r) => `${r.method} ${r.path}`)).toEqual(["POST /rest/v1/rpc/get_edge_config"]);
  });

  it("an invalid config from Supabase writes nothing and records the error in the Durable Object", async () => {
    const supabase = standInTenant("cp-e2e-invalid");
    const config = { ...edgeConfig({ containerId: "cp-e2e-invalid", version: 2 }), colour: "blue" };
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-e2e-invalid" }, { body: config });

    const result = await deliverWithSupabase(supabase.env, { containerId: "cp-e2e-invalid", version: 2 });

    // A bad config cannot be fixed by retrying: acknowledged (kept as a dead letter), never applied.
    expect(result.explicitAcks).toHaveLength(1);
    expect(await env.EDGE_CONFIG.get("cp-e2e-invalid")).toBeNull();
    expect(await env.ROUTING_MAP.get("cp-e2e-invalid.edge.example")).toBeNull();
    expect(await env.LOADER_TOKEN_MAP.get(config.loaderToken)).toBeNull();
    const status = await statusOf("cp-e2e-invalid");
    expect(status).toMatchObject({ appliedVersion: 0, desiredVersion: 2, inSync: false });
    expect(status?.lastError).toContain('unknown field "colour"');
  });

  it("a public host that is a public suffix (webhook path) writes nothing and names the host in lastError", async () => {
    const supabase = standInTenant("cp-e2e-suffix");
    const config = edgeConfig({ containerId: "cp-e2e-suffix", version: 3, publicHosts: ["ss.cp-e2e-suffix.example", "com.bd"] });
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: "cp-e2e-suffix" }, { body: config });

    const result = await deliverWithSupabase(supabase.env, { containerId: "cp-e2e-suffix", version: 3 });

    expect(result.explicitAcks).toHaveLength(1);
    expect(await env.EDGE_CONFIG.get("cp-e2e-suffix")).toBeNull();
    expect(await env.SITE_REGISTRY.get("ss.cp-e2e-suffix.example")).toBeNull();
    expect((await statusOf("cp-e2e-suffix"))?.lastError).toContain("publicHosts[1]: com.bd is a public suffix");
  });
});
