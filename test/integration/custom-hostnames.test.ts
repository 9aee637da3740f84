// Customer domains: PUT/GET/DELETE /_edge/admin/containers/:id/hostnames/:host, the cron refresh, and what reaches
// SITE_REGISTRY in each state. SITE_REGISTRY is what the edge routes a customer host by (a host missing there is a
// 404 unknown_host, router-resolution.test.ts), so "live" here means "in SITE_REGISTRY".
// Cloudflare's API cannot be reached from here (there is no internet), so the control Worker talks over real HTTP to
// a stand-in (test/support/cloudflare-api-stand-in.mjs) that answers with the request and response shapes of
// Cloudflare's API reference for custom hostnames, checks the bearer token, records every request, and lets a test
// move a hostname through Cloudflare's states. Everything on our side of that boundary is real: the control Worker,
// ContainerState, the config queue and KV.

import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { refreshPendingHostnames } from "../../workers/admin/custom-hostnames";
import worker from "../../workers/control";
import { cloudflareTenant, SAAS_TARGET, STAND_IN_CF_TOKEN, STAND_IN_ZONE_ID } from "../support/cloudflare-api-stand-in.client";
import { ADMIN, edgeConfig } from "../support/fixtures";
import { putConfig, statusOf, waitApplied } from "../support/pipeline";

const CF_PATH = `/client/v4/zones/${STAND_IN_ZONE_ID}/custom_hostnames`;

interface HostnameBody {
  containerId: string;
  host: string;
  state: string;
  live: boolean;
  liveNow: boolean;
  errors: string[];
  dnsRecords: { type: string; name: string; value: string; purpose: string }[];
  cloudflare: { id: string; status: string; sslStatus: string | null } | null;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** A configured, applied container whose public hosts are a whole host and a same-origin mount. */
async function container(name: string) {
  const id = `ch-${name}-${crypto.randomUUID().slice(0, 6)}`;
  // Cloudflare refuses custom hostnames under reserved TLDs such as .example (1409), so these are under .com.
  const host = `ss.${id}.customer-shop.com`;
  const mount = `www.${id}.customer-shop.com/metrics`;
  expect((await putConfig(edgeConfig({ containerId: id, publicHosts: [host, mount] }))).status).toBe(202);
  await waitApplied(id, 1);
  return { id, host, mount };
}

function hostnames(cfEnv: Env, method: string, id: string, host: string, query = ""): Promise<Response> {
  const url = `http://localhost/_edge/admin/containers/${id}/hostnames/${encodeURIComponent(host)}${query}`;
  return worker.fetch(new Request(url, { method, headers: ADMIN }), cfEnv, createExecutionContext());
}

async function body(response: Response): Promise<HostnameBody> {
  return (await response.json()) as HostnameBody;
}

describe("onboarding", () => {
  it("PUT creates the custom hostname with TXT validation, withholds the host while pending, and a later GET has the TXT tokens", async () => {
    const cf = cloudflareTenant("create");
    const { id, host } = await container("create");
    // Before onboarding the host is operator-managed DNS and live, as before.
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);

    const res = await hostnames(cf.env, "PUT", id, host);
    expect(res.status).toBe(201);
    const view = await body(res);

    const [created] = await cf.requests().then((all) => all.filter((r) => r.method === "POST"));
    expect(created).toMatchObject({
      path: CF_PATH,
      headers: { authorization: `Bearer ${STAND_IN_CF_TOKEN}`, "content-type": "application/json" },
      body: { hostname: host, ssl: { method: "txt", type: "dv", settings: { min_tls_version: "1.2" } } },
    });
    const [atCloudflare] = await cf.hostnames();
    expect(view).toMatchObject({
      containerId: id,
      host,
      state: "pending",
      live: false,
      liveNow: false,
      cloudflare: { id: atCloudflare!.id, status: "pending", sslStatus: "initializing" },
    });
    expect(view.errors).toEqual(["custom hostname does not CNAME to this zone."]);
    // Cloudflare's answer to the POST has no TXT tokens yet: only the CNAME can be told.
    expect(view.dnsRecords).toEqual([{ type: "CNAME", name: host, value: SAAS_TARGET, purpose: "traffic" }]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "pending", live: false }] });

