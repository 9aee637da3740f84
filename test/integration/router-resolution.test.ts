// Which container a request belongs to: Host over X-Forwarded-Host, ROUTING_MAP then SITE_REGISTRY, X-Public-Host,
// same-origin mounts, the Durable Object fallback and config changes reaching live traffic.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { putConfig, waitApplied } from "../support/pipeline";
import { callRouter, encodeTarget, originUrl, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Longer than the test config's CONFIG_CACHE_TTL_MS (200 ms). */
const PAST_TTL_MS = 350;

async function servedBy(request: Request): Promise<string | undefined> {
  const { response, records } = await callRouter(request);
  await response.body?.cancel();
  return records[0]?.containerId;
}

describe("host resolution", () => {
  it("routes an infra host through ROUTING_MAP", async () => {
    const config = await seedContainer();
    expect(await servedBy(routerRequest(config.infraHosts[0]!, "/echo"))).toBe(config.containerId);
  });

  it("routes a public host through SITE_REGISTRY", async () => {
    const config = await seedContainer();
    expect(await servedBy(routerRequest(config.publicHosts[0]!, "/echo"))).toBe(config.containerId);
  });

  it("prefers the Host header over X-Forwarded-Host", async () => {
    const [a, b] = [await seedContainer(), await seedContainer()];
    const request = new Request("https://unrouted.example/echo", {
      headers: { Host: a.infraHosts[0]!, "X-Forwarded-Host": b.infraHosts[0]! },
    });
    expect(await servedBy(request)).toBe(a.containerId);
  });

  it("uses X-Forwarded-Host when there is no Host header", async () => {
    const config = await seedContainer();
    const request = new Request("https://unrouted.example/echo", { headers: { "X-Forwarded-Host": config.infraHosts[0]! } });
    expect(request.headers.has("Host")).toBe(false);
    expect(await servedBy(request)).toBe(config.containerId);
  });

  it("matches hosts lower-cased and without the port", async () => {
    const config = await seedContainer();
    const request = new Request("https://unrouted.example/echo", { headers: { Host: `${config.publicHosts[0]!.toUpperCase()}:8443` } });
    expect(await servedBy(request)).toBe(config.containerId);
  });

  it("answers 404 with a JSON error for an unknown host and logs nothing", async () => {
    const { response, records } = await callRouter(routerRequest(`${uniqueId()}.nowhere.example`, "/echo"));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "unknown_host" });
    expect(records).toEqual([]);
  });

  it("answers 400 for a Host that is not a host name", async () => {
    const { response } = await callRouter(new Request("https://unrouted.example/echo", { headers: { Host: "a b/c" } }));
    expect(response.status).toBe(400);
  });
});

describe("X-Public-Host", () => {
  it("is honoured when SITE_REGISTRY maps it to the same container", async () => {
    const config = await seedContainer({ publicHosts: [`ss.${uniqueId()}.example`, `ss.${uniqueId()}.example.de`] });
    const request = routerRequest(config.infraHosts[0]!, "/echo", { headers: { "X-Public-Host": config.publicHosts[1]! } });
    const { response, records } = await callRouter(request);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-forwarded-host"]).toBe(config.publicHosts[1]);
    expect(records[0]?.host).toBe(config.publicHosts[1]);
  });

  it("is ignored when it belongs to another container", async () => {
    const [mine, other] = [await seedContainer(), await seedContainer()];
    const request = routerRequest(mine.infraHosts[0]!, "/echo", { headers: { "X-Public-Host": other.publicHosts[0]! } });
    const { response, records } = await callRouter(request);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-forwarded-host"]).toBe(mine.infraHosts[0]);
    expect(records[0]?.containerId).toBe(mine.containerId);
    expect(records[0]?.host).toBe(mine.infraHosts[0]);
  });

  it("is ignored when it is not in SITE_REGISTRY at all", async () => {
    const config = await seedContainer();
    const request = routerRequest(config.infraHosts[0]!, "/echo", { headers: { "X-Public-Host": "unregistered.example" } });
    expect((await callRouter(request)).records[0]?.host).toBe(config.infraHosts[0]);
  });
});

