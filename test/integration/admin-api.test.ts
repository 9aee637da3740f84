// Operator API: auth, and bad input that must change nothing.

import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeApi } from "../../workers/admin/api";
import { ADMIN, edgeConfig } from "../support/fixtures";
import { admin, putConfig, statusOf } from "../support/pipeline";

async function expectUntouched(containerId: string) {
  expect(await statusOf(containerId)).toBeNull();
  expect(await env.EDGE_CONFIG.get(containerId)).toBeNull();
}

describe("auth", () => {
  it("health needs no credentials", async () => {
    const res = await exports.default.fetch("https://any.example/_edge/health");
    expect(res.status).toBe(200);
  });

  it("a wrong bearer token gets 401 and changes nothing", async () => {
    const denied = await exports.default.fetch("https://edge.example/_edge/admin/containers/auth-y", {
      method: "PUT",
      headers: { Authorization: "Bearer wrong", "Content-Type": "application/json" },
      body: JSON.stringify(edgeConfig({ containerId: "auth-y" })),
    });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: "unauthorized", message: "missing or wrong bearer token" });
    await expectUntouched("auth-y");
  });

  it("a missing bearer token gets 401 on every admin endpoint", async () => {
    for (const [method, path] of [
      ["GET", "/_edge/admin/containers/auth-z/status"],
      ["DELETE", "/_edge/admin/containers/auth-z"],
      ["POST", "/_edge/admin/replay"],
    ] as const) {
      const res = await exports.default.fetch(`https://edge.example${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("a wrong webhook secret gets 401", async () => {
    const res = await exports.default.fetch("https://edge.example/_edge/hooks/supabase", {
      method: "POST",
      headers: { "X-Webhook-Secret": "wrong" },
      body: "{}",
    });
    expect(res.status).toBe(401);
  });

  // A secret left unset in a deployment must never turn an empty credential into a valid one.
  for (const [secret, path, method, header, empty] of [
    ["ADMIN_TOKEN", "/_edge/admin/containers/unset-secret/status", "GET", "Authorization", "Bearer "],
    ["WEBHOOK_SECRET", "/_edge/hooks/supabase", "POST", "X-Webhook-Secret", ""],
    ["EDGE_AUTH_SECRET", "/_edge/config/unset-secret", "GET", "X-Edge-Auth", ""],
  ] as const) {
    for (const unset of ["", undefined]) {
      it(`with ${secret} ${unset === undefined ? "missing" : "empty"}, an empty ${header} gets 401`, async () => {
        const request = new Request(`http://localhost${path}`, {
          method,
          headers: { [header]: empty },
          body: method === "POST" ? "{}" : undefined,
        });
        const res = await edgeApi.fetch(request, { ...env, [secret]: unset }, createExecutionContext());
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: "unauthorized" });
      });
    }
  }
});