    // A few seconds later Cloudflare lists them, and GET answers them exactly.
    await cf.advanceClock(3_000);
    const later = await body(await hostnames(cf.env, "GET", id, host));
    const [withTokens] = await cf.hostnames();
    expect(later.cloudflare).toMatchObject({ sslStatus: "pending_validation" });
    expect(later.dnsRecords).toEqual([
      { type: "CNAME", name: host, value: SAAS_TARGET, purpose: "traffic" },
      { type: "TXT", name: `_cf-custom-hostname.${host}`, value: withTokens!.ownership_verification!.value, purpose: "ownership" },
      { type: "TXT", name: `_acme-challenge.${host}`, value: withTokens!.ssl.validation_records![0]!.txt_value, purpose: "certificate" },
    ]);
  });

  it("GET refreshes from Cloudflare; once the hostname is active the host goes live", async () => {
    const cf = cloudflareTenant("activate");
    const { id, host } = await container("activate");
    await hostnames(cf.env, "PUT", id, host);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
    await cf.setState(host, { status: "active", verification_errors: [], ssl: { status: "active" } });

    const res = await hostnames(cf.env, "GET", id, host);
    expect(res.status).toBe(200);
    const view = await body(res);
    expect(view).toMatchObject({ state: "active", live: true, errors: [], cloudflare: { status: "active", sslStatus: "active" } });
    // The certificate is issued, so Cloudflare no longer lists its validation record.
    expect(view.dnsRecords.map((r) => r.purpose)).toEqual(["traffic", "ownership"]);

    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "active", live: true }] });
  });

  it("a pending ownership with an active certificate is still pending, and not live", async () => {
    const cf = cloudflareTenant("half");
    const { id, host } = await container("half");
    await hostnames(cf.env, "PUT", id, host);
    await cf.setState(host, { ssl: { status: "active" } });

    const view = await body(await hostnames(cf.env, "GET", id, host));
    expect(view).toMatchObject({ state: "pending", live: false, errors: ["custom hostname does not CNAME to this zone."] });
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });

  it("a new config version keeps a pending host out of SITE_REGISTRY", async () => {
    const cf = cloudflareTenant("reapply");
    const { id, host, mount } = await container("reapply");
    await hostnames(cf.env, "PUT", id, host);

    const v2 = edgeConfig({ containerId: id, version: 2, publicHosts: [host, mount], gtmId: "GTM-NEW222" });
    expect((await putConfig(v2)).status).toBe(202);
    await waitApplied(id, 2);
    expect(JSON.parse((await env.EDGE_CONFIG.get(id))!)).toMatchObject({ version: 2, gtmId: "GTM-NEW222" });
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
    // Hosts without a custom hostname record are untouched.
    expect(await env.SITE_REGISTRY.get(mount)).toBe(id);
  });

  it("the Cron Trigger puts a host live once Cloudflare reports it active, and stops checking it", async () => {
    const cf = cloudflareTenant("cron");
    const { id, host } = await container("cron");
    const { cloudflare } = await body(await hostnames(cf.env, "PUT", id, host));
    expect(await env.LOG_BUCKET.head(`custom-hostnames/pending/${id}`)).not.toBeNull();
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
    await cf.setState(host, { status: "active", verification_errors: [], ssl: { status: "active" } });

    // The refresh first asks a minute after the PUT (then backs off: 2, 5, 15, 60 minutes).
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() + 60_000 }), cf.env);

    expect((await cf.requests()).filter((r) => r.method === "GET" && r.path === `${CF_PATH}/${cloudflare!.id}`)).toHaveLength(1);
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "active", live: true }] });
    expect(await env.LOG_BUCKET.head(`custom-hostnames/pending/${id}`)).toBeNull();
  });

  it("the cron does nothing without the Cloudflare settings (the local run)", async () => {
    expect(await refreshPendingHostnames({ ...env, CF_API_TOKEN: "" })).toMatchObject({ containers: 0, checked: 0, calls: 0 });
  });
});

