// The cost model (bench/cost-model.mjs) against a real local run: both Workers as deployed, with counters on their
// bindings (bench/lib/binding-spies.ts), visitor sessions sent over HTTP, and every operation the spies saw compared
// with what the model predicts for exactly those hits. The phases are laid out so that their window boundaries do not
// depend on this machine's speed: each phase ends well inside one log window, and the next starts after the queue
// drained.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AE_POINTS_PER_INVOCATION as MODEL_AE_POINTS_PER_INVOCATION, operationsFor } from "../../bench/cost-model.mjs";
import { modelSettings, PACKING } from "../../bench/cost-settings.mjs";
import { logObjects, measuredOperations, recordBytes } from "../../bench/lib/cost-measure.mjs";
import { drained, startCostPlatform } from "../../bench/lib/cost-platform.mjs";
import { createClient, fetchScript, makeReturningVisitors, newVisitor, runSession } from "../../bench/lib/cost-traffic.mjs";
import {
  AE_POINTS_PER_INVOCATION,
  LOG_CONSUMER_BATCH_SIZE,
  LOG_FLUSH_RECORDS,
  MAX_MESSAGE_BYTES,
  MAX_RECORDS_PER_MESSAGE,
} from "../../schemas/log-record";

// A log window far longer than a phase takes. Config caches that expire inside the run, between phases only: an
// isolate's entries live 2 s (so they expire within every phase and the isolate asks its location), the location's
// 9 s (longer than a phase, shorter than a phase plus the drain after it, so each phase's opener reads KV again).
// Analytics windows of a day, closed by the drains that say so: the aggregator's points do not depend on timing.
const VARS = { LOG_WINDOW_MS: "8000", CONFIG_CACHE_TTL_MS: "2000", LOCATION_CACHE_TTL_MS: "9000", ANALYTICS_WINDOW_MS: "86400000" };
const settings = modelSettings(VARS);
const SITES = 3;

type Hit = { kind: string; t: number; status: number; container?: string };
type Platform = Awaited<ReturnType<typeof startCostPlatform>>;
let platform: Platform;
let client: ReturnType<typeof createClient>;

beforeAll(async () => {
  platform = await startCostPlatform({ vars: VARS, sites: SITES });
  client = createClient(platform.url);
}, 240_000);

afterAll(async () => {
  client?.close();
  await platform?.stop();
});

const session = (visitor: ReturnType<typeof newVisitor>, pages: number, i: number, changedCookie = false) => ({
  visitor,
  pages,
  changedCookie,
  adblock: i % 4 === 0,
  country: ["DE", "FR", "US"][i % 3],
  sessionId: `model_${visitor.id}_${i}`,
});

/**
 * A phase: one loader script per site, one after another (each finds its location's entries expired and alone reads
 * KV, as no concurrent request could race it), then the sessions at once.
 */
async function phase(sessions: ReturnType<typeof session>[], log: Hit[]): Promise<void> {
  for (const site of platform.sites) await fetchScript(client, site, log);
  await Promise.all(sessions.map((s) => runSession(client, s, log)));
}

