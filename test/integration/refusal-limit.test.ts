// Bounded audit and key checks (issue 24 "The audit log can be flooded by a read-only key"): refused calls are limited
// per caller with the Workers Rate Limiting binding (REFUSED_CALLS, 30 a minute, the real limiter miniflare runs),
// answered 429 with Retry-After and not audited; audit rows are pruned in batches through an index on `at`.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { operatorAccess } from "../../durable/operator-access";
import type { OperatorRequest } from "../../workers/admin/access";
import { limitRefusals } from "../../workers/admin/refusal-limit";
import { jsonResponse } from "../../workers/shared/errors";
import { edgeConfig } from "../support/fixtures";
import { operator, putAndApply } from "../support/operator";
import { uniqueId } from "../support/takeovers";

/** The limiter counts fixed windows: a window may turn over mid-flood, so allow two windows' worth before the 429. */
const LIMIT = 30;

async function createKey(containers: string[] | "*", access: "read" | "write"): Promise<{ id: string; key: string }> {
  const { response } = await operator("/_edge/admin/keys", {
    method: "POST",
    body: JSON.stringify({ name: uniqueId("limit-key"), containers, access }),
  });
  return (await response.json()) as { id: string; key: string };
}

/** Sends `call` until it answers 429 (at most two windows' worth); returns the statuses before it and the 429. */
async function floodUntil429(call: () => Promise<Response>): Promise<{ before: number[]; limited: Response }> {
  const before: number[] = [];
  for (let i = 0; i <= 2 * LIMIT; i++) {
    const response = await call();
    if (response.status === 429) return { before, limited: response };
    before.push(response.status);
  }
  throw new Error(`no 429 after ${before.length} refused calls`);
}

describe("refused calls are limited per caller", () => {
  it("a client with a wrong token: 401s, then 429 with Retry-After, and then 429 even with the admin token", async () => {
    const client = { "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 250)}` };
    const wrong = { ...client, Authorization: "Bearer not-the-token" };
    const { before, limited } = await floodUntil429(
      async () => (await operator("/_edge/admin/keys", { method: "GET", headers: wrong })).response,
    );
    expect(before.length).toBeGreaterThanOrEqual(LIMIT);
    expect(new Set(before)).toEqual(new Set([401]));
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await limited.json()).toMatchObject({ error: "too_many_refusals" });
    // Blocked before any credential is checked.
    expect((await operator("/_edge/admin/keys", { method: "GET", headers: client })).response.status).toBe(429);
    // Another client is not.
    expect((await operator("/_edge/admin/keys", { method: "GET", headers: { "CF-Connecting-IP": "203.0.113.9" } })).response.status).toBe(
      200,
    );
  });

  it("a read-only key replaying: its 403s are audited up to the limit, the 429s are not, and other keys still work", async () => {
    const id = uniqueId("limit-shop");
    await putAndApply(edgeConfig({ containerId: id }));
    const flooder = await createKey([id], "read");
    const other = await createKey([id], "read");
    const replay = { method: "POST", body: JSON.stringify({ containerIds: [id] }), headers: { Authorization: `Bearer ${flooder.key}` } };
    const { before, limited } = await floodUntil429(async () => (await operator("/_edge/admin/replay", replay)).response);
    expect(new Set(before)).toEqual(new Set([403]));
    expect(limited.headers.get("Retry-After")).toBe("60");
    for (let i = 0; i < 5; i++) expect((await operator("/_edge/admin/replay", replay)).response.status).toBe(429);

    const audit = await operatorAccess(env).listAudit({ limit: 200 });
    const rows = audit.entries.filter((entry) => entry.actor === `key:${flooder.id}`);
    expect(rows).toHaveLength(before.length);
    expect(rows.every((row) => row.status === 403)).toBe(true);

    const status = await operator(`/_edge/admin/containers/${id}/status`, {
      method: "GET",
      headers: { Authorization: `Bearer ${other.key}` },
    });
    expect(status.response.status).toBe(200);
  });

  it("the admin token is not limited", async () => {
    for (let i = 0; i < LIMIT + 5; i++) {
      const { response } = await operator(`/_edge/admin/containers/${uniqueId("none")}/status`, { method: "GET" });
      expect(response.status).toBe(404);
    }
  });
});

describe("without the REFUSED_CALLS binding", () => {
  it("a refusal passes through unchanged (the local run's control Worker gets no rate-limit binding from wrangler dev)", async () => {
    const request = new Request("https://localhost/_edge/admin/keys") as OperatorRequest;
    const unbound = { ...env, REFUSED_CALLS: undefined } as unknown as Env;
    const refused = jsonResponse({ error: "unauthorized", message: "missing credential" }, 401);
    const answer = await limitRefusals(refused, request, unbound);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: "unauthorized" });
  });
});

describe("audit pruning", () => {
  it("deletes expired rows in batches through the index on `at`, not on every write", async () => {
    const stub = operatorAccess(env);
    const old = new Date(Date.now() - 401 * 86_400_000).toISOString();
    const plan = await runInDurableObject(stub, (instance, state) => {
      (instance as unknown as { nextPruneAt: number }).nextPruneAt = 0;
      for (let i = 0; i < 1200; i++) {
        state.storage.sql.exec(
          "INSERT INTO audit (at, actor, method, path, status, result) VALUES (?, 'admin', 'PUT', '/old', 202, 'ok')",
          old,
        );
      }
      return state.storage.sql
        .exec<{ detail: string }>("EXPLAIN QUERY PLAN SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?", old, 500)
        .toArray()
        .map((row) => row.detail)
        .join("; ");
    });
    expect(plan).toContain("audit_at");
    const expired = () =>
      runInDurableObject(
        stub,
        (_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM audit WHERE path = '/old'").one().n,
      );
    const entry = {
      actor: "admin",
      keyName: null,
      method: "PUT",
      path: "/new",
      containerId: null,
      status: 202,
      result: "ok",
      detail: null,
    };
    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      await stub.record(entry);
      left.push(await expired());
    }
    expect(left).toEqual([700, 200, 0, 0]);

    // Pruned up: the next expired row waits for the hourly prune instead of costing every write a query.
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec(
        "INSERT INTO audit (at, actor, method, path, status, result) VALUES (?, 'admin', 'PUT', '/old', 202, 'ok')",
        old,
      );
    });
    await stub.record(entry);
    expect(await expired()).toBe(1);
  });
});
