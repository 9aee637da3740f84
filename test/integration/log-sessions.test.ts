// Detection records into Supabase `loader_sessions` through @supabase/supabase-js.
// PostgREST cannot run here (no Docker), so the upsert goes over real HTTP to a stand-in
// (log-postgrest.global.mjs) that refuses any request not shaped the way PostgREST documents an upsert:
// POST /rest/v1/loader_sessions?on_conflict=session_id, `Prefer: resolution=merge-duplicates`,
// apikey and Authorization headers, a JSON array body.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { accessRecord, deliverLogs, detectionRecord, listKeys } from "../support/log-records";

declare module "vitest" {
  export interface ProvidedContext {
    logPostgrestUrl: string;
  }
}

const KEY = "service-role-test";
const at = (day: number, hour: number) => Date.UTC(2026, 2, day, hour);

interface StandIn {
  calls: { method: string; url: string; headers: Record<string, string>; body: string }[];
  rows: Record<string, unknown>[];
}

/** A fresh stand-in tenant per test: its own rows and call log. */
function supabase(name: string) {
  const url = `${inject("logPostgrestUrl")}/t/${crypto.randomUUID().slice(0, 8)}-${name}`;
  return {
    env: { SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: KEY },
    state: async (): Promise<StandIn> => (await fetch(`${url}/__calls`)).json(),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log consumer: loader_sessions", () => {
  it("upserts a batch's detection records in one PostgREST request", async () => {
    const db = supabase("one-request");
    const a = detectionRecord({ ts: at(1, 9), adblock: true });
    const b = detectionRecord({ ts: at(1, 9), itp: true, country: null });
    const { summary, result } = await deliverLogs([a, accessRecord({ ts: at(1, 9) }), b], { env: db.env });

    expect(result.ackAll).toBe(true);
    expect(summary.sessionsUpserted).toBe(2);
    const { calls, rows } = await db.state();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toContain("/rest/v1/loader_sessions?on_conflict=session_id");
    expect(rows).toEqual([
      { session_id: a.sessionId, container_id: "shop1", host: a.host, adblock: true, itp: false, country: "DE", detected_at: "2026-03-01T09:00:00.000Z" },
      { session_id: b.sessionId, container_id: "shop1", host: b.host, adblock: false, itp: true, country: null, detected_at: "2026-03-01T09:00:00.000Z" },
    ]);
  });

  it("folds a session reported twice in one batch into its newest report (Postgres refuses touching a row twice)", async () => {
    const db = supabase("fold");
    const early = detectionRecord({ ts: at(2, 9), adblock: false });
    const late = { ...early, ts: at(2, 10), adblock: true };
    const { result } = await deliverLogs([late, early], { env: db.env });

    expect(result.ackAll).toBe(true);
    const { rows } = await db.state();
    expect(rows).toEqual([expect.objectContaining({ session_id: early.sessionId, adblock: true, detected_at: "2026-03-02T10:00:00.000Z" })]);
  });

  it("updates the existing row when a batch is delivered again", async () => {
    const db = supabase("redelivery");
    const record = detectionRecord({ ts: at(3, 9), itp: true });
    await deliverLogs([record], { env: db.env, ids: ["s-1"] });
    const again = await deliverLogs([record], { env: db.env, ids: ["s-1"], attempts: 2 });

    expect(again.result.ackAll).toBe(true);
    const { calls, rows } = await db.state();
    expect(calls).toHaveLength(2);
    expect(rows).toHaveLength(1);
  });

  it("retries the whole batch and removes its R2 objects when Supabase fails", async () => {
    const db = supabase("outage-down");
    const write = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");
    const { summary, result, retryAll } = await deliverLogs([detectionRecord({ ts: at(4, 9) }), accessRecord({ ts: at(4, 9) })], {
      env: db.env,
    });

    expect(summary.status).toBe("retried");
    expect(result.retryBatch.retry).toBe(true);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: 2 });
    expect(await listKeys("logs/dt=2026-03-04/")).toEqual([]);
    expect(write).not.toHaveBeenCalled();
  });

  it("sends nothing to Supabase when it is not configured, and still writes R2", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const { summary, result } = await deliverLogs([detectionRecord({ ts: at(5, 9) })]);

    expect(result.ackAll).toBe(true);
    expect(summary.sessionsUpserted).toBe(0);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(await listKeys("logs/dt=2026-03-05/")).toHaveLength(1);
  });

  it("makes no Supabase request for a batch without detection records", async () => {
    const db = supabase("no-detections");
    await deliverLogs([accessRecord({ ts: at(6, 9) })], { env: db.env });
    expect((await db.state()).calls).toEqual([]);
  });
});
