// AnalyticsWindow (durable/analytics-window.ts), the real object in miniflare: partials stored per batch, windows by
// arrival time, chained alarms that keep Analytics Engine's 250 points per invocation, and what a call costs in
// SQLite rows written (Cloudflare bills them per row: cursor.rowsWritten is the billed figure).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AE_DOUBLES } from "../../schemas/analytics";
import { AE_POINTS_PER_INVOCATION } from "../../schemas/log-record";
import { accessAggregates } from "../../workers/log-consumer/analytics-points";
import { batchId } from "../../workers/shared/log-partition";
import { WindowHarness } from "../support/analytics-window";
import { accessRecord } from "../support/log-record-builders";

const COUNT = AE_DOUBLES.indexOf("count");

afterEach(() => {
  vi.restoreAllMocks();
});

/** Aggregates of `n` records of distinct paths (one dimension set each) for `container`. */
const distinct = (container: string, n: number, from = 0, path = (i: number) => `/p/${i}`) =>
  accessAggregates(Array.from({ length: n }, (_, i) => accessRecord({ containerId: container, path: path(from + i) })));

/**
 * Counts the rows written by the SQL statements the object runs: returns a function that measures one piece of work.
 * (The object is the same instance throughout: it is only reset by abort.)
 */
async function rowMeter(window: WindowHarness): Promise<(work: () => Promise<unknown>) => Promise<number>> {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  await runInDurableObject(window.stub, (_instance, state) => {
    const exec = state.storage.sql.exec.bind(state.storage.sql);
    vi.spyOn(state.storage.sql, "exec").mockImplementation((query, ...bindings) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    });
  });
  return async (work) => {
    const from = cursors.length;
    await work();
    return cursors.slice(from).reduce((sum, cursor) => sum + cursor.rowsWritten, 0);
  };
}

/** Runs the harness's object from now on with ANALYTICS_WINDOW_MS = `ms` (as a deploy with another value would). */
const runWithWindow = (window: WindowHarness, ms: number) =>
  runInDurableObject(window.stub, (instance) => {
    const own = instance as unknown as { env: Env };
    own.env = { ...own.env, ANALYTICS_WINDOW_MS: String(ms) } as Env;
  });

/** The paths of the harness's access points written so far by `spy`, one entry per write. */
const writtenPaths = (window: WindowHarness, spy: { mock: { calls: [AnalyticsEngineDataPoint?][] } }) =>
  spy.mock.calls
    .map(([point]) => point!)
    .filter((p) => String(p.indexes?.[0]).startsWith(window.prefix))
    .map((p) => String(p.blobs![3]));

