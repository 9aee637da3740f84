// Tenant isolation in the control Worker: every host, mount and loader token has one owner (the RoutingRegistry),
// claimed before a config is accepted, whether it comes from the operator API, the Supabase webhook or straight from
// the config queue. Container A (the victim) is applied for real; each takeover must be refused naming A, and every
// KV entry the router resolves A's names from must still say A afterwards. The same takeovers against live traffic
// through the edge Worker: edge-tenant-isolation.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { QUEUES } from "../../workers/shared/queues";
import { EDGE_CONFIG_RPC } from "../../workers/sync-consumer/supabase-source";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { deliverQueued, operator, operatorDelete, operatorPut, outboxWebhook, putAndApply } from "../support/operator";
import { statusOf } from "../support/pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";
import { intruder, takeovers, uniqueId, victim } from "../support/takeovers";

/** Every KV entry the router resolves A's names from (ROUTING_MAP first, then SITE_REGISTRY, then mounts) says A. */
async function expectUntouched(a: EdgeConfigInput): Promise<void> {
  const [publicHost, mount] = a.publicHosts! as [string, string];
  const mountHost = mount.split("/")[0]!;
  expect(await env.ROUTING_MAP.get(a.infraHosts![0]!)).toBe(a.containerId);
  expect(await env.ROUTING_MAP.get(publicHost)).toBeNull();
  expect(await env.ROUTING_MAP.get(mountHost)).toBeNull();
  expect(await env.SITE_REGISTRY.get(publicHost)).toBe(a.containerId);
  expect(await env.SITE_REGISTRY.get(`${publicHost}/collect`)).toBeNull();
  expect(await env.SITE_REGISTRY.get(mount)).toBe(a.containerId);
  expect(await env.SITE_REGISTRY.get(mountHost)).toBeNull();
  expect(await env.LOADER_TOKEN_MAP.get(a.loaderToken)).toBe(a.containerId);
  expect(await env.EDGE_CONFIG.get(a.containerId, "json")).toMatchObject({ version: a.version, upstream: a.upstream });
}

/** 400 naming the host rule when one refuses the takeover at submission, else 409 naming the owner. */
async function expectRefusal(response: Response, owner: string, rule: string | undefined): Promise<void> {
  if (rule === undefined) return expectConflictNaming(response, owner);
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: rule });
}

async function expectConflictNaming(response: Response, owner: string): Promise<void> {
  expect(response.status).toBe(409);
  const body = (await response.json()) as { error: string; message: string };
  expect(body.error).toBe("key_conflict");
  expect(body.message).toContain(`container ${owner}`);
}

describe("takeovers through the operator API", () => {
  const a = victim();
  for (const { name, takeover, rule } of takeovers(a)) {
    it(`refuses ${name} with ${rule ? `400 ${rule}` : "409 naming the owner"}`, async () => {
      if ((await statusOf(a.containerId)) === null) await putAndApply(a);
      const b = intruder(takeover);
      const put = await operatorPut(b);
      await expectRefusal(put.response, a.containerId, rule);
      expect(put.queued).toEqual([]);
      expect(await statusOf(b.containerId)).toBeNull();
      await expectUntouched(a);
    });
  }
});

describe("takeovers through the Supabase webhook", () => {
  // Supabase's PostgREST cannot run here; a stand-in answers get_edge_config at the HTTP boundary (see
  // control-plane-supabase-source.test.ts), so the webhook reads the intruder's config the way it would in production.
  const a = victim();
  for (const { name, takeover, rule } of takeovers(a)) {
    it(`refuses ${name} with ${rule ? `400 ${rule}` : "409 naming the owner"}`, async () => {
      if ((await statusOf(a.containerId)) === null) await putAndApply(a);
      const b = intruder(takeover, 3);
      const supabase = standInTenant(b.containerId);
      await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: b.containerId }, { body: b });
      const hook = await outboxWebhook(b.containerId, 3, supabase.env);
      await expectRefusal(hook.response, a.containerId, rule);
      expect(hook.queued).toEqual([]);
      await expectUntouched(a);
    });
  }

  it("queues the config it read, so the consumer applies exactly what was claimed", async () => {
    const b = intruder({}, 2);
    const supabase = standInTenant(b.containerId);
    await supabase.answerRpc(EDGE_CONFIG_RPC, { p_container_id: b.containerId }, { body: b });
    const hook = await outboxWebhook(b.containerId, 2, supabase.env);
    expect(hook.response.status).toBe(202);
    expect(hook.queued).toEqual([
      expect.objectContaining({ containerId: b.containerId, version: 2, config: expect.objectContaining({ publicHosts: b.publicHosts }) }),
    ]);
  });
});

