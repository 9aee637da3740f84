// Custom hostnames belong to the container that owns the host in the RoutingRegistry now (issue 24): two tenants
// with their own scoped write keys, the real control Worker, ContainerState, RoutingRegistry and config consumer,
// and the Cloudflare API stand-in (test/support/cloudflare-api-stand-in.mjs) at the HTTP boundary.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refreshPendingHostnames } from "../../workers/admin/custom-hostnames";
import { cloudflareTenant } from "../support/cloudflare-api-stand-in.client";
import { edgeConfig } from "../support/fixtures";
import { deliverQueued, operator, operatorDelete, putAndApply } from "../support/operator";

interface HostnameBody {
  state: string;
  live: boolean;
  cloudflare: { id: string } | null;
  dnsRecords: { value: string }[];
}

type Tenant = ReturnType<typeof cloudflareTenant>;

function suffix(): string {
  return crypto.randomUUID().slice(0, 6);
}

async function writeKey(containerId: string): Promise<string> {
  const { response } = await operator("/_edge/admin/keys", {
    method: "POST",
    body: JSON.stringify({ name: `writer-${containerId}`, containers: [containerId], access: "write" }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { key: string }).key;
}

/** A hostname call made with `key`, against the stand-in tenant `cf`. */
function hostnameCall(cf: Tenant, key: string, method: string, containerId: string, host: string, query = "") {
  return operator(
    `/_edge/admin/containers/${containerId}/hostnames/${host}${query}`,
    { method, headers: { Authorization: `Bearer ${key}` } },
    cf.env,
  ).then((call) => call.response);
}

const ACTIVE = { status: "active", verification_errors: [], ssl: { status: "active" } };

/** Container `id` with `host` as its public host, its custom hostname onboarded with its own key and active. */
async function activeTenant(cf: Tenant, id: string, host: string) {
  await putAndApply(edgeConfig({ containerId: id, publicHosts: [host] }));
  const key = await writeKey(id);
  expect((await hostnameCall(cf, key, "PUT", id, host)).status).toBe(201);
  await cf.setState(host, ACTIVE);
  const view = (await (await hostnameCall(cf, key, "GET", id, host)).json()) as HostnameBody;
  expect(view).toMatchObject({ state: "active", live: true });
  expect(await env.SITE_REGISTRY.get(host)).toBe(id);
  return { key, cloudflareId: view.cloudflare!.id };
}

async function statusHostnames(id: string) {
  const { response } = await operator(`/_edge/admin/containers/${id}/status`);
  return ((await response.json()) as { hostnames: { host: string; state: string; errors: string[] }[] }).hostnames;
}

describe("a tenant cannot read or delete another tenant's live custom domain", () => {
  async function handOver() {
    const cf = cloudflareTenant("handover");
    const [a, b] = [`own-a-${suffix()}`, `own-b-${suffix()}`];
    const host = `ss.${suffix()}.shared-shop.com`;
    const { key: keyA, cloudflareId: idA } = await activeTenant(cf, a, host);
    // A drops the host from its config; B claims it and onboards it with its own key.
    await putAndApply(edgeConfig({ containerId: a, version: 2, publicHosts: [`ss.${a}.other-shop.com`] }));
    await putAndApply(edgeConfig({ containerId: b, publicHosts: [host] }));
    const keyB = await writeKey(b);
    const put = await hostnameCall(cf, keyB, "PUT", b, host);
    return { cf, a, b, host, keyA, keyB, idA, put };
  }

  it("the new owner gets a fresh custom hostname, pending and not live, never the previous owner's", async () => {
    const { cf, host, idA, put } = await handOver();
    expect(put.status).toBe(201);
    const view = (await put.json()) as HostnameBody;
    expect(view).toMatchObject({ state: "pending", live: false });
    expect(view.cloudflare!.id).not.toBe(idA);
    const atCloudflare = await cf.hostnames();
    expect(atCloudflare.map((h) => h.id)).toEqual([view.cloudflare!.id]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });

  it("the previous owner's key reading its old path gets 409, and nothing of the new owner's hostname", async () => {
    const { cf, a, host, keyA, put } = await handOver();
    const tokens = ((await put.json()) as HostnameBody).dnsRecords.map((r) => r.value);
    const before = (await cf.requests()).length;
    const res = await hostnameCall(cf, keyA, "GET", a, host);
    expect(res.status).toBe(409);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: "host_not_owned" });
    for (const token of tokens.slice(1)) expect(text).not.toContain(token);
    expect((await cf.requests()).length).toBe(before);
  });

  it("the previous owner's key deleting its old path gets 409, and the new owner's hostname stays", async () => {
    const { cf, a, b, host, keyA, put } = await handOver();
    const idB = ((await put.json()) as HostnameBody).cloudflare!.id;
    const res = await hostnameCall(cf, keyA, "DELETE", a, host);
    expect(res.status).toBe(409);
    expect((await cf.hostnames()).map((h) => h.id)).toEqual([idB]);
    expect((await cf.requests()).filter((r) => r.method === "DELETE" && r.path.endsWith(idB))).toEqual([]);
    expect(await statusHostnames(b)).toMatchObject([{ host, state: "pending" }]);
  });

  it("a host dropped from the config has its custom hostname deleted at Cloudflare by the next cron run", async () => {
    const cf = cloudflareTenant("dropped");
    const id = `own-drop-${suffix()}`;
    const host = `ss.${suffix()}.dropped-shop.com`;
    const { cloudflareId } = await activeTenant(cf, id, host);
    await putAndApply(edgeConfig({ containerId: id, version: 2, publicHosts: [`ss.${id}.kept-shop.com`] }));
    expect(await statusHostnames(id)).toMatchObject([{ host, state: "deleting" }]);

    await refreshPendingHostnames(cf.env);
    // (The cron also works off other tests' containers, so only this hostname's DELETE is looked at.)
    const deletes = (await cf.requests()).filter((r) => r.method === "DELETE" && r.path.endsWith(cloudflareId));
    expect(deletes).toHaveLength(1);
    expect(await cf.hostnames()).toEqual([]);
    expect(await statusHostnames(id)).toEqual([]);
  });
});

describe("a deleted tenant's domain cannot be taken over without proof of ownership", () => {
  it("deleting the container deletes its custom hostname, retried until Cloudflare answers, visible in status", async () => {
    const cf = cloudflareTenant("deleted");
    const id = `own-del-${suffix()}`;
    const host = `ss.${suffix()}.deleted-shop.com`;
    const { cloudflareId } = await activeTenant(cf, id, host);
    const removal = await operatorDelete(id);
    expect(removal.response.status).toBe(202);
    await deliverQueued(removal);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();

    // Three 500s: the SDK's two retries fail too.
    for (let i = 0; i < 3; i++) await cf.failNext(500, [{ code: 1500, message: "Internal Server Error" }], cloudflareId);
    await refreshPendingHostnames(cf.env);
    const [deleting] = await statusHostnames(id);
    expect(deleting).toMatchObject({ host, state: "deleting" });
    expect(deleting!.errors[0]).toContain("1500 Internal Server Error");
    expect(await cf.hostnames()).toHaveLength(1);

    await refreshPendingHostnames(cf.env);
    expect(await cf.hostnames()).toEqual([]);
    expect(await statusHostnames(id)).toEqual([]);
  });

  it("another tenant claiming the host gets a fresh, pending hostname and no traffic, even before the cron ran", async () => {
    const cf = cloudflareTenant("takeover");
    const [a, c] = [`own-gone-${suffix()}`, `own-new-${suffix()}`];
    const host = `ss.${suffix()}.taken-shop.com`;
    const { cloudflareId } = await activeTenant(cf, a, host);
    await deliverQueued(await operatorDelete(a));

    await putAndApply(edgeConfig({ containerId: c, publicHosts: [host] }));
    const res = await hostnameCall(cf, await writeKey(c), "PUT", c, host);
    expect(res.status).toBe(201);
    const view = (await res.json()) as HostnameBody;
    expect(view).toMatchObject({ state: "pending", live: false });
    expect(view.cloudflare!.id).not.toBe(cloudflareId);
    expect((await cf.hostnames()).map((h) => [h.id, h.status])).toEqual([[view.cloudflare!.id, "pending"]]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });
});

describe("the operator override and bad paths", () => {
  it("?live=now with a scoped write key is 403 and Cloudflare is not asked", async () => {
    const cf = cloudflareTenant("live-scoped");
    const id = `own-live-${suffix()}`;
    const host = `ss.${suffix()}.live-shop.com`;
    await putAndApply(edgeConfig({ containerId: id, publicHosts: [host] }));
    const res = await hostnameCall(cf, await writeKey(id), "PUT", id, host, "?live=now");
    expect(res.status).toBe(403);
    expect(await cf.requests()).toEqual([]);
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
  });

  it("the audit row of a PUT ?live=now records the query", async () => {
    const cf = cloudflareTenant("live-audit");
    const id = `own-audit-${suffix()}`;
    const host = `ss.${suffix()}.audit-shop.com`;
    await putAndApply(edgeConfig({ containerId: id, publicHosts: [host] }));
    const { response } = await operator(`/_edge/admin/containers/${id}/hostnames/${host}?live=now`, { method: "PUT" }, cf.env);
    expect(response.status).toBe(201);
    const audit = await operator(`/_edge/admin/audit?container=${id}`);
    const { entries } = (await audit.response.json()) as { entries: { method: string; path: string }[] };
    expect(entries[0]).toMatchObject({ method: "PUT", path: `/_edge/admin/containers/${id}/hostnames/${host}?live=now` });
  });

  it("a host that is not valid percent-encoding is a 400", async () => {
    const cf = cloudflareTenant("bad-path");
    const { response } = await operator("/_edge/admin/containers/own-bad/hostnames/%ff", {}, cf.env);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_path" });
  });
});
