// The operator API on workerd (both Workers on miniflare, real R2, Durable Objects and queues): how long the
// report, the logs search and key-authenticated requests take over two weeks of history, and what 50 racing PUTs
// of mixed versions end in. The history is the dashboard test's (test/support/traffic-history.mjs), sent through
// the real LOG_QUEUE and log consumer. Prints a Markdown table.

import { trafficHistory } from "../test/support/traffic-history.mjs";
import { startWorkers } from "./lib/miniflare-worker.mjs";

// Mirrors schemas/log-record.ts (a .ts file this script cannot import): the packed LOG_QUEUE message format.
const PACKED_LOG_VERSION = 1;
const MAX_RECORDS_PER_MESSAGE = 125;

const ADMIN = { Authorization: "Bearer bench-admin" };
const RUNS = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const mf = startWorkers({ port: 0 });
const base = String(await mf.ready).replace(/\/$/, "");
const get = (path, headers = ADMIN) => fetch(`${base}${path}`, { headers });

async function timed(path, headers) {
  const times = [];
  let body;
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    const res = await get(path, headers);
    body = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    times.push(performance.now() - started);
  }
  return { ms: median(times), body };
}

// History through the real queue and consumer, until the 7-day report counts all of it.
const { records } = trafficHistory();
const queue = await mf.getQueueProducer("LOG_QUEUE", "qaxal-control");
// Packed as the router packs them (schemas/log-record.ts): up to MAX_RECORDS_PER_MESSAGE records per message.
// One message at a time: a batch of sends may carry at most 256 KB.
for (let i = 0; i < records.length; i += MAX_RECORDS_PER_MESSAGE) {
  await queue.send({ v: PACKED_LOG_VERSION, records: records.slice(i, i + MAX_RECORDS_PER_MESSAGE) });
}
for (const deadline = Date.now() + 120_000; ; ) {
  const r = await (await get("/_edge/admin/report?since=7d&container=demo-shop")).json();
  const from = Date.parse(r.from);
  const want = records.filter((x) => x.kind === "access" && x.ts >= from && x.ts <= Date.parse(r.to)).length;
  if (r.requests.total === want && r.previous) break;
  if (Date.now() > deadline) throw new Error("history not consumed in time");
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

const rows = [];
for (const since of ["24h", "7d"]) {
  const { ms, body } = await timed(`/_edge/admin/report?since=${since}&container=demo-shop`);
  rows.push([
    `report, R2, \`since=${since}\` (with the previous period)`,
    `${ms.toFixed(0)} ms`,
    `${body.objectsRead} objects read, ${body.requests.total} requests`,
  ]);
}
{
  const { ms, body } = await timed("/_edge/admin/logs?container=demo-shop&since=24h&limit=100");
  rows.push(["logs search, first page of 100, `since=24h`", `${ms.toFixed(0)} ms`, `${body.objectsRead} objects read`]);
}
{
  // A sparse filter over a week: every page reads its object budget; count the pages to the end.
  let path = "/_edge/admin/logs?container=demo-shop&since=7d&status=5xx&limit=1000";
  let pages = 0;
  let found = 0;
  const started = performance.now();
  while (path) {
    const body = await (await get(path)).json();
    pages += 1;
    found += body.records.length;
    path = body.next;
  }
  rows.push([
    "logs search, every 5xx of 7 days (cursor walk)",
    `${(performance.now() - started).toFixed(0)} ms`,
    `${pages} pages, ${found} records`,
  ]);
}
{
  const created = await (
    await fetch(`${base}/_edge/admin/keys`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "bench", containers: ["demo-shop"], access: "read" }),
    })
  ).json();
  const admin = await timed("/_edge/admin/report?since=15m&container=demo-shop");
  const key = await timed("/_edge/admin/report?since=15m&container=demo-shop", { Authorization: `Bearer ${created.key}` });
  rows.push([
    "a request with an API key instead of the admin token (report, 15m)",
    `${key.ms - admin.ms >= 0 ? "+" : ""}${(key.ms - admin.ms).toFixed(1)} ms`,
    `${admin.ms.toFixed(1)} → ${key.ms.toFixed(1)} ms (one Durable Object call)`,
  ]);
}
{
  const config = (version, gtmId) => ({
    containerId: "race",
    version,
    upstream: "https://sgtm.race.example",
    publicHosts: ["ss.race.example"],
    loaderToken: "lt_race_1",
    gtmId,
  });
  const bodies = Array.from({ length: 50 }, (_, i) => config(1 + ((i * 7) % 20), i % 3 === 0 ? "GTM-VARIANT" : "GTM-ABC123"));
  const started = performance.now();
  const answers = await Promise.all(
    bodies.map(
      async (body) =>
        (
          await fetch(`${base}/_edge/admin/containers/race`, {
            method: "PUT",
            headers: { ...ADMIN, "Content-Type": "application/json" },
            body: JSON.stringify(body),
          })
        ).status,
    ),
  );
  const answered = performance.now() - started;
  let status;
  do {
    status = await (await get("/_edge/admin/containers/race/status")).json();
  } while (status.appliedVersion !== 20 && performance.now() - started < 30_000);
  const count = (code) => answers.filter((s) => s === code).length;
  rows.push([
    "50 racing PUTs, versions 1–20 mixed",
    `${answered.toFixed(0)} ms to answer all`,
    `${count(202)}×202, ${count(409)}×409, other ${50 - count(202) - count(409)}; applied v${status.appliedVersion} after ${(performance.now() - started).toFixed(0)} ms`,
  ]);
}

console.log(`| operation | time | detail |\n|---|---|---|\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}`);
await mf.dispose();
