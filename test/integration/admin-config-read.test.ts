// GET /_edge/admin/containers/:id (the accepted config read back), the 202's warnings, the hint for commented JSON,
// and lists that a key limited to some containers sees its part of (no 403 with a hint that does not work).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runAlertChecks } from "../../workers/alerts/check";
import { edgeConfig } from "../support/fixtures";
import { accessRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";
import { admin, putConfig, waitApplied } from "../support/pipeline";

async function keyFor(containers: string[] | "*", access: "read" | "write" = "read"): Promise<string> {
  const res = await admin("/_edge/admin/keys", { method: "POST", body: JSON.stringify({ name: "reader", containers, access }) });
  return ((await res.json()) as { key: string }).key;
}

function withKey(key: string, path: string): Promise<Response> {
  return exports.default.fetch(`http://localhost${path}`, { headers: { Authorization: `Bearer ${key}` } });
}

describe("GET /_edge/admin/containers/:id", () => {
  it("answers the config as accepted and its version, before and after it is live", async () => {
    const config = edgeConfig({ containerId: "read-back", version: 3 });
    expect((await putConfig(config)).status).toBe(202);
    await waitApplied("read-back", 3);
    const changed = { ...config, version: 4, gtmId: "GTM-NEW123" };
    expect((await putConfig(changed)).status).toBe(202);

    const res = await admin("/_edge/admin/containers/read-back");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { version: number; config: Record<string, unknown> };
    expect(body.version).toBe(4);
    // What was submitted, with the defaults filled in, and no derived field (cookieDomains).
    expect(body.config).toMatchObject(changed);
    expect(body.config).toMatchObject({ proxyPath: "/k/", proxyParam: "p" });
    expect(body.config).not.toHaveProperty("cookieDomains");
    await waitApplied("read-back", 4);
    expect(await (await admin("/_edge/admin/containers/read-back")).json()).toMatchObject({ version: 4, appliedVersion: 4, inSync: true });
  });

  it("is 404 for a container never configured, and names the removal once deleted", async () => {
    const never = await admin("/_edge/admin/containers/read-never");
    expect(never.status).toBe(404);
    expect(await never.json()).toEqual({ error: "not_found", message: "container read-never has never been configured" });

    await putConfig(edgeConfig({ containerId: "read-gone" }));
    expect((await admin("/_edge/admin/containers/read-gone", { method: "DELETE" })).status).toBe(202);
    const gone = await admin("/_edge/admin/containers/read-gone");
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { message: string }).message).toContain("is deleted (version 2)");
  });

  it("is scoped like the other reads: a key for another container gets 403", async () => {
    await putConfig(edgeConfig({ containerId: "read-own" }));
    await putConfig(edgeConfig({ containerId: "read-other" }));
    const key = await keyFor(["read-own"]);
    expect((await withKey(key, "/_edge/admin/containers/read-own")).status).toBe(200);
    const denied = await withKey(key, "/_edge/admin/containers/read-other");
    expect(denied.status).toBe(403);
    expect(JSON.stringify(await denied.json())).not.toContain("gtmId");
  });
});

describe("PUT warnings", () => {
  it("warns about a module enabled without its entitlement, and about nothing when all is entitled", async () => {
    const config = edgeConfig({ containerId: "warn-bot", entitlements: ["cookie_restoration"] });
    config.modules = { ...config.modules, botDetection: { enabled: true, action: "tag" } };
    const res = await putConfig(config);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { warnings: string[] }).warnings).toEqual([
      'modules.adblockDetection is enabled but entitlements lacks "adblock_detection": it does not run',
      'modules.botDetection is enabled but entitlements lacks "bot_detection": it does not run',
    ]);
    const clean = await putConfig(edgeConfig({ containerId: "warn-none" }));
    expect(((await clean.json()) as { warnings: string[] }).warnings).toEqual([]);
  });

  it("names comments as the reason a body is not JSON, and changes nothing", async () => {
    const annotated = `{\n  "containerId": "json-comments", // the container\n  "version": 1\n}`;
    const res = await admin("/_edge/admin/containers/json-comments", { method: "PUT", body: annotated });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_json",
      message: "body is not valid JSON: it has a comment on line 2; JSON allows no comments (// or /* */), remove them",
    });
    // A "//" inside a string is no comment.
    const url = await admin("/_edge/admin/containers/json-url", { method: "PUT", body: '{"upstream": "https://x.example",' });
    expect(((await url.json()) as { message: string }).message).toBe("body is not valid JSON");
    expect((await admin("/_edge/admin/containers/json-comments/status")).status).toBe(404);
  });
});

describe("a key limited to some containers", () => {
  it("lists only its containers on GET /_edge/admin/containers", async () => {
    for (const id of ["scope-a1", "scope-a2", "scope-b1"]) await putConfig(edgeConfig({ containerId: id }));
    await waitApplied("scope-b1", 1);
    const key = await keyFor(["scope-a2", "scope-a1"]);
    const first = await withKey(key, "/_edge/admin/containers?limit=1");
    expect(first.status).toBe(200);
    const page = (await first.json()) as { containers: { containerId: string }[]; next: string | null };
    expect(page.containers.map((c) => c.containerId)).toEqual(["scope-a1"]);
    const second = (await (await withKey(key, `/_edge/admin/containers?limit=1&cursor=${page.next}`)).json()) as typeof page;
    expect(second.containers.map((c) => c.containerId)).toEqual(["scope-a2"]);
    expect(second.next).toBeNull();
  });

  it("sees only its containers' alerts", async () => {
    const now = Date.now() + 40 * 24 * 3600_000;
    const failing = (containerId: string) =>
      Array.from({ length: 30 }, (_, i) =>
        accessRecord({ containerId, ts: now - 60_000 - i * 1000, status: 502, reason: "upstream_unreachable" }),
      );
    await deliverLogs([...failing("alert-mine"), ...failing("alert-theirs")]);
    await runAlertChecks(env, now);
    await runAlertChecks(env, now + 60_000);
    const all = (await (await admin("/_edge/admin/alerts")).json()) as { open: { containerId: string }[] };
    expect(all.open.map((a) => a.containerId)).toEqual(expect.arrayContaining(["alert-mine", "alert-theirs"]));
    const key = await keyFor(["alert-mine"]);
    const res = await withKey(key, "/_edge/admin/alerts");
    expect(res.status).toBe(200);
    const mine = (await res.json()) as { open: { containerId: string }[] };
    expect(mine.open.map((a) => a.containerId)).toEqual(["alert-mine"]);
  });
});
