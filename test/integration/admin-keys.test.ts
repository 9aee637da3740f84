// Scoped API keys and the audit log, from the operator's side: HTTP against the Worker (real Durable Objects,
// real local config queue).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { admin, putConfig, waitApplied } from "../support/pipeline";

interface CreatedKey {
  id: string;
  key: string;
  name: string;
  containers: string[] | "*";
  access: "read" | "write";
  revokedAt: string | null;
}

async function createKey(body: unknown): Promise<CreatedKey> {
  const res = await admin("/_edge/admin/keys", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return res.json<CreatedKey>();
}

function withKey(key: string, path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`https://edge.example${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  });
}

describe("API keys", () => {
  it("a key is shown once, stored only as its SHA-256, and listed without its secret", async () => {
    const created = await createKey({ name: "deploy-bot", containers: ["key-a"], access: "write" });
    expect(created.key).toMatch(/^qxk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "deploy-bot", containers: ["key-a"], access: "write", revokedAt: null });

    const listed = await (await admin("/_edge/admin/keys")).json<{ keys: Record<string, unknown>[] }>();
    const entry = listed.keys.find((k) => k.id === created.id)!;
    expect(entry).toMatchObject({ name: "deploy-bot", access: "write" });
    expect(JSON.stringify(listed)).not.toContain(created.key);

    // What the object stores: the hash, never the key.
    const { runInDurableObject } = await import("cloudflare:test");
    const stub = env.OPERATOR_ACCESS.get(env.OPERATOR_ACCESS.idFromName("operator-access"));
    const stored = await runInDurableObject(
      stub,
      (_, state) => state.storage.sql.exec<{ hash: string }>("SELECT hash FROM api_keys WHERE id = ?", created.id).toArray()[0]!.hash,
    );
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(created.key));
    expect(stored).toBe([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("a write key may change its own containers and nothing else", async () => {
    const { key } = await createKey({ name: "shop-a-writer", containers: ["key-own"], access: "write" });
    const own = await withKey(key, "/_edge/admin/containers/key-own", {
      method: "PUT",
      body: JSON.stringify(edgeConfig({ containerId: "key-own" })),
    });
    expect(own.status).toBe(202);
    const other = await withKey(key, "/_edge/admin/containers/key-other", {
      method: "PUT",
      body: JSON.stringify(edgeConfig({ containerId: "key-other" })),
    });
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({ error: "forbidden", message: 'API key "shop-a-writer" may not change key-other' });
    await waitApplied("key-own", 1);
    expect((await withKey(key, "/_edge/admin/containers/key-own/status")).status).toBe(200);
  });

  it("a read key may read its containers' status and report but not write", async () => {
    await putConfig(edgeConfig({ containerId: "key-read" }));
    const { key } = await createKey({ name: "dashboard", containers: ["key-read"], access: "read" });
    expect((await withKey(key, "/_edge/admin/containers/key-read/status")).status).toBe(200);
    expect((await withKey(key, "/_edge/admin/report?container=key-read&since=1h")).status).toBe(200);
    const put = await withKey(key, "/_edge/admin/containers/key-read", {
      method: "PUT",
      body: JSON.stringify(edgeConfig({ containerId: "key-read", version: 2 })),
    });
    expect(put.status).toBe(403);
    expect(((await put.json()) as { message: string }).message).toBe('API key "dashboard" is read-only');
    // Without a container filter the report covers every container, which this key may not read.
    expect((await withKey(key, "/_edge/admin/report?since=1h")).status).toBe(403);
    expect((await withKey(key, "/_edge/admin/logs?since=1h")).status).toBe(403);
  });

  it("keys and the audit log need the admin token, even for a key on every container", async () => {
    const { key } = await createKey({ name: "wide", containers: "*", access: "write" });
    expect((await withKey(key, "/_edge/admin/keys")).status).toBe(403);
    expect(
      (await withKey(key, "/_edge/admin/keys", { method: "POST", body: JSON.stringify({ name: "x", containers: "*", access: "write" }) }))
        .status,
    ).toBe(403);
    expect((await withKey(key, "/_edge/admin/audit")).status).toBe(403);
    expect((await withKey(key, "/_edge/admin/replay", { method: "POST", body: JSON.stringify({ all: true }) })).status).toBe(403);
  });

  it("a revoked key is refused at once", async () => {
    const created = await createKey({ name: "leaked", containers: ["key-rev"], access: "read" });
    await putConfig(edgeConfig({ containerId: "key-rev" }));
    expect((await withKey(created.key, "/_edge/admin/containers/key-rev/status")).status).toBe(200);
    const revoked = await admin(`/_edge/admin/keys/${created.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as CreatedKey).revokedAt).not.toBeNull();
    const after = await withKey(created.key, "/_edge/admin/containers/key-rev/status");
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: "unauthorized", message: "unknown or revoked API key" });
    expect((await admin("/_edge/admin/keys/0000000000000000", { method: "DELETE" })).status).toBe(404);
  });

  it("a key with a forged secret is refused", async () => {
    const created = await createKey({ name: "real", containers: "*", access: "read" });
    const forged = `${created.key.slice(0, -4)}AAAA`;
    expect((await withKey(forged, "/_edge/admin/containers/key-a/status")).status).toBe(401);
  });

  it("a bad key body names the field", async () => {
    const res = await admin("/_edge/admin/keys", { method: "POST", body: JSON.stringify({ name: "x", containers: [], access: "admin" }) });
    expect(res.status).toBe(400);
    const { message } = (await res.json()) as { message: string };
    expect(message).toContain("containers must have at least 1 items, got 0");
    expect(message).toContain('access must be "read" or "write"');
  });
});

