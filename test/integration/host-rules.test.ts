// Platform names are reserved (issue 24 "Squatting a whole customer domain"): infra hosts only under PLATFORM_DOMAINS,
// no public host on them, on an operator host, an IP address, localhost or the custom-hostname CNAME target. Each
// refusal is a 400 naming the rule, through the operator PUT and the Supabase webhook, and nothing is queued or claimed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../durable/routing-registry";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { EDGE_CONFIG_RPC } from "../../workers/sync-consumer/supabase-source";
import { edgeConfig } from "../support/fixtures";
import { operator, operatorPut, outboxWebhook } from "../support/operator";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";
import { uniqueId } from "../support/takeovers";

// The test env: PLATFORM_DOMAINS "edge.example,edge.localhost", OPERATOR_HOSTS "localhost,127.0.0.1" (vitest.config.ts,
// wrangler.control.jsonc); the CNAME target is set per call.
const CNAME = { SAAS_CNAME_TARGET: "fallback.saas.example" } as Partial<Env>;

const refusals: { name: string; hosts: Partial<EdgeConfigInput>; rule: string; vars?: Partial<Env> }[] = [
  { name: "an infra host on a customer's domain", hosts: { infraHosts: ["x.victim.example"] }, rule: "infra_host_outside_platform" },
  {
    name: "an infra host that only ends like a platform domain",
    hosts: { infraHosts: ["x.notedge.example"] },
    rule: "infra_host_outside_platform",
  },
  {
    name: "a public host on a platform domain",
    hosts: { infraHosts: [], publicHosts: ["ss.edge.example"] },
    rule: "public_host_on_platform_domain",
  },
  { name: "a platform domain itself as public host", hosts: { publicHosts: ["edge.localhost"] }, rule: "public_host_on_platform_domain" },
  {
    name: "a mount on a platform domain",
    hosts: { infraHosts: [], publicHosts: ["a.edge.example/metrics"] },
    rule: "public_host_on_platform_domain",
  },
  { name: "an operator host", hosts: { publicHosts: ["127.0.0.1"] }, rule: "public_host_operator_host" },
  { name: "localhost as an operator host", hosts: { publicHosts: ["localhost"] }, rule: "public_host_operator_host" },
  {
    name: "localhost when it is no operator host",
    hosts: { publicHosts: ["localhost"] },
    rule: "public_host_localhost",
    vars: { OPERATOR_HOSTS: "ops.edge.example" } as unknown as Partial<Env>,
  },
  { name: "an IPv4 address", hosts: { publicHosts: ["192.0.2.7"] }, rule: "public_host_ip_literal" },
  { name: "an IPv4 address in short form", hosts: { publicHosts: ["10.1"] }, rule: "public_host_ip_literal" },
  { name: "an IPv4 address in hex", hosts: { publicHosts: ["a.0x7f"] }, rule: "public_host_ip_literal" },
  { name: "a mount on an IP address", hosts: { publicHosts: ["192.0.2.7/metrics"] }, rule: "public_host_ip_literal" },
  { name: "the CNAME target", hosts: { publicHosts: ["fallback.saas.example"] }, rule: "public_host_cname_target" },
  { name: "a host below the CNAME target", hosts: { publicHosts: ["x.fallback.saas.example"] }, rule: "public_host_cname_target" },
];

async function expectRefused(response: Response, rule: string, host: string): Promise<void> {
  const body = (await response.json()) as { error: string; message: string };
  expect(response.status).toBe(400);
  expect(body.error).toBe(rule);
  expect(body.message).toContain(host);
}

describe("host rules on the operator PUT", () => {
  for (const { name, hosts, rule, vars } of refusals) {
    it(`refuses ${name} with 400 ${rule}, queues and claims nothing`, async () => {
      const config = edgeConfig({ containerId: uniqueId("rules"), ...hosts });
      const call = await operator(
        `/_edge/admin/containers/${config.containerId}`,
        { method: "PUT", body: JSON.stringify(config) },
        {
          ...CNAME,
          ...vars,
        },
      );
      const host = [...(hosts.infraHosts ?? []), ...(hosts.publicHosts ?? [])].at(-1)!;
      await expectRefused(call.response, rule, host);
      expect(call.queued).toEqual([]);
      expect(await statusOf(config.containerId)).toBeNull();
      const listed = await registryStub(env).list(config.containerId.slice(0, -1), 100);
      expect(listed.containers.map((c) => c.containerId)).not.toContain(config.containerId);
    });
  }

  it("accepts infra hosts under a platform domain and public hosts elsewhere (the demo containers' shapes)", async () => {
    const id = uniqueId("rules-ok");
    const call = await operatorPut(
      edgeConfig({
        containerId: id,
        infraHosts: [`${id}.edge.localhost`, "localhost"],
        publicHosts: [`ss.${id}.localhost`, `www.${id}.localhost/metrics`],
      }),
    );
    expect(call.response.status).toBe(202);
    expect(call.queued).toHaveLength(1);
  });

  it("refuses every infra host when PLATFORM_DOMAINS is empty", async () => {
    const config = edgeConfig({ containerId: uniqueId("rules-empty") });
    const call = await operator(`/_edge/admin/containers/${config.containerId}`, { method: "PUT", body: JSON.stringify(config) }, {
      PLATFORM_DOMAINS: "",
    } as Partial<Env>);
    await expectRefused(call.response, "infra_host_outside_platform", "PLATFORM_DOMAINS is empty");
    expect(call.queued).toEqual([]);
  });
});

describe("host rules on the Supabase webhook", () => {
  it("refuses a config read from Supabase with an infra host outside the platform: 400, nothing queued", async () => {
    const config = edgeConfig({ containerId: uniqueId("rules-hook"), version: 2, infraHosts: ["x.victim.example"] });
    const supabase = standInTenant(config.containerId);
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: config.containerId }, { body: config });
    const hook = await outboxWebhook(config.containerId, 2, supabase.env);
    await expectRefused(hook.response, "infra_host_outside_platform", "x.victim.example");
    expect(hook.queued).toEqual([]);
    expect(await statusOf(config.containerId)).toBeNull();
  });
});
