// npm run cost: what a million hits cost on Cloudflare, from a local run of the real Workers.
//
// 1. Both Workers as deployed (edge + control, wrangler's bundles and configs, production LOG_WINDOW_MS and
//    CONFIG_CACHE_TTL_MS) run on miniflare with counters on every binding (bench/lib/binding-spies.ts).
// 2. At each rate (1, 10, 100, 1,000 hits/s) visitor sessions of the mix (bench/cost-mix.mjs) are sent for a while,
//    the log queue is drained, and the spies' counts are compared with what the cost model (bench/cost-model.mjs)
//    predicts for exactly those hits at the times they were answered.
// 3. The model then prices a million hits at each rate with bench/prices.json. Miniflare is one isolate; the model
//    spreads the platform-wide rate over N isolates (each sees rate/N) to show what batching gives when Cloudflare
//    runs the edge in several places at once.
// CPU is the only measured input the model cannot derive: the workerd process's CPU time during the run divided by
// its hits, an upper bound (it includes workerd's HTTP handling, the local KV/R2/Queues simulators and the consumer).
//
// Options (environment): COST_SCALE=0.3 shortens every run (default 1), COST_RATES=1,10 picks rates.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../scripts/platform.mjs";
import { MIX } from "./cost-mix.mjs";
import { bill, hitsPerSession, operationsFor, syntheticHits, vaultInDurableObject } from "./cost-model.mjs";
import { modelSettings, productionVars } from "./cost-settings.mjs";
import { aggregateKeys, aggregatePointsPerRecord, logObjects, measuredOperations, recordBytes } from "./lib/cost-measure.mjs";
import { drained, startCostPlatform } from "./lib/cost-platform.mjs";
import { createClient, makeReturningVisitors, planSessions, returningNeeded, runPlan } from "./lib/cost-traffic.mjs";
import { seededRandom } from "./lib/seeded-random.mjs";

const prices = JSON.parse(readFileSync(join(ROOT, "bench/prices.json"), "utf8"));
const SCALE = Number(process.env.COST_SCALE ?? 1);
const RATES = (process.env.COST_RATES ?? "1,10,100,1000").split(",").map(Number);
/** Seconds of traffic per rate: enough windows at low rates, bounded by what 2 shared cores serve at high ones. */
const SECONDS = { 1: 180, 10: 60, 100: 30, 1000: 10 };
const MILLION = 1_000_000;
const ISOLATES = [1, 2, 5, 10, 20];

