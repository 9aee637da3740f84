// Detection records into Supabase `loader_sessions` through @supabase/supabase-js.
// PostgREST cannot run here (no Docker), so the upsert goes over real HTTP to the project's PostgREST stand-in
// (test/support/postgrest-stand-in.mjs), which answers the way PostgREST documents an upsert —
// POST /rest/v1/loader_sessions?on_conflict=session_id with `Prefer: resolution=merge-duplicates`, apikey and
// Authorization headers and a JSON array body — and refuses wrong keys and rows touched twice as PostgREST would.
// The column names asserted here are supabase/migrations' `loader_sessions`.
import { afterEach, describe, expect, it, vi } from "vitest";
import { WindowHarness } from "../support/analytics-window";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs, listKeys } from "../support/log-records";
import { STAND_IN_SERVICE_KEY, standInTenant } from "../support/postgrest-stand-in.client";

const at = (day: number, hour: number) => Date.UTC(2026, 2, day, hour);

function supabase(name: string) {
  return standInTenant(`log-${name}-${crypto.randomUUID().slice(0, 8)}`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log consumer: loader_sessions", () => {
  it("upserts a batch's detection records in one PostgREST request shaped as the docs describe", async () => {
    const db = supabase("one-request");
    const a = detectionRecord({ ts: at(1, 9), adblock: true });
    const b = detectionRecord({ ts: at(1, 9), itp: true, etp: false, mode: "same-origin", country: null, bot: true });
    const { summary, result } = await deliverLogs([a, accessRecord({ ts: at(1, 9) }), b], { env: db.env });

    expect(result.ackAll).toBe(true);
    expect(summary.sessionsUpserted).toBe(2);
    const requests = await db.requests();
    expect(requests).toHaveLength(1);
    const [upsert] = requests;
    expect(upsert).toMatchObject({ method: "POST", path: "/rest/v1/loader_sessions", query: { on_conflict: "session_id" } });
    expect(upsert!.headers).toMatchObject({ apikey: STAND_IN_SERVICE_KEY, authorization: `Bearer ${STAND_IN_SERVICE_KEY}` });
    expect(upsert!.headers.prefer).toContain("resolution=merge-duplicates");
    expect(upsert!.headers["content-type"]).toContain("application/json");
    expect(upsert!.body).toEqual([
      {
        session_id: a.sessionId,
        container_id: "shop1",
        host: a.host,
        adblock: true,
        itp: false,
        etp: false,
        mode: "subdomain",
        country: "DE",
        bot: null,
        detected_at: "2026-03-01T09:00:00.000Z",
      },
      {
        session_id: b.sessionId,
        container_id: "shop1",
        host: b.host,
        adblock: false,
        itp: true,
        etp: false,
        mode: "same-origin",
        country: null,
        bot: true,
        detected_at: "2026-03-01T09:00:00.000Z",
      },
    ]);
    expect(await db.rows("loader_sessions")).toEqual(upsert!.body);
  });

  it("folds a session reported twice in one batch into its newest report (Postgres refuses touching a row twice)", async () => {
    const db = supabase("fold");
    const early = detectionRecord({ ts: at(2, 9), adblock: false });
    const late = { ...early, ts: at(2, 10), adblock: true };
    const { result } = await deliverLogs([late, early], { env: db.env });

    expect(result.ackAll).toBe(true);
    expect(await db.rows("loader_sessions")).toEqual([
      expect.objectContaining({ session_id: early.sessionId, adblock: true, detected_at: "2026-03-02T10:00:00.000Z" }),
    ]);
  });

  it("updates the existing row when a batch is delivered again", async () => {
    const db = supabase("redelivery");
    const record = detectionRecord({ ts: at(3, 9), itp: true });
    await deliverLogs([record], { env: db.env, ids: ["s-1"] });
    const again = await deliverLogs([record], { env: db.env, ids: ["s-1"], attempts: 2 });

    expect(again.result.ackAll).toBe(true);
    expect(await db.requests()).toHaveLength(2);
    expect(await db.rows("loader_sessions")).toHaveLength(1);
  });

  it("retries the whole batch and removes its R2 objects when Supabase refuses the upsert", async () => {
    const db = supabase("refused");
    const window = new WindowHarness();
    const { summary, result, retryAll } = await deliverLogs([detectionRecord({ ts: at(4, 9) }), accessRecord({ ts: at(4, 9) })], {
      env: { ...db.env, ...window.env, SUPABASE_SERVICE_ROLE_KEY: "revoked-key" },
    });

    expect(summary.status).toBe("retried");
    expect(result.retryBatch.retry).toBe(true);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: 2 });
    expect(await listKeys("logs/dt=2026-03-04/")).toEqual([]);
    expect(await window.partials()).toBe(0);
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
    expect(await db.requests()).toEqual([]);
  });
});
