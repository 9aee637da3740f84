// Router behaviours the mutation runs found untested: the edge's own guard on http upstreams, the refusals' codes
// and messages, X-Forwarded-Proto for a plain-http request, the proxy path without its slash, what the upstream
// timeout covers, the detection beacon's access record, and CORS on a same-origin mount.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleTraffic } from "../../workers/router/traffic";
import { upstreamTimeoutMs } from "../../workers/router/upstream-fetch";
import { callRouter, deadUrl, encodeTarget, recordingQueue, routerRequest, seedContainer } from "../support/router-harness";

/** The router with the production setting for http upstreams (the test Worker allows them for the loopback origin). */
async function callStrictRouter(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const strictEnv = { ...env, ALLOW_INSECURE_UPSTREAM: "false", LOG_QUEUE: recordingQueue().queue };
  const response = await handleTraffic(request, strictEnv, ctx, new URL(request.url));
  await waitOnExecutionContext(ctx);
  return response;
}

describe("an http upstream in KV", () => {
  it("is refused with 502 upstream_not_allowed when insecure upstreams are not allowed", async () => {
    // The loopback origin is http://127.0.0.1:…, as an http upstream that reached KV some other way would be.
    const config = await seedContainer();
    const response = await callStrictRouter(routerRequest(config.infraHosts[0]!, "/echo"));
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "upstream_not_allowed", message: "the container's upstream is not allowed" });
  });
});

describe("an unknown host", () => {
  it("is a 404 naming the host", async () => {
    const { response } = await callRouter(routerRequest("nobody.unknown-host.example", "/"));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "unknown_host", message: "no container serves nobody.unknown-host.example" });
  });

  it("says 'on this path' when the host may serve other paths", async () => {
    const { response } = await callRouter(routerRequest("nobody.unknown-host.example", "/g/collect"));
    expect(((await response.json()) as { message: string }).message).toBe("no container serves nobody.unknown-host.example on this path");
  });
});

describe("X-Forwarded-Proto", () => {
  it("is http for a request that arrived over plain http", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(new Request(`http://${config.publicHosts[0]}/echo`));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { headers: Record<string, string> }).headers["x-forwarded-proto"]).toBe("http");
  });
});

describe("refusals name the problem", () => {
  it("a Host that is not a host name: 400 invalid_host", async () => {
    const { response } = await callRouter(routerRequest("ok.example", "/", { headers: { Host: "bad host!" } }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "invalid_host", message: "the request does not name a valid host" });
  });

  it("a method the obfuscated path does not take: 405 naming the ones it does", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, `/k/?p=${encodeTarget("/echo")}`, { method: "PUT" }));
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ error: "method_not_allowed", message: "/k/ accepts GET and POST" });
  });

  it("an unreachable upstream: 502 upstream_unreachable in plain words", async () => {
    const config = await seedContainer({ upstream: deadUrl() });
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/echo"));
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "upstream_unreachable", message: "the upstream could not be reached" });
  });
});

describe("the obfuscated path", () => {
  it("is also served without its trailing slash", async () => {
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, `/k?p=${encodeTarget("/echo/bare?x=1")}`));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ path: "/echo/bare", search: "?x=1" });
  });
});

describe("the upstream timeout", () => {
  it("covers only the wait for the headers: a body that takes longer still arrives whole", async () => {
    // UPSTREAM_TIMEOUT_MS is 1500 in the test Worker; the body's second part comes 2000 ms after the headers.
    const config = await seedContainer();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/drip?ms=2000"));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("first last");
  });

  it("falls back to 10 s when the setting is missing, not a number or not positive", () => {
    // The generated Env types the var as its configured literal; an operator can set any string.
    const timeout = (value: string | undefined) => upstreamTimeoutMs({ UPSTREAM_TIMEOUT_MS: value } as unknown as Env);
    for (const value of [undefined, "", "soon", "0", "-5", "Infinity"]) expect(timeout(value)).toBe(10_000);
    expect(timeout("250")).toBe(250);
  });
});

describe("access records", () => {
  it("class a detection beacon as detection", async () => {
    const config = await seedContainer();
    const { records } = await callRouter(
      routerRequest(config.publicHosts[0]!, "/mark-session-detection", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sessionId: "sess_12345678", adblock: false, itp: false }),
      }),
    );
    expect(records.map((r) => r.pathClass)).toContain("detection");
  });
});

describe("CORS on a same-origin mount", () => {
  it("trusts the mount's own site as an Origin (the host, without the path)", async () => {
    const id = `mount-cors-${crypto.randomUUID().slice(0, 8)}`;
    await seedContainer({ containerId: id, publicHosts: [`www.${id}.example/metrics`], allowedOrigins: [] });
    const origin = `https://www.${id}.example`;
    const { response } = await callRouter(
      routerRequest(`www.${id}.example`, "/metrics/k/", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  });
});