const vars = productionVars();
const settings = modelSettings(vars);
const fmt = (n, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (n) => `$${n.toFixed(4)}`;
const sumOf = (o) => Object.values(o).reduce((a, b) => a + b, 0);

const chunk = (items, size) => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

function table(header, rows) {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Measured vs model, for one run. */
function comparison(measured, model) {
  const rows = [];
  const line = (name, m, p) => rows.push([name, fmt(m), fmt(p), m === p ? "=" : `${m > p ? "+" : ""}${fmt(m - p)}`]);
  line("Worker requests (hits + consumer invocations)", measured.workerRequests, model.workerRequests);
  line("log consumer invocations", measured.consumerInvocations, model.consumerInvocations);
  for (const ns of new Set([...Object.keys(measured.kvRead), ...Object.keys(model.kvRead)])) {
    line(`KV reads ${ns}`, measured.kvRead[ns] ?? 0, model.kvRead[ns] ?? 0);
  }
  line("KV writes", sumOf(measured.kvWrite), sumOf(model.kvWrite));
  line("log sends (sendBatch calls)", measured.logSends, model.logSends);
  line("LOG_QUEUE messages", measured.queueMessages, model.queueMessages);
  line("Queues operations (write+read+delete)", sumOf(measured.queueOperations), sumOf(model.queueOperations));
  line("R2 Class A", measured.r2.classA, model.r2.classA);
  line("R2 Class B", measured.r2.classB, model.r2.classB);
  line("Analytics Engine points", measured.analyticsPoints, model.analyticsPoints);
  line("Durable Object requests", measured.durableObjectRequests, model.durableObjectRequests);
  return table(["operation", "measured (spies)", "model", "difference"], rows);
}

// ---- the local runs ----
console.log(
  `cost model run ${new Date().toISOString()}: LOG_WINDOW_MS=${vars.LOG_WINDOW_MS}, CONFIG_CACHE_TTL_MS=${vars.CONFIG_CACHE_TTL_MS}, ` +
    `log consumer batch ${settings.consumerBatch} / ${settings.consumerTimeoutMs / 1000} s, prices read ${prices.read}\n`,
);
const platform = await startCostPlatform({ vars });
const client = createClient(platform.url);
// Every hit the edge answered, in order: earlier hits warm the isolate's config caches for the later runs.
const history = [];
/** workerd's CPU seconds per second while nothing is sent: timers and the local simulators, not hits. */
async function idleCpuPerSecond(seconds = 5) {
  const before = platform.cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return (platform.cpuSeconds() - before) / seconds;
}

const runs = new Map();
const random = seededRandom(14);
let seenObjects = new Set((await logObjects(platform.mf)).keys());
for (const rate of RATES) {
  const seconds = Math.max(5, Math.round((SECONDS[rate] ?? 20) * SCALE));
  const warmup = [];
  const returning = await makeReturningVisitors(client, returningNeeded({ rate, seconds, mix: MIX }), warmup, {
    ga4: MIX.ga4SessionCookie,
  });
  history.push(...warmup.map((h) => ({ ...h, isolate: 0 })));
  await drained(platform, settings.windowMs);
  const idle = await idleCpuPerSecond();
  await platform.resetCounts();
  const cpuBefore = platform.cpuSeconds();
  const started = Date.now();
  const hits = await runPlan(client, planSessions({ rate, seconds, mix: MIX, random, returning }));
  const counts = await drained(platform, settings.windowMs);
  const cpu = platform.cpuSeconds() - cpuBefore - idle * ((Date.now() - started) / 1000);
  const failed = hits.filter((h) => h.status >= 500).length;

  const objects = await logObjects(platform.mf);
  const records = [...objects].filter(([key]) => !seenObjects.has(key)).map(([, lines]) => lines);
  seenObjects = new Set(objects.keys());
  const bytes = recordBytes(records.flat());
  const measured = measuredOperations(counts);
  const runHits = hits.map((h) => ({ ...h, isolate: 0 })).sort((a, b) => a.t - b.t);
  const model = operationsFor(runHits, settings, bytes, history);
  history.push(...runHits);
  const span = (Math.max(...hits.map((h) => h.t)) - Math.min(...hits.map((h) => h.t))) / 1000;
  const run = {
    rate,
    achieved: hits.length / span,
    hits: hits.length,
    failed,
    cpuMsPerHit: (cpu * 1000) / hits.length,
    bytes,
    measured,
    model,
    aggregatePointsPerAccessRecord: records.reduce((s, r) => s + aggregateKeys(r), 0) / Math.max(1, model.accessRecords),
    recordsPerObject: records.flat().length / Math.max(1, records.length),
    records: records.flat(),
  };
  runs.set(rate, run);
  console.log(
    `## Local run at ${rate} hits/s: ${fmt(hits.length)} hits in ${fmt(span, 1)} s (${fmt(run.achieved, 1)} hits/s achieved), ` +
      `${failed} answered 5xx, workerd CPU ${fmt(run.cpuMsPerHit, 2)} ms per hit (idle ${fmt(idle * 1000, 1)} ms/s subtracted), ` +
      `records ${bytes.access} / ${bytes.detection} bytes (access / detection)\n`,
  );
  console.log(comparison(measured, model));
  console.log(
    `\nrecords per log send (measured): mean ${fmt(measured.recordsPerSend.reduce((a, b) => a + b, 0) / Math.max(1, measured.logSends), 1)}, ` +
      `max ${Math.max(0, ...measured.recordsPerSend)}\n`,
  );
}
client.close();
await platform.stop();

// ---- a million hits at each rate ----
function perMillion(rate, isolates, cpuMsPerHit, bytes) {
  const ops = operationsFor(syntheticHits({ count: MILLION, rate, isolates, mix: MIX, seed: rate * 100 + isolates }), settings, bytes);
  return { ops, bill: bill(ops, cpuMsPerHit, prices) };
}

const nearestRun = (rate) => runs.get(rate) ?? [...runs.values()].sort((a, b) => Math.abs(a.rate - rate) - Math.abs(b.rate - rate))[0];
const perSession = hitsPerSession(MIX);
console.log(`## A million hits, one isolate (all traffic in one place)\n`);
console.log(
  `Mix per session: ${Object.entries(perSession)
    .map(([k, n]) => `${k} ${fmt(n, 2)}`)
    .join(", ")} ` + `(${fmt(sumOf(perSession), 2)} hits).\n`,
);
const results = new Map();
for (const rate of [1, 10, 100, 1000]) {
  const run = nearestRun(rate);
  results.set(rate, perMillion(rate, 1, run.cpuMsPerHit, run.bytes));
}
const lineNames = Object.keys(results.get(1).bill.lines);
console.log(
  table(
    ["per 1M hits", ...[...results.keys()].map((r) => `${fmt(r)} hits/s`)],
    [
      ["Workers requests (hits + consumer)", ...[...results.values()].map((r) => fmt(r.ops.workerRequests))],
      ["Workers CPU ms (measured upper bound)", ...[...results.keys()].map((r) => fmt(MILLION * nearestRun(r).cpuMsPerHit))],
      ["Queues operations", ...[...results.values()].map((r) => fmt(r.bill.queueOps))],
      ["  LOG_QUEUE messages", ...[...results.values()].map((r) => fmt(r.ops.queueMessages))],
      ["KV reads", ...[...results.values()].map((r) => fmt(sumOf(r.ops.kvRead)))],
      ["KV writes", ...[...results.values()].map((r) => fmt(sumOf(r.ops.kvWrite)))],
      ["Durable Object requests", ...[...results.values()].map((r) => fmt(r.ops.durableObjectRequests))],
      ["R2 Class A / B", ...[...results.values()].map((r) => `${fmt(r.ops.r2.classA)} / ${fmt(r.ops.r2.classB)}`)],
      ["Analytics Engine points", ...[...results.values()].map((r) => fmt(r.ops.analyticsPoints))],
      ...lineNames.map((name) => [`$ ${name}`, ...[...results.values()].map((r) => usd(r.bill.lines[name]))]),
      ["**$ total**", ...[...results.values()].map((r) => `**${usd(r.bill.total)}**`)],
    ],
  ),
);

// ---- a month at each rate, with the plan's base fee and included quotas ----
const DAYS = 30;
function monthly(rate, ops, cpuMsPerHit) {
  const scale = (rate * 86_400 * DAYS) / MILLION;
  const over = (count, included, perMillion) => (Math.max(0, count * scale - included) / 1e6) * perMillion;
  const p = prices;
  const lines = {
    base: p.workers.baseMonthly,
    workers:
      over(ops.workerRequests, p.workers.includedRequestsPerMonth, p.workers.requestsPerMillion) +
      over(ops.hits * cpuMsPerHit, p.workers.includedCpuMsPerMonth, p.workers.cpuMsPerMillion),
    queues: over(sumOf(ops.queueOperations), p.queues.includedOperationsPerMonth, p.queues.operationsPerMillion),
    kv:
      over(sumOf(ops.kvRead), p.kv.includedReadsPerMonth, p.kv.readsPerMillion) +
      over(sumOf(ops.kvWrite), p.kv.includedWritesPerMonth, p.kv.writesPerMillion),
    r2: over(ops.r2.classA, p.r2.includedClassAPerMonth, p.r2.classAPerMillion),
    analytics: over(ops.analyticsPoints, p.analyticsEngine.includedPointsPerMonth, p.analyticsEngine.pointsPerMillion),
  };
  return { hits: scale * MILLION, lines, total: sumOf(lines) };
}
console.log(`\n## A month (${DAYS} days) at each rate: base fee and included quotas counted\n`);
console.log(
  table(
    ["hits/s", "hits per month", "base", "Workers", "Queues", "KV", "R2", "Analytics Engine", "$ per month", "$ per 1M hits"],
    [...results].map(([rate, r]) => {
      const m = monthly(rate, r.ops, nearestRun(rate).cpuMsPerHit);
      return [
        fmt(rate),
        fmt(m.hits),
        ...Object.values(m.lines).map((v) => `$${v.toFixed(2)}`),
        `**$${m.total.toFixed(2)}**`,
        usd((m.total / m.hits) * MILLION),
      ];
    }),
  ),
);

console.log(`\n## Spread over isolates (each sees rate / isolates)\n`);
const spread = [];
for (const rate of [100, 1000]) {
  const run = nearestRun(rate);
  for (const isolates of ISOLATES) {
    const { ops, bill: b } = perMillion(rate, isolates, run.cpuMsPerHit, run.bytes);
    spread.push([fmt(rate), fmt(isolates), fmt(rate / isolates, 1), fmt(b.queueOps), fmt(ops.r2.classA), usd(b.total)]);
  }
}
console.log(table(["hits/s", "isolates", "hits/s per isolate", "Queues ops per 1M", "R2 Class A per 1M", "$ per 1M"], spread));

// ---- before packing: one message per record (50 ms window, batches of 100 bare records) ----
const now100 = results.get(100);
const before = operationsFor(
  syntheticHits({ count: MILLION, rate: 100, isolates: 1, mix: MIX, seed: 100 * 100 + 1 }),
  { ...settings, maxRecords: 1, windowMs: 50, consumerBatch: 100 },
  nearestRun(100).bytes,
);
const beforeBill = bill(before, nearestRun(100).cpuMsPerHit, prices);
console.log(`\n## Before packing (one record per message, batches of 100) vs now, 100 hits/s, one isolate\n`);
console.log(
  table(
    ["per 1M hits", "before", "now"],
    [
      ["Queues operations", fmt(beforeBill.queueOps), fmt(now100.bill.queueOps)],
      ["R2 Class A", fmt(before.r2.classA), fmt(now100.ops.r2.classA)],
      ["Worker requests", fmt(before.workerRequests), fmt(now100.ops.workerRequests)],
      ...lineNames.map((name) => [`$ ${name}`, usd(beforeBill.lines[name]), usd(now100.bill.lines[name])]),
      ["**$ total**", `**${usd(beforeBill.total)}**`, `**${usd(now100.bill.total)}**`],
    ],
  ),
);
console.log("");

// ---- what the mix and the proposals change (model only; every hit kind's operations are the ones the spies confirmed) ----
const base = nearestRun(100);
const bigBatch = 10;
const aeBig = aggregatePointsPerRecord(base.records, bigBatch * settings.maxRecords);
/**
 * The model's million hits at 100 hits/s for `mix`, with the proposals' changes: `ae` aggregate points per access
 * record (A), `proxiedOnly` access points only for proxied requests (E), `consumerBatch` (A'), `vaultDO` (D).
 */
function variant(mix, { ae = 1, proxiedOnly = false, consumerBatch = settings.consumerBatch, vaultDO = false } = {}) {
  let ops = operationsFor(
    syntheticHits({ count: MILLION, rate: 100, isolates: 1, mix, seed: 11 }),
    { ...settings, consumerBatch },
    base.bytes,
  );
  ops.analyticsPoints = Math.round((proxiedOnly ? ops.proxiedRecords : ops.accessRecords) * ae) + ops.detectionRecords;
  if (vaultDO) ops = vaultInDurableObject(ops);
  return ops;
}
const beforeMarker = { ...MIX, backupMarker: false };
const noRestoration = { ...MIX, cookieRestoration: false };
const aeA = base.aggregatePointsPerAccessRecord;
const bigA = { ae: aeBig, consumerBatch: bigBatch };
/** @type {[string, typeof MIX, { ae?: number, proxiedOnly?: boolean, consumerBatch?: number, vaultDO?: boolean }][]} */
const variants = [
  ["0. before the backup marker: every /boot with FPID reads COOKIE_VAULT, GA4's _ga_<ID> makes each later one write", beforeMarker, {}],
  ["1. the mix above: the backup marker, GA4's session cookie volatile", MIX, {}],
  ["1 + E: Analytics Engine access points only for proxied requests", MIX, { proxiedOnly: true }],
  ["1 + A: Analytics Engine aggregates per consumer batch (2 messages)", MIX, { ae: aeA }],
  [`1 + A': aggregates, consumer batches of ${bigBatch} messages`, MIX, bigA],
  ["1 + A' + D: backups in a Durable Object's SQLite instead of KV", MIX, { ...bigA, vaultDO: true }],
  ["2. containers without cookie restoration (no /boot)", noRestoration, {}],
  ["2 + A", noRestoration, { ae: aeA }],
  ["2 + A'", noRestoration, bigA],
];
console.log(`## Variants and proposals at 100 hits/s, one isolate\n`);
console.log(
  table(
    [
      "variant",
      "hits per session",
      "KV reads per 1M",
      "KV writes per 1M",
      "DO requests per 1M",
      "AE points per 1M",
      "R2 Class A per 1M",
      "$ per 1M hits",
      "$ per 1,000 sessions",
    ],
    variants.map(([name, mix, options]) => {
      const ops = variant(mix, options);
      const b = bill(ops, base.cpuMsPerHit, prices);
      const perSessionHits = sumOf(hitsPerSession(mix));
      return [
        name,
        fmt(perSessionHits, 2),
        fmt(sumOf(ops.kvRead)),
        fmt(sumOf(ops.kvWrite)),
        fmt(ops.durableObjectRequests),
        fmt(ops.analyticsPoints),
        fmt(ops.r2.classA),
        usd(b.total),
        usd((b.total * perSessionHits) / 1000),
      ];
    }),
  ),
);
console.log(
  `\nA' measured on the 100 hits/s run's records in groups of ${fmt(bigBatch * settings.maxRecords)}: ${fmt(aeBig, 3)} points per access record, ` +
    `at most ${Math.max(
      ...chunk(
        base.records.filter((r) => r.kind === "access"),
        bigBatch * settings.maxRecords,
      ).map(aggregateKeys),
    )} points per group ` +
    `(Analytics Engine's limit per invocation: ${prices.analyticsEngine.pointsPerInvocationLimit}).\n`,
);

// ---- below $0.40: Analytics Engine aggregates per batch ----
console.log(`## Analytics Engine points as aggregates per consumer batch (measured on the local runs' R2 objects)\n`);
console.log(
  table(
    ["run", "records per R2 object", "aggregate points per access record", "AE $ per 1M hits (now / aggregated)"],
    [...runs.values()].map((run) => [
      `${fmt(run.rate)} hits/s`,
      fmt(run.recordsPerObject, 1),
      fmt(run.aggregatePointsPerAccessRecord, 3),
      `${usd(prices.analyticsEngine.pointsPerMillion)} / ${usd(prices.analyticsEngine.pointsPerMillion * run.aggregatePointsPerAccessRecord)}`,
    ]),
  ),
);