describe("takeovers through a queued message", () => {
  const a = victim();
  for (const { name, takeover } of takeovers(a)) {
    it(`fails the apply of ${name}, names the owner and writes nothing`, async () => {
      if ((await statusOf(a.containerId)) === null) await putAndApply(a);
      const b = intruder(takeover);
      // The registry is under test here, behind the consumer's host rules (host-rules.test.ts,
      // sync-consumer-refusals.test.ts): B's own infra hosts are taken as the platform's domains.
      const platform = { PLATFORM_DOMAINS: (b.infraHosts ?? []).join(",") } as Partial<Env>;
      const result = await deliver(QUEUES.config, [{ type: "upsert", containerId: b.containerId, version: 1, config: b }], platform);
      expect(result.retryMessages).toHaveLength(1);
      const status = await statusOf(b.containerId);
      expect(status).toMatchObject({ appliedVersion: 0 });
      expect(status?.lastError).toContain(`container ${a.containerId}`);
      expect(await env.EDGE_CONFIG.get(b.containerId)).toBeNull();
      await expectUntouched(a);
    });
  }
});

describe("claims at the same moment", () => {
  it("two containers PUT one new host at once: exactly one wins, 20 rounds out of 20", async () => {
    for (let round = 0; round < 20; round++) {
      const host = `race-${round}-${crypto.randomUUID().slice(0, 8)}.example`;
      const contenders = [intruder({ publicHosts: [host] }), intruder({ publicHosts: [host] })];
      const calls = await Promise.all(contenders.map((config) => operatorPut(config)));
      const statuses = calls.map((call) => call.response.status);
      expect(statuses.sort(), `round ${round}`).toEqual([202, 409]);
      const winner = contenders[calls.findIndex((call) => call.response.status === 202)]!;
      const loser = calls.find((call) => call.response.status === 409)!;
      expect(((await loser.response.json()) as { message: string }).message).toContain(`container ${winner.containerId}`);
      expect(loser.queued).toEqual([]);
      for (const call of calls) await deliverQueued(call);
      expect(await env.SITE_REGISTRY.get(host)).toBe(winner.containerId);
    }
  });
});

describe("release", () => {
  it("a host a new version drops is free for others only once that version is applied", async () => {
    const a = victim();
    await putAndApply(a);
    const [publicHost] = a.publicHosts! as [string];
    const dropping = await operatorPut({ ...a, version: 2, publicHosts: [a.publicHosts![1]!] });
    expect(dropping.response.status).toBe(202);

    // Not applied yet: KV still routes the host to A, so it is still A's.
    await expectConflictNaming((await operatorPut(intruder({ publicHosts: [publicHost] }))).response, a.containerId);

    await deliverQueued(dropping);
    expect(await env.SITE_REGISTRY.get(publicHost)).toBeNull();
    const b = intruder({ publicHosts: [publicHost] });
    const taken = await operatorPut(b);
    expect(taken.response.status).toBe(202);
    await deliverQueued(taken);
    expect(await env.SITE_REGISTRY.get(publicHost)).toBe(b.containerId);
  });

  it("a deleted container's keys are free once the removal is applied", async () => {
    const a = victim();
    await putAndApply(a);
    const removal = await operatorDelete(a.containerId);
    expect(removal.response.status).toBe(202);
    await expectConflictNaming((await operatorPut(intruder({ loaderToken: a.loaderToken }))).response, a.containerId);

    await deliverQueued(removal);
    const b = intruder({ loaderToken: a.loaderToken, publicHosts: a.publicHosts, infraHosts: [] });
    expect((await operatorPut(b)).response.status).toBe(202);
  });

  it("keys of a version that was superseded before it applied are freed when the newer one applies", async () => {
    const id = uniqueId("super");
    const v1 = edgeConfig({ containerId: id, version: 1, infraHosts: [], publicHosts: [`one.${id}.example`] });
    const v2 = edgeConfig({ containerId: id, version: 2, infraHosts: [], publicHosts: [`two.${id}.example`] });
    const first = await operatorPut(v1);
    const second = await operatorPut(v2);
    // Both queued; the consumer sees them in one batch and applies only v2.
    await deliver(QUEUES.config, [...first.queued, ...second.queued]);
    expect((await statusOf(id))?.appliedVersion).toBe(2);
    expect((await operatorPut(intruder({ publicHosts: [`one.${id}.example`] }))).response.status).toBe(202);
  });
});