describe("failed validation", () => {
  it("GET reports Cloudflare's errors and a failed state, and nothing goes live", async () => {
    const cf = cloudflareTenant("fail");
    const { id, host } = await container("fail");
    await hostnames(cf.env, "PUT", id, host);
    const reason = `TXT record for _acme-challenge.${host} not found`;
    await cf.setState(host, { ssl: { status: "validation_timed_out", validation_errors: [{ message: reason }] } });

    const view = await body(await hostnames(cf.env, "GET", id, host));
    expect(view).toMatchObject({ state: "failed", live: false, cloudflare: { sslStatus: "validation_timed_out" } });
    expect(view.errors).toEqual([
      "custom hostname does not CNAME to this zone.",
      reason,
      "certificate status is validation_timed_out: check the DNS records, then PUT the hostname again to restart validation",
    ]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
    // Failed is not something Cloudflare leaves by itself: the cron stops polling it.
    expect(await env.LOG_BUCKET.head(`custom-hostnames/pending/${id}`)).toBeNull();
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "failed", live: false, errors: view.errors }] });
  });

  it("a blocked hostname is failed even with an active certificate", async () => {
    const cf = cloudflareTenant("blocked");
    const { id, host } = await container("blocked");
    await hostnames(cf.env, "PUT", id, host);
    await cf.setState(host, { status: "blocked", verification_errors: [], ssl: { status: "active" } });

    const view = await body(await hostnames(cf.env, "GET", id, host));
    expect(view).toMatchObject({ state: "failed", live: false });
    expect(view.errors).toEqual(["hostname status is blocked: Cloudflare will not serve it until the cause is fixed"]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });

  it("PUT again re-reads the container's own hostname and restarts validation with the same SSL settings (PATCH)", async () => {
    const cf = cloudflareTenant("retry");
    const { id, host } = await container("retry");
    await hostnames(cf.env, "PUT", id, host);
    await cf.setState(host, { ssl: { status: "validation_timed_out", validation_errors: [{ message: "timed out" }] } });
    await hostnames(cf.env, "GET", id, host);

    const res = await hostnames(cf.env, "PUT", id, host);
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ state: "pending", live: false, cloudflare: { sslStatus: "pending_validation" } });
    const requests = await cf.requests();
    expect(requests.at(-1)!.status).toBe(202);
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    const [lookup, patch] = requests.slice(-2);
    const ownId = (await cf.hostnames())[0]!.id;
    expect(lookup).toMatchObject({ method: "GET", path: `${CF_PATH}/${ownId}` });
    expect(patch).toMatchObject({
      method: "PATCH",
      path: `${CF_PATH}/${ownId}`,
      body: { ssl: { method: "txt", type: "dv", settings: { min_tls_version: "1.2" } } },
    });
    expect(await env.LOG_BUCKET.head(`custom-hostnames/pending/${id}`)).not.toBeNull();
  });
});

describe("operator override", () => {
  it("PUT ?live=now puts a pending host live; a later PUT without it withholds it again", async () => {
    const cf = cloudflareTenant("override");
    const { id, host } = await container("override");

    const now = await body(await hostnames(cf.env, "PUT", id, host, "?live=now"));
    expect(now).toMatchObject({ state: "pending", live: true, liveNow: true });
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);

    const verified = await body(await hostnames(cf.env, "PUT", id, host));
    expect(verified).toMatchObject({ state: "pending", live: false, liveNow: false });
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();
  });

  it("any other value of live is a 400 and changes nothing", async () => {
    const cf = cloudflareTenant("override-bad");
    const { id, host } = await container("override-bad");
    const res = await hostnames(cf.env, "PUT", id, host, "?live=yes");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_query", message: 'query parameter live must be "now" or absent' });
    expect(await cf.requests()).toEqual([]);
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
  });
});

describe("DELETE", () => {
  it("removes the custom hostname at Cloudflare and the host from SITE_REGISTRY", async () => {
    const cf = cloudflareTenant("delete");
    const { id, host } = await container("delete");
    await hostnames(cf.env, "PUT", id, host);
    await cf.setState(host, { status: "active", verification_errors: [], ssl: { status: "active" } });
    const { cloudflare } = await body(await hostnames(cf.env, "GET", id, host));
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);

    const res = await hostnames(cf.env, "DELETE", id, host);
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ host, state: "removed", live: false });
    // Cloudflare answers the DELETE with a bare {"id": …}, no envelope: that is success.
    expect((await cf.requests()).at(-1)).toMatchObject({ method: "DELETE", path: `${CF_PATH}/${cloudflare!.id}`, status: 200 });
    expect(await cf.hostnames()).toEqual([]);
    expect(await env.SITE_REGISTRY.get(host)).toBeNull();

    const gone = await hostnames(cf.env, "GET", id, host);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { message: string }).message).toContain("was removed");
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "removed", live: false }] });
  });

  it("a host with no custom hostname is a 404 and Cloudflare is not asked", async () => {
    const cf = cloudflareTenant("delete-none");
    const { id, host } = await container("delete-none");
    const res = await hostnames(cf.env, "DELETE", id, host);
    expect(res.status).toBe(404);
    expect(await cf.requests()).toEqual([]);
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
  });
});