describe("cost model", () => {
  it("uses the packing limits, record bound, consumer batch and Analytics Engine limit the Workers use", () => {
    expect(PACKING).toEqual({ maxRecords: MAX_RECORDS_PER_MESSAGE, maxBytes: MAX_MESSAGE_BYTES, flushRecords: LOG_FLUSH_RECORDS });
    expect(settings.consumerBatch).toBe(LOG_CONSUMER_BATCH_SIZE);
    expect(MODEL_AE_POINTS_PER_INVOCATION).toBe(AE_POINTS_PER_INVOCATION);
  });

  it("holds a log buffer as log-buffer.ts does: while records keep coming, up to its maximum age or record bound", () => {
    const sends = (times: number[], flushRecords = LOG_FLUSH_RECORDS) =>
      operationsFor(
        times.map((t) => ({ kind: "collect", t, isolate: 0 })),
        { ...settings, windowMs: 8000, holdMs: 3000, flushRecords, locationTtlMs: undefined },
        { access: 300, detection: 200 },
      ).recordsPerSend;
    // A record 2 s after the last keeps the buffer (hold 3 s); one 3.5 s after it finds the buffer sent.
    expect(sends([0, 2000, 4000, 7500])).toEqual([3, 1]);
    // Steady records: sent at the maximum age (8 s after the first), not held forever.
    expect(sends([0, 2000, 4000, 6000, 8000, 10_000])).toEqual([4, 2]);
    // The bound sends at once; the next record opens a new buffer.
    expect(sends([0, 100, 200, 300, 400], 2)).toEqual([2, 2, 1]);
  });

  it("predicts every operation the real Workers made, as counted by the spies on their bindings", async () => {
    // Warm-up (not counted): the config caches load, and 6 visitors, two per site, get FPID, _ga and a backup; the
    // browsers of half of them run GA4's script (its session cookie changes on every page view).
    const history: Hit[] = [];
    const returning: ReturnType<typeof newVisitor>[] = [];
    for (const ga4 of [true, false])
      for (const site of platform.sites) returning.push(...(await makeReturningVisitors(client, 1, history, { ga4, site })));
    await drained(platform, settings.windowMs, { closeAnalytics: true });
    await platform.resetCounts();
    const before = new Set((await logObjects(platform.mf)).keys());

    const hits: Hit[] = [];
    // Phase 1: 32 one-page sessions of new visitors at once: sent whenever LOG_FLUSH_RECORDS records wait, the rest
    // when the window closes.
    await phase(
      Array.from({ length: 32 }, (_, i) => session(newVisitor(`p1_${i}`, { site: platform.sites[i % SITES] }), 1, i)),
      hits,
    );
    await drained(platform, settings.windowMs);
    // Phases 2 and 3: returning visitors (two with a changed _fbp, two whose browsers lost the backup marker); phase
    // 4: new visitors whose second page view makes their first backup. Each holds fewer than LOG_FLUSH_RECORDS
    // records, so it is one send when its window closes.
    for (const [i, visitor] of returning.entries()) if (i % 3 === 1) visitor.jar.delete("_qxb");
    for (const group of [returning.slice(0, 3), returning.slice(3)]) {
      await phase(
        group.map((v, i) => session(v, 1, i, i % 3 === 0)),
        hits,
      );
      await drained(platform, settings.windowMs);
    }
    await phase(
      Array.from({ length: 3 }, (_, i) => session(newVisitor(`p4_${i}`, { site: platform.sites[i % SITES] }), 2, i)),
      hits,
    );
    const counts = await drained(platform, settings.windowMs, { closeAnalytics: true });

    expect(hits.filter((h) => h.status >= 400)).toEqual([]);
    const kinds = new Set(hits.map((h) => h.kind));
    for (const kind of [
      "script",
      "gtm",
      "collect",
      "bait",
      "detection",
      "boot-new",
      "boot-marked",
      "boot-first-backup",
      "boot-unchanged",
      "boot-changed",
    ]) {
      expect(kinds, kind).toContain(kind);
    }

    const records = [...(await logObjects(platform.mf))].filter(([key]) => !before.has(key)).flatMap(([, lines]) => lines);
    const byTime = (a: Hit, b: Hit) => a.t - b.t;
    const model = operationsFor(
      hits.map((h) => ({ ...h, isolate: 0 })).sort(byTime),
      settings,
      recordBytes(records),
      history.map((h) => ({ ...h, isolate: 0 })).sort(byTime),
    );
    const measured = measuredOperations(counts);
    // Phase 1 crossed the record bound at least twice; each phase's rest went when its window closed.
    expect(measured.recordsPerSend.slice(0, 2)).toEqual([LOG_FLUSH_RECORDS, LOG_FLUSH_RECORDS]);
    expect(measured.recordsPerSend.filter((n) => n < LOG_FLUSH_RECORDS)).toHaveLength(4);
    expect(records).toHaveLength(model.accessRecords + model.detectionRecords);
    // The aggregator wrote the run's points (an add per batch with points, an alarm per chunk of 250).
    expect(measured.analyticsPoints).toBeGreaterThan(0);
    expect(model.durableObjectRequests).toBeGreaterThanOrEqual(2);
    // Each phase's opener reloaded each site's config from KV once (the location had expired); the isolate's own
    // expiries inside the phases read the location, not KV.
    expect(measured.kvRead).toMatchObject({
      ROUTING_MAP: 4 * SITES,
      SITE_REGISTRY: 4 * SITES,
      EDGE_CONFIG: 4 * SITES,
      LOADER_TOKEN_MAP: 4 * SITES,
    });
    expect(measured).toEqual({
      hits: model.hits,
      workerRequests: model.workerRequests,
      consumerInvocations: model.consumerInvocations,
      kvRead: model.kvRead,
      kvWrite: model.kvWrite,
      logSends: model.logSends,
      recordsPerSend: model.recordsPerSend,
      queueMessages: model.queueMessages,
      queueOperations: model.queueOperations,
      r2: model.r2,
      analyticsPoints: model.analyticsPoints,
      durableObjectRequests: model.durableObjectRequests,
    });
  }, 300_000);
});