describe("DELETE", () => {
  it("marks the status deleted: true", async () => {
    const a = victim();
    await putAndApply(a);
    expect((await operatorDelete(a.containerId)).response.status).toBe(202);
    expect(await statusOf(a.containerId)).toMatchObject({ deleted: true, desiredVersion: 2 });
  });

  it("answers 404 for a container already deleted, without a new version", async () => {
    const a = victim();
    await putAndApply(a);
    await deliverQueued(await operatorDelete(a.containerId));
    const again = await operatorDelete(a.containerId);
    expect(again.response.status).toBe(404);
    expect(again.queued).toEqual([]);
    expect(await statusOf(a.containerId)).toMatchObject({ deleted: true, desiredVersion: 2, appliedVersion: 2 });
  });

  it("answers 404 for a container that never existed", async () => {
    const again = await operatorDelete(uniqueId("never"));
    expect(again.response.status).toBe(404);
    expect(await again.response.json()).toMatchObject({ error: "not_found" });
  });

  it("a new version after a removal clears deleted", async () => {
    const a = victim();
    await putAndApply(a);
    await deliverQueued(await operatorDelete(a.containerId));
    await putAndApply({ ...a, version: 3 });
    expect(await statusOf(a.containerId)).toMatchObject({ deleted: false, appliedVersion: 3 });
  });
});

describe("GET /_edge/admin/containers", () => {
  it("pages through every container with its status and hosts", async () => {
    const prefix = `list${crypto.randomUUID().slice(0, 6)}`;
    const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const id of ids) await putAndApply(edgeConfig({ containerId: id, publicHosts: [`ss.${id}.example`, `www.${id}.example/m`] }));
    await operatorDelete(ids[2]!);

    const seen: {
      containerId: string;
      status: { appliedVersion: number; deleted: boolean } | null;
      infraHosts: string[];
      publicHosts: string[];
    }[] = [];
    let cursor = "";
    for (let page = 0; page < 1000; page++) {
      const { response } = await operator(`/_edge/admin/containers?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { method: "GET" });
      expect(response.status, `${cursor}: ${await response.clone().text()}`).toBe(200);
      const body = (await response.json()) as { containers: typeof seen; next: string | null };
      expect(body.containers.length).toBeLessThanOrEqual(2);
      seen.push(...body.containers);
      if (body.next === null) break;
      cursor = body.next;
    }
    const listed = seen.map((c) => c.containerId);
    expect(listed).toEqual([...listed].sort());
    expect(new Set(listed).size).toBe(listed.length);
    const mine = seen.filter((c) => c.containerId.startsWith(prefix));
    expect(mine.map((c) => c.containerId)).toEqual(ids);
    expect(mine[0]).toMatchObject({
      status: { appliedVersion: 1, deleted: false },
      infraHosts: [`${ids[0]}.edge.example`],
      publicHosts: [`ss.${ids[0]}.example`, `www.${ids[0]}.example/m`],
    });
    expect(mine[2]).toMatchObject({ status: { deleted: true } });
  });

  it.each([["limit=0"], ["limit=101"], ["limit=ten"], ["cursor=NOT%20AN%20ID"], ["page=2"]])("answers 400 for %s", async (query) => {
    const { response } = await operator(`/_edge/admin/containers?${query}`, { method: "GET" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_query" });
  });
});
