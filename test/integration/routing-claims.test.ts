// Routing-key claims the takeover cases do not cover: a container moving one of its own hosts between infraHosts and
// publicHosts, the registrable-domain rule in both directions and for the container's own pending claims, and two
// containers sharing one host through different mounts. Operator API, real queue handler, real RoutingRegistry and KV.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { edgeConfig } from "../support/fixtures";
import { putAndApply as applyTo, operatorPut as putTo } from "../support/operator";
import { statusOf } from "../support/pipeline";
import { uniqueId } from "../support/takeovers";

// These cases are about the registry, so each config's own infra hosts are taken as the platform's domains (the host
// rules, host-rules.test.ts, would refuse a host moving between infraHosts and publicHosts first).
const ownPlatform = (config: EdgeConfigInput) => ({ PLATFORM_DOMAINS: (config.infraHosts ?? []).join(",") }) as Partial<Env>;
const operatorPut = (config: EdgeConfigInput) => putTo(config, ownPlatform(config));
const putAndApply = (config: EdgeConfigInput) => applyTo(config, ownPlatform(config));

describe("a container's own host", () => {
  it("moves from its infraHosts to its publicHosts in a new version", async () => {
    const id = uniqueId("move-out");
    const host = `in.${id}-a.example`;
    await putAndApply(edgeConfig({ containerId: id, version: 1, infraHosts: [host], publicHosts: [`ss.${id}.example`] }));

    await putAndApply(edgeConfig({ containerId: id, version: 2, infraHosts: [`in.${id}-b.example`], publicHosts: [host] }));

    expect(await statusOf(id)).toMatchObject({ appliedVersion: 2, inSync: true, lastError: null });
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
    expect(await env.ROUTING_MAP.get(host)).toBeNull();
  });

  it("moves from its publicHosts to its infraHosts in a new version", async () => {
    const id = uniqueId("move-in");
    const host = `ss.${id}-a.example`;
    await putAndApply(edgeConfig({ containerId: id, version: 1, infraHosts: [`in.${id}-b.example`], publicHosts: [host] }));

    await putAndApply(edgeConfig({ containerId: id, version: 2, infraHosts: [host], publicHosts: [`ss.${id}.example`] }));

    expect(await env.ROUTING_MAP.get(host)).toBe(id);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });

  it("on the domain of an infra host it still holds is refused as a public host, whoever owns the infra host", async () => {
    const id = uniqueId("move-domain");
    await putAndApply(edgeConfig({ containerId: id, version: 1, infraHosts: [`in.${id}-a.example`], publicHosts: [`ss.${id}.example`] }));

    // Version 2 drops the infra host but is not applied yet, so version 1's claim on it still stands.
    expect((await operatorPut(edgeConfig({ containerId: id, version: 2, infraHosts: [`in.${id}-b.example`] }))).response.status).toBe(202);
    const put = await operatorPut(
      edgeConfig({ containerId: id, version: 3, infraHosts: [`in.${id}-b.example`], publicHosts: [`www.${id}-a.example`] }),
    );

    expect(put.response.status).toBe(409);
    expect(await put.response.json()).toMatchObject({ error: "key_conflict", message: expect.stringContaining(`container ${id}`) });
  });
});

describe("another container's public host", () => {
  it("keeps its registrable domain: an infra host on it is refused with 409 naming the owner", async () => {
    const owner = uniqueId("domain-owner");
    await putAndApply(edgeConfig({ containerId: owner, publicHosts: [`ss.${owner}.example`] }));

    const put = await operatorPut(edgeConfig({ containerId: uniqueId("domain-intruder"), infraHosts: [`edge.${owner}.example`] }));

    expect(put.response.status).toBe(409);
    expect(await put.response.json()).toMatchObject({ error: "key_conflict", message: expect.stringContaining(`container ${owner}`) });
    expect(await env.ROUTING_MAP.get(`edge.${owner}.example`)).toBeNull();
  });
});

describe("one host's paths", () => {
  it("can be mounted by two containers, each its own prefix", async () => {
    const first = uniqueId("mount-a");
    const second = uniqueId("mount-b");
    const host = `www.${first}.example`;
    await putAndApply(edgeConfig({ containerId: first, publicHosts: [`${host}/a`] }));

    await putAndApply(edgeConfig({ containerId: second, publicHosts: [`${host}/b`] }));

    expect(await env.SITE_REGISTRY.get(`${host}/a`)).toBe(first);
    expect(await env.SITE_REGISTRY.get(`${host}/b`)).toBe(second);
  });
});