describe("AnalyticsWindow", () => {
  it("writes more than 250 distinct sets over chained alarms, at most 250 each, every point exactly once", async () => {
    const window = new WindowHarness();
    // 700 distinct sets over three batches; the third repeats 100 sets of the first.
    await window.stub.add(await batchId(["a"]), distinct(window.container(), 300));
    await window.stub.add(await batchId(["b"]), distinct(window.container(), 300, 300));
    await window.stub.add(await batchId(["c"]), distinct(window.container(), 200, 500));
    const { access, perInvocation } = await window.flush();

    expect(perInvocation).toEqual([250, 250, 200]);
    for (const n of perInvocation) expect(n).toBeLessThanOrEqual(AE_POINTS_PER_INVOCATION);
    const paths = access.map((p) => p.blobs![3]);
    expect(new Set(paths).size).toBe(700);
    expect(access.reduce((sum, p) => sum + (p.doubles![COUNT] as number), 0)).toBe(800);
    expect(access.filter((p) => p.doubles![COUNT] === 2).map((p) => p.blobs![3])).toHaveLength(100);
    expect(await window.partials()).toBe(0);
    expect(await runDurableObjectAlarm(window.stub)).toBe(false);
  });

  it("windows partials by arrival: the alarm writes the closed window and leaves the open one for its own end", async () => {
    const window = new WindowHarness();
    await window.stub.add(await batchId(["early"]), distinct(window.container(0), 3));
    window.advance(window.windowMs);
    await window.stub.add(await batchId(["late"]), distinct(window.container(1), 2));

    expect(await runDurableObjectAlarm(window.stub)).toBe(true);
    const alarm = await runInDurableObject(window.stub, (_instance, state) => state.storage.getAlarm());
    expect(await window.partials()).toBe(1);
    expect(alarm).toBe((Math.floor(Date.now() / window.windowMs) + 1) * window.windowMs);
    const { access } = await window.flush();
    expect(access.map((p) => p.indexes![0])).toEqual([window.container(1), window.container(1)]);
  });

  it("keeps a partial larger than a storage row over several rows, and writes each of its points once", async () => {
    const window = new WindowHarness();
    // 1,500 points with 500-character paths: about 1 MB of JSON.
    const points = distinct(window.container(), 1500, 0, (i) => `/${String(i).padStart(499, "x")}`);
    await window.stub.add(await batchId(["big"]), points);
    expect(await window.partials()).toBeGreaterThan(1);

    const { access } = await window.flush();
    expect(new Set(access.map((p) => p.blobs![3])).size).toBe(1500);
    expect(access).toHaveLength(1500);
  });

  it("keeps nothing only in memory: partials survive the object being reset", async () => {
    const window = new WindowHarness();
    await window.stub.add(await batchId(["kept"]), distinct(window.container(), 4));
    await runInDurableObject(window.stub, (_instance, state) => state.abort("reset")).catch(() => undefined);

    const { access } = await window.flush();
    expect(access).toHaveLength(4);
  });

  it("refuses a malformed partial and stores nothing", async () => {
    const window = new WindowHarness();
    const bad = [...distinct(window.container(), 2), { dataset: "access", indexes: ["x".repeat(97)], blobs: [], doubles: [] }] as never;
    expect(await window.stub.add(await batchId(["bad"]), bad)).toEqual({ stored: false, reason: expect.stringContaining("points") });
    expect(await window.stub.add("not-a-batch-id", distinct(window.container(), 1))).toMatchObject({ stored: false });
    expect(await window.partials()).toBe(0);
  });

  it("costs one row written per add and per chunk of 250 points written, plus a row per partial dropped", async () => {
    const window = new WindowHarness();
    const rowsWritten = await rowMeter(window);
    const add = async (id: string, n: number, from: number) =>
      rowsWritten(async () => window.stub.add(await batchId([id]), distinct(window.container(), n, from)));
    expect(await add("x", 200, 0)).toBe(1);
    // The same batch again replaces its row: one deleted, one inserted.
    expect(await add("x", 200, 0)).toBe(2);
    expect(await add("y", 200, 200)).toBe(1);

    // Closing the window: 2 chunks stored, 2 partials dropped; then each chunk's row deleted once written.
    let perInvocation: number[] = [];
    const rows = await rowsWritten(async () => {
      perInvocation = (await window.flush()).perInvocation;
    });
    expect(perInvocation).toEqual([250, 150]);
    expect(rows).toBe(2 + 2 + 2);
  });

  it("strands no partial when ANALYTICS_WINDOW_MS changes: partials of the old length are merged at their own end", async () => {
    const window = new WindowHarness();
    // Two batches of the same 3 sets under the test's window (10 s), then the object runs with a 6 times longer one.
    // Keyed by window number, the partials' number (now / 10 s) would be ~6 times the new current one: never closed.
    await window.stub.add(await batchId(["short-a"]), distinct(window.container(), 3));
    await window.stub.add(await batchId(["short-b"]), distinct(window.container(), 3));
    await runWithWindow(window, 6 * window.windowMs);

    const { access } = await window.flush();
    expect(access.map((p) => p.blobs![3]).sort()).toEqual(["/p/0", "/p/1", "/p/2"]);
    expect(access.map((p) => p.doubles![COUNT])).toEqual([2, 2, 2]);
    expect(await window.partials()).toBe(0);
  });

  it("keeps a chunk whose alarm failed before deleting it: the retry writes it again and loses no point", async () => {
    const window = new WindowHarness();
    await window.stub.add(await batchId(["retry"]), distinct(window.container(), 300));
    // The first chunk's row delete fails once, after its points were written (as a crash between the two would).
    await runInDurableObject(window.stub, (_instance, state) => {
      const exec = state.storage.sql.exec.bind(state.storage.sql);
      let failed = false;
      vi.spyOn(state.storage.sql, "exec").mockImplementation((query, ...bindings) => {
        if (!failed && query.startsWith("DELETE FROM pending")) {
          failed = true;
          throw new Error("injected: the chunk's delete failed");
        }
        return exec(query, ...bindings);
      });
    });
    const spy = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");
    window.advance(window.windowMs);

    await expect(runDurableObjectAlarm(window.stub)).rejects.toThrow("injected");
    const interrupted = writtenPaths(window, spy);
    expect(interrupted).toHaveLength(AE_POINTS_PER_INVOCATION);
    const stored = await runInDurableObject(
      window.stub,
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n,
    );
    expect(stored).toBe(2);

    // The platform retries a failed alarm; runDurableObjectAlarm removed this one before running it, so re-arm it.
    await runInDurableObject(window.stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    for (let i = 0; await runDurableObjectAlarm(window.stub); i++) expect(i).toBeLessThan(10);

    const times = new Map<string, number>();
    for (const path of writtenPaths(window, spy)) times.set(path, (times.get(path) ?? 0) + 1);
    expect(times.size).toBe(300);
    for (const [path, n] of times) expect(n, path).toBe(interrupted.includes(path) ? 2 : 1);
    expect(await window.partials()).toBe(0);
  });
});