describe("hosts that cannot be custom hostnames", () => {
  it("a host that is not one of the container's public hosts is a 400 naming it", async () => {
    const cf = cloudflareTenant("foreign");
    const { id } = await container("foreign");
    const res = await hostnames(cf.env, "PUT", id, "ss.someone-else.example");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "not_a_public_host",
      message: `ss.someone-else.example is not one of container ${id}'s public hosts; add it to publicHosts first`,
    });
    expect(await cf.requests()).toEqual([]);
  });

  it("a same-origin mount (host/prefix) is a 400 saying mounts are not custom hostnames", async () => {
    const cf = cloudflareTenant("mount");
    const { id, mount } = await container("mount");
    const res = await hostnames(cf.env, "PUT", id, mount);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "not_a_custom_hostname" });

    const mountHost = mount.split("/")[0]!;
    const hostOnly = await hostnames(cf.env, "PUT", id, mountHost);
    expect(hostOnly.status).toBe(400);
    expect(await hostOnly.json()).toEqual({
      error: "not_a_public_host",
      message: `${mountHost} is only used by same-origin mounts (${mount}), which are not custom hostnames`,
    });
    expect(await cf.requests()).toEqual([]);
  });

  it("a container that was never configured is a 404", async () => {
    const cf = cloudflareTenant("unknown");
    const res = await hostnames(cf.env, "PUT", "ch-never-configured", "ss.never.example");
    expect(res.status).toBe(404);
    expect(await cf.requests()).toEqual([]);
  });
});

describe("Cloudflare API failures", () => {
  function spyOnLogs() {
    return (["log", "warn", "error"] as const).map((level) => vi.spyOn(console, level));
  }
  const logged = (spies: ReturnType<typeof spyOnLogs>) => spies.flatMap((spy) => spy.mock.calls.map((args) => args.join(" "))).join("\n");

  it("a refused token is a 502 cloudflare_api_error with Cloudflare's reason, and the token is in no answer or log", async () => {
    const cf = cloudflareTenant("auth");
    const { id, host } = await container("auth");
    const token = "secret-wrong-token-7c1e9b";
    const spies = spyOnLogs();

    const res = await hostnames({ ...cf.env, CF_API_TOKEN: token }, "PUT", id, host);
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text)).toEqual({
      error: "cloudflare_api_error",
      message: "Cloudflare's API refused POST custom_hostnames (HTTP 403): 10000 Authentication error",
    });
    expect(text).not.toContain(token);
    expect(logged(spies)).toContain("cloudflare_api_error");
    expect(logged(spies)).not.toContain(token);
    // The stand-in did see it, in the Authorization header and nowhere else.
    expect((await cf.requests())[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect((await statusOf(id))!.hostnames).toEqual([]);
    expect(await env.SITE_REGISTRY.get(host)).toBe(id);
  });

  it("an error answer from Cloudflare's API is a 502 naming its codes, and nothing is recorded", async () => {
    const cf = cloudflareTenant("api-error");
    const { id, host } = await container("api-error");
    await hostnames(cf.env, "PUT", id, host);
    // The SDK retries a 5xx twice (with backoff); the third failure is answered.
    for (let i = 0; i < 3; i++) await cf.failNext(500, [{ code: 1001, message: "An internal error occurred" }]);
    const spies = spyOnLogs();

    const res = await hostnames(cf.env, "GET", id, host);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      error: "cloudflare_api_error",
      message: "Cloudflare's API refused GET custom_hostnames (HTTP 500): 1001 An internal error occurred",
    });
    expect(logged(spies)).not.toContain(STAND_IN_CF_TOKEN);
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "pending" }] });
  });

  it("a 429 is a 503 cloudflare_rate_limited naming Retry-After, is not retried, and records nothing", async () => {
    const cf = cloudflareTenant("rate-limited");
    const { id, host } = await container("rate-limited");
    await cf.configure({ limit: 1 });
    expect((await hostnames(cf.env, "PUT", id, host)).status).toBe(201);

    const res = await hostnames(cf.env, "GET", id, host);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: "cloudflare_rate_limited",
      message: "Cloudflare's API is rate-limiting the token (GET custom_hostnames); retry after 300 s",
    });
    expect((await cf.requests()).map((r) => r.status)).toEqual([201, 429]);
    expect((await statusOf(id))!).toMatchObject({ hostnames: [{ host, state: "pending" }] });
  });

  it("an unreachable API is a 502 cloudflare_unreachable", async () => {
    const cf = cloudflareTenant("unreachable");
    const { id, host } = await container("unreachable");
    const spies = spyOnLogs();
    const res = await hostnames({ ...cf.env, CF_API_BASE: "http://127.0.0.1:1" as Env["CF_API_BASE"] }, "PUT", id, host);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      error: "cloudflare_unreachable",
      message: "Cloudflare's API could not be reached (POST custom_hostnames)",
    });
    expect(logged(spies)).not.toContain(STAND_IN_CF_TOKEN);
  });

  it("without CF_API_TOKEN the endpoints answer 503 naming the missing setting", async () => {
    const { id, host } = await container("unconfigured");
    const res = await hostnames({ ...env, CF_API_TOKEN: "" }, "PUT", id, host);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: "custom_hostnames_not_configured",
      message: "custom hostnames need the secret CF_API_TOKEN",
    });
  });
});