describe("audit log", () => {
  it("records every write with who, what, when and the result, newest first, and reads are not recorded", async () => {
    const { key, id } = await createKey({ name: "auditor-test", containers: ["aud-shop"], access: "write" });
    const started = new Date().toISOString();
    expect(
      (
        await withKey(key, "/_edge/admin/containers/aud-shop", {
          method: "PUT",
          body: JSON.stringify(edgeConfig({ containerId: "aud-shop", version: 4 })),
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await withKey(key, "/_edge/admin/containers/aud-shop", {
          method: "PUT",
          body: JSON.stringify(edgeConfig({ containerId: "aud-shop", version: 3 })),
        })
      ).status,
    ).toBe(409);
    expect((await withKey(key, "/_edge/admin/containers/aud-elsewhere", { method: "DELETE" })).status).toBe(403);
    expect((await withKey(key, "/_edge/admin/containers/aud-shop/status")).status).toBe(200);

    const page = await (await admin("/_edge/admin/audit?container=aud-shop")).json<{
      entries: Record<string, unknown>[];
      cursor: string | null;
    }>();
    expect(page.entries.map((e) => [e.method, e.status, e.result])).toEqual([
      ["PUT", 409, "stale_version"],
      ["PUT", 202, "ok"],
    ]);
    expect(page.entries[1]).toMatchObject({
      actor: `key:${id}`,
      keyName: "auditor-test",
      path: "/_edge/admin/containers/aud-shop",
      containerId: "aud-shop",
      detail: "version 4",
    });
    expect(page.entries[0]!.detail).toContain("not newer than version 4");
    expect(String(page.entries[1]!.at) >= started).toBe(true);

    const denied = await (await admin("/_edge/admin/audit?container=aud-elsewhere")).json<{ entries: Record<string, unknown>[] }>();
    expect(denied.entries).toEqual([expect.objectContaining({ method: "DELETE", status: 403, result: "forbidden", actor: `key:${id}` })]);
  });

  it("pages with a cursor", async () => {
    for (const version of [1, 2, 3]) await putConfig(edgeConfig({ containerId: "aud-pages", version }));
    const first = await (await admin("/_edge/admin/audit?container=aud-pages&limit=2")).json<{
      entries: { detail: string }[];
      cursor: string;
    }>();
    expect(first.entries.map((e) => e.detail)).toEqual(["version 3", "version 2"]);
    const second = await (await admin(`/_edge/admin/audit?container=aud-pages&limit=2&cursor=${first.cursor}`)).json<{
      entries: { detail: string; actor: string }[];
      cursor: string | null;
    }>();
    expect(second.entries.map((e) => [e.detail, e.actor])).toEqual([["version 1", "admin"]]);
    expect(second.cursor).toBeNull();
  });

  it("records key creation and revocation by the admin token", async () => {
    const created = await createKey({ name: "short-lived", containers: "*", access: "read" });
    await admin(`/_edge/admin/keys/${created.id}`, { method: "DELETE" });
    const page = await (await admin("/_edge/admin/audit?limit=5")).json<{ entries: { actor: string; path: string; detail: string }[] }>();
    expect(page.entries[0]).toMatchObject({ actor: "admin", path: `/_edge/admin/keys/${created.id}`, detail: `revoked key ${created.id}` });
    expect(page.entries[1]).toMatchObject({
      actor: "admin",
      path: "/_edge/admin/keys",
      detail: `created key ${created.id} "short-lived" (read on all containers)`,
    });
  });
});
