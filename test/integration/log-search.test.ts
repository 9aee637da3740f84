// GET /_edge/admin/logs over real R2 batches written by the real log consumer.
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../../schemas/log-record";
import { LogSearchQuerySchema } from "../../schemas/log-search";
import { searchLogs } from "../../workers/reports/log-search";
import { textToBase64url } from "../../workers/shared/base64url";
import { accessRecord, detectionRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";
import { admin } from "../support/pipeline";

const MIN = 60_000;

interface Page {
  records: LogRecord[];
  cursor: string | null;
  next: string | null;
  objectsRead: number;
  window: { from: string; to: string };
}

async function search(query: string): Promise<Page> {
  const res = await admin(`/_edge/admin/logs?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Page>();
}

/** Follows cursors until the end; returns every record and the number of pages. */
async function searchAll(query: string): Promise<{ records: LogRecord[]; pages: number }> {
  const records: LogRecord[] = [];
  let page = await search(query);
  let pages = 1;
  records.push(...page.records);
  while (page.next) {
    const res = await admin(page.next);
    page = await res.json<Page>();
    records.push(...page.records);
    pages += 1;
  }
  return { records, pages };
}

async function seed(id: string, now: number) {
  // Two hours, three batches (objects), mixed statuses, paths, hosts and kinds.
  await deliverLogs([
    accessRecord({ containerId: id, ts: now - 10 * MIN, status: 200, path: "/g/collect", host: "ss.a.example" }),
    accessRecord({ containerId: id, ts: now - 9 * MIN, status: 503, path: "/g/collect", host: "ss.a.example" }),
    accessRecord({ containerId: id, ts: now - 8 * MIN, status: 404, path: "/missing", host: "ss.b.example" }),
    detectionRecord({ containerId: id, ts: now - 7 * MIN, host: "ss.a.example" }),
  ]);
  await deliverLogs([
    accessRecord({ containerId: id, ts: now - 90 * MIN, status: 200, path: "/gtm.js", host: "ss.a.example" }),
    accessRecord({ containerId: id, ts: now - 95 * MIN, status: 502, path: "/g/collect", host: "ss.b.example" }),
  ]);
  await deliverLogs([
    accessRecord({ containerId: id, ts: now - 5 * MIN, status: 204, path: "/g/collect", host: "ss.a.example" }),
    accessRecord({ containerId: "someone-else", ts: now - 5 * MIN, status: 500, path: "/g/collect" }),
  ]);
}

describe("GET /_edge/admin/logs", () => {
  it("filters by container, status class, path prefix, host and kind", async () => {
    const id = `ls-${crypto.randomUUID().slice(0, 8)}`;
    await seed(id, Date.now());
    const all = await searchAll(`container=${id}&since=3h`);
    expect(all.records).toHaveLength(7);
    expect(all.records.every((r) => r.containerId === id)).toBe(true);

    const errors = await searchAll(`container=${id}&since=3h&status=5xx`);
    expect(errors.records.map((r) => (r.kind === "access" ? r.status : 0)).sort()).toEqual([502, 503]);
    expect((await searchAll(`container=${id}&since=3h&status=404`)).records).toHaveLength(1);
    expect((await searchAll(`container=${id}&since=3h&path=/g/`)).records).toHaveLength(4);
    expect((await searchAll(`container=${id}&since=3h&host=ss.b.example`)).records).toHaveLength(2);
    expect((await searchAll(`container=${id}&since=3h&kind=detection`)).records).toHaveLength(1);
    // Only the last hour: the two records 90 and 95 minutes ago are outside.
    expect((await searchAll(`container=${id}&since=1h`)).records).toHaveLength(5);
  });

  it("pages through every record exactly once, newest hour first", async () => {
    const id = `lp-${crypto.randomUUID().slice(0, 8)}`;
    await seed(id, Date.now());
    const paged = await searchAll(`container=${id}&since=3h&limit=2`);
    expect(paged.pages).toBeGreaterThanOrEqual(4);
    const ids = paged.records.map((r) => (r.kind === "access" ? r.requestId : r.sessionId));
    expect(new Set(ids).size).toBe(7);
    expect(ids).toHaveLength(7);
    // The two records of the earlier hour come last.
    expect(paged.records.slice(-2).every((r) => r.ts < Date.now() - 80 * MIN)).toBe(true);
  });

  it("reads at most its object budget per page and says where to go on", async () => {
    const id = `lb-${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    await seed(id, now);
    const query = v.parse(LogSearchQuerySchema, { container: id, since: "3h", to: String(now) });
    const first = await searchLogs(env.LOG_BUCKET, query, 1);
    expect(first.objectsRead).toBe(1);
    expect(first.cursor).not.toBeNull();
    let records = first.records.length;
    let cursor = first.cursor;
    while (cursor) {
      const page = await searchLogs(env.LOG_BUCKET, { ...query, cursor }, 1);
      expect(page.objectsRead).toBeLessThanOrEqual(1);
      records += page.records.length;
      cursor = page.cursor;
    }
    expect(records).toBe(7);
  });

  it("downloads NDJSON with the next page in the Link header", async () => {
    const id = `ln-${crypto.randomUUID().slice(0, 8)}`;
    await seed(id, Date.now());
    const res = await admin(`/_edge/admin/logs?container=${id}&since=3h&format=ndjson&limit=3`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/x-ndjson; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="qaxal-logs-.*\.ndjson"$/);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as LogRecord);
    expect(lines).toHaveLength(3);
    expect(lines.every((r) => r.containerId === id)).toBe(true);
    const link = res.headers.get("Link")!;
    expect(link).toMatch(/^<\/_edge\/admin\/logs\?.*cursor=.*>; rel="next"$/);
    const next = await admin(link.slice(1, link.indexOf(">")));
    expect((await next.text()).trim().split("\n")).toHaveLength(3);
  });

  it("refuses a bad filter naming it, and a cursor from another search", async () => {
    const bad = await admin("/_edge/admin/logs?status=9xx");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: "invalid_query",
      message: 'invalid query: status must be a class like 5xx or a code like 404 (got "9xx")',
    });
    const foreign = await admin("/_edge/admin/logs?since=1h&cursor=eyJoIjoxfQ");
    expect(foreign.status).toBe(400);
    expect((await admin("/_edge/admin/logs?since=8d")).status).toBe(400);
  });

  it("refuses crafted cursors with 400, not a 500 from R2 (issue 24)", async () => {
    const hour = Math.floor(Date.now() / (60 * MIN)) * 60 * MIN;
    const prefix = `logs/dt=${new Date(hour).toISOString().slice(0, 10)}/hour=${new Date(hour).toISOString().slice(11, 13)}/`;
    const crafted = [
      { h: hour, k: 5 },
      { h: hour, a: 5 },
      { h: hour, k: `${prefix}x`, l: -1 },
      { h: hour, k: `${prefix}x`, l: 1.5 },
      { h: hour + 1 },
      { h: hour, a: "dead-letters/config/x" },
      { h: hour, x: 1 },
      [hour],
      "text",
    ];
    for (const position of crafted) {
      const cursor = textToBase64url(JSON.stringify(position));
      const res = await admin(`/_edge/admin/logs?since=1h&cursor=${cursor}`);
      expect(res.status, JSON.stringify(position)).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_query" });
    }
    // The shape the search itself writes still passes.
    const fine = textToBase64url(JSON.stringify({ h: hour, a: `${prefix}x` }));
    expect((await admin(`/_edge/admin/logs?since=1h&cursor=${fine}`)).status).toBe(200);
  });
});
