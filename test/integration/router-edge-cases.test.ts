// Router behaviours the mutation run found untested: the edge's own guard on http upstreams, the unknown-host
// message, and X-Forwarded-Proto for a plain-http request.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleTraffic } from "../../workers/router/traffic";
import { callRouter, recordingQueue, routerRequest, seedContainer } from "../support/router-harness";

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