describe("same-origin mode", () => {
  const mounted = () => seedContainer({ publicHosts: [`www.${uniqueId()}.example/metrics`] });
  const shopHost = (config: { publicHosts: string[] }) => config.publicHosts[0]!.split("/")[0]!;

  it("strips the mount prefix before proxying", async () => {
    const config = await mounted();
    const { response } = await callRouter(routerRequest(shopHost(config), "/metrics/echo/x?y=1"));
    expect(await response.json()).toMatchObject({ path: "/echo/x", search: "?y=1" });
  });

  it("serves the proxy path under the prefix", async () => {
    const config = await mounted();
    const { response } = await callRouter(routerRequest(shopHost(config), `/metrics/k/?p=${encodeTarget("/echo/g/collect")}`));
    expect(await response.json()).toMatchObject({ path: "/echo/g/collect" });
  });

  it("maps the bare prefix to the upstream root", async () => {
    const config = await mounted();
    const { records } = await callRouter(routerRequest(shopHost(config), "/metrics"));
    expect(records[0]?.path).toBe("/");
  });

  it("does not serve paths outside the prefix", async () => {
    const config = await mounted();
    expect((await callRouter(routerRequest(shopHost(config), "/echo"))).response.status).toBe(404);
    expect((await callRouter(routerRequest(shopHost(config), "/metricsx/echo"))).response.status).toBe(404);
  });

  it("uses the shop's own host as the public host", async () => {
    const config = await mounted();
    const { records } = await callRouter(routerRequest(shopHost(config), "/metrics/echo"));
    expect(records[0]?.host).toBe(shopHost(config));
  });
});

describe("config sources", () => {
  it("falls back to the Durable Object's applied config on a KV miss", async () => {
    const id = uniqueId();
    const { cookieDomains: _derived, ...config } = await seedContainer({ containerId: id });
    // What an operator submits: the derived cookieDomains are the control side's to add.
    expect((await putConfig(config)).status).toBe(202);
    await waitApplied(id, config.version);
    await env.EDGE_CONFIG.delete(id);
    expect(await servedBy(routerRequest(config.infraHosts[0]!, "/echo"))).toBe(id);
  });

  it("answers 404 when the host maps to a container no source has a config for", async () => {
    const host = `${uniqueId()}.edge.example`;
    await env.ROUTING_MAP.put(host, uniqueId());
    expect((await callRouter(routerRequest(host, "/echo"))).response.status).toBe(404);
  });

  it("sees a config change in KV once the in-isolate cache has expired", async () => {
    const config = await seedContainer();
    const before = await callRouter(routerRequest(config.infraHosts[0]!, `/k2/?p=${encodeTarget("/echo")}`));
    expect(before.records[0]?.pathClass).toBe("passthrough");
    await env.EDGE_CONFIG.put(config.containerId, JSON.stringify({ ...config, version: 2, proxyPath: "/k2/" }));
    await sleep(PAST_TTL_MS);
    const after = await callRouter(routerRequest(config.infraHosts[0]!, `/k2/?p=${encodeTarget("/echo")}`));
    expect(after.records[0]?.pathClass).toBe("proxy");
    expect(await after.response.json()).toMatchObject({ path: "/echo" });
  });
});

describe("through the whole Worker and the config pipeline", () => {
  it("routes a host once its PUT is applied, and stops once a later version removes it", async () => {
    const id = uniqueId();
    const host = `${id}.edge.example`;
    const v1 = edgeConfig({ containerId: id, upstream: originUrl(), infraHosts: [host], publicHosts: [] });
    expect((await putConfig(v1)).status).toBe(202);
    await waitApplied(id, 1);
    const live = await exports.default.fetch(`https://${host}/echo/live`);
    expect(await live.json()).toMatchObject({ path: "/echo/live" });

    const v2 = { ...v1, version: 2, infraHosts: [`${id}-new.edge.example`] };
    expect((await putConfig(v2)).status).toBe(202);
    await waitApplied(id, 2);
    await sleep(PAST_TTL_MS);
    expect((await exports.default.fetch(`https://${host}/echo/live`)).status).toBe(404);
    expect((await exports.default.fetch(`https://${id}-new.edge.example/echo/live`)).status).toBe(200);
  });
});