describe("bad input", () => {
  it("malformed JSON gets 400 invalid_json", async () => {
    const res = await admin("/_edge/admin/containers/bad-json", { method: "PUT", body: "{ not json" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_json" });
    await expectUntouched("bad-json");
  });

  it.each([
    ["an ICANN suffix", "co.uk", "ICANN"],
    ["a host matched by a wildcard rule (*.ck)", "shop.ck", "ICANN"],
    ["a private-section suffix", "pages.dev", "private"],
    ["a same-origin mount on a suffix", "github.io/metrics", "private"],
  ])("a public host that is %s gets 400 naming it, and nothing is queued", async (_what, host, section) => {
    const containerId = `psl-${section.toLowerCase()}-${host.length}`;
    const res = await putConfig(edgeConfig({ containerId, publicHosts: [`ss.${containerId}.example`, host] }));
    expect(res.status).toBe(400);
    const bare = host.split("/")[0];
    expect(await res.json()).toEqual({
      error: "invalid_body",
      message: `invalid body: publicHosts[1]: ${bare} is a public suffix (${section} section of the Public Suffix List): browsers refuse cookies for it, so use a host of the site under it, like ss.shop.${bare}`,
    });
    await expectUntouched(containerId);
  });

  it("an unknown field gets 400 naming the field", async () => {
    const res = await putConfig({ ...edgeConfig({ containerId: "bad-field" }), tracking: "on" } as never);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('unknown field "tracking"');
    await expectUntouched("bad-field");
  });

  it("an invalid container id in the path gets 400", async () => {
    const res = await admin("/_edge/admin/containers/BAD..ID/status");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_container_id" });
  });

  it("a body whose containerId differs from the path gets 400", async () => {
    const res = await admin("/_edge/admin/containers/bad-path", {
      method: "PUT",
      body: JSON.stringify(edgeConfig({ containerId: "bad-other" })),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("does not match the path");
    await expectUntouched("bad-path");
    await expectUntouched("bad-other");
  });

  it("a huge body gets 413", async () => {
    const huge = JSON.stringify({ ...edgeConfig({ containerId: "bad-huge" }), pad: "x".repeat(200_000) });
    const res = await admin("/_edge/admin/containers/bad-huge", { method: "PUT", body: huge });
    expect(res.status).toBe(413);
    await expectUntouched("bad-huge");
  });

  it("a huge streamed body without Content-Length gets 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16_384));
    let sent = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await admin("/_edge/admin/replay", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("an http upstream is refused when ALLOW_INSECURE_UPSTREAM is not true", async () => {
    // The test bindings allow http (local stand-ins); production's default is "false".
    const request = new Request("https://edge.example/_edge/admin/containers/bad-http", {
      method: "PUT",
      headers: ADMIN,
      body: JSON.stringify(edgeConfig({ containerId: "bad-http", upstream: "http://sgtm.example" })),
    });
    const res = await edgeApi.fetch(request, { ...env, ALLOW_INSECURE_UPSTREAM: "false" }, createExecutionContext());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("upstream must be https");
    await expectUntouched("bad-http");
  });

  it("an unknown /_edge/ path gets a JSON 404", async () => {
    const res = await exports.default.fetch("https://edge.example/_edge/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it("DELETE of a container never configured gets 404", async () => {
    const res = await admin("/_edge/admin/containers/never-seen", { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(await statusOf("never-seen")).toBeNull();
  });

  it("a replay body of the wrong shape gets 400 describing the accepted shapes", async () => {
    const res = await admin("/_edge/admin/replay", { method: "POST", body: JSON.stringify({ all: "yes" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('{"containerIds": [...]}');
  });

  it("a malformed percent-escape in the container id gets 400, not 500", async () => {
    for (const [method, path] of [
      ["GET", "/_edge/admin/containers/%ff/status"],
      ["PUT", "/_edge/admin/containers/shop%E0%A4%A"],
      ["DELETE", "/_edge/admin/containers/%ff"],
    ] as const) {
      const res = await admin(path, { method, body: method === "PUT" ? JSON.stringify(edgeConfig()) : undefined });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_path" });
    }
    const config = await exports.default.fetch("http://localhost/_edge/config/%ff", { headers: { "X-Edge-Auth": "test-edge-auth" } });
    expect(config.status).toBe(400);
  });

  it("a malformed percent-escape in any path segment of any route gets 400 invalid_path (issue 24)", async () => {
    for (const [method, path] of [
      ["GET", "/_edge/admin/containers/shop1/hostnames/%ff"],
      ["PUT", "/_edge/admin/containers/shop1/hostnames/ss.%E0%A4%A.example"],
      ["DELETE", "/_edge/admin/containers/%ff/hostnames/ss.shop1.example"],
      ["DELETE", "/_edge/admin/keys/%ff"],
      ["PUT", "/_edge/admin/alerts/thresholds/%ff"],
      ["GET", "/_edge/admin/containers/%ff"],
      ["GET", "/_edge/admin/%ff"],
      ["POST", "/_edge/%ff/replay"],
      ["GET", "/_edge/admin/logs/%"],
    ] as const) {
      const res = await admin(path, { method, body: method === "GET" ? undefined : "{}" });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_path" });
    }
  });

  it("a public host on the domain of the config's own infra host gets 400 naming it", async () => {
    const res = await putConfig(
      edgeConfig({ containerId: "bad-platform", infraHosts: ["bad-platform.edge.example"], publicHosts: ["evil.edge.example"] }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("publicHosts[0]: evil.edge.example is on edge.example");
    await expectUntouched("bad-platform");
  });
});
