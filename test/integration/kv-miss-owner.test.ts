// A host live traffic missed in KV, the control Worker's side (workers/self-heal/key-miss.ts): the owner comes from
// the control plane's SQL (public.edge_key_owner, on a throwaway PostgreSQL behind the PostgREST stand-in; PostgREST
// itself cannot run here), and the owner's ContainerState repairs its keys through the real config queue. KV writes
// are counted by spies on the object's own bindings. The edge's side is test/integration/router-kv-miss.test.ts.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyMissed } from "../../workers/self-heal/key-miss";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { standInTenant } from "../support/postgrest-stand-in.client";

type Tenant = ReturnType<typeof standInTenant>;

/** A container in the control plane's SQL, applied at the edge the way a webhook would have it applied. */
async function controlPlaneContainer(name: string): Promise<{ tenant: Tenant; id: string }> {
  const tenant = standInTenant(name);
  await tenant.useDatabase();
  const id = name;
  await tenant.sqlExec(`begin;
    insert into containers (id, upstream, gtm_id) values ('${id}', 'https://sgtm.${id}.example', 'GTM-MISS01');
    insert into container_hosts (kind, host, container_id) values
      ('infra', '${id}.edge.example', '${id}'), ('public', 'ss.${id}.example', '${id}'), ('public', 'www.${id}.example/metrics', '${id}');
    commit;`);
  const result = await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1 }], tenant.env);
  expect(result.explicitAcks).toHaveLength(1);
  return { tenant, id };
}

describe("keyMissed", () => {
  for (const [what, map, key, asked] of [
    ["an infra host", "ROUTING_MAP", (id: string) => `${id}.edge.example`, (id: string) => `${id}.edge.example`],
    ["a public host", "SITE_REGISTRY", (id: string) => `ss.${id}.example`, (id: string) => `ss.${id}.example`],
    [
      "a same-origin mount (asked by its host)",
      "SITE_REGISTRY",
      (id: string) => `www.${id}.example/metrics`,
      (id: string) => `www.${id}.example`,
    ],
  ] as const) {
    it(`${what}: the owner is found and exactly the lost key is written back`, async () => {
      const { tenant, id } = await controlPlaneContainer(`miss-${map.toLowerCase().replace("_", "-")}-${what.length}`);
      await env[map].delete(key(id));
      const spies = await spyOnKvWrites(id);

      expect(await keyMissed({ ...env, ...tenant.env }, asked(id))).toEqual({ owner: id, queued: true });

      await expect.poll(() => env[map].get(key(id)), { timeout: 10_000 }).toBe(id);
      expect(kvWriteCount(spies)).toBe(1);
    });
  }

  it("a host no container names: no owner, nothing queued", async () => {
    const { tenant } = await controlPlaneContainer("miss-nobody");
    expect(await keyMissed({ ...env, ...tenant.env }, "nobody.example")).toEqual({ owner: null, queued: false });
  });

  it("without Supabase nobody can tell: no owner", async () => {
    expect(await keyMissed(env, "miss-nosupa.edge.example")).toEqual({ owner: null, queued: false });
  });

  it("is what the EdgeCalls entrypoint answers the edge", async () => {
    const calls = (exports as unknown as { EdgeCalls: { keyMissed(key: string): Promise<unknown> } }).EdgeCalls;
    expect(await calls.keyMissed("miss-entrypoint.edge.example")).toEqual({ owner: null, queued: false });
  });
});
