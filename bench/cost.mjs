// npm run cost: what a million hits cost on Cloudflare, for an agency's fleet, from a local run of the real Workers.
//
// 1. Both Workers as deployed (wrangler's bundles and configs, production config cache lifetimes, a 5 s log window)
//    run on miniflare with counters on every binding (bench/lib/binding-spies.ts). Visitor sessions of the mix
//    (bench/cost-mix.mjs) are sent over several demo containers; the spies' counts are compared with what the cost
//    model (bench/cost-model.mjs) predicts for exactly those hits. The run gives the two measured inputs: CPU per hit
//    and the sizes of records and backups.
// 2. The model then prices a million hits of the fleet given on the command line: containers with a Zipf share of the
//    traffic, spread over locations and isolates, each location's config cache in its steady state, config changes,
//    plus what no hit makes: storage, Cron Triggers and alarms, Workers Logs events.
// `npm run cost -- --help` lists the inputs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../scripts/platform.mjs";
import { MIX } from "./cost-mix.mjs";
import { bill, configChanges, hitsPerSession, operationsFor, steadyLocations, syntheticHits } from "./cost-model.mjs";
import { modelSettings, productionVars } from "./cost-settings.mjs";
import { logObjects, measuredOperations, recordBytes } from "./lib/cost-measure.mjs";
import { drained, startCostPlatform } from "./lib/cost-platform.mjs";
import { createClient, makeReturningVisitors, planSessions, returningNeeded, runPlan } from "./lib/cost-traffic.mjs";
import { seededRandom } from "./lib/seeded-random.mjs";

const INPUTS = {
  containers: ["100", "containers; container i (1-based) gets a share of traffic proportional to 1 / i^zipf"],
  zipf: ["1", "Zipf exponent of the containers' traffic shares"],
  locations: ["50", "Cloudflare locations serving the traffic, evenly (the worst case for caches and batching)"],
  isolates: ["2", "isolates of the edge Worker per location, evenly"],
  rate: ["100", "hits per second, platform-wide"],
  "changes-per-day": ["1", "config changes per container per day (each purges that config in every location)"],
  hits: ["", "hits simulated per scenario (default: 300,000 short, 1,000,000 full)"],
  preset: ["short", "short: a 10 s local run at 30 hits/s over 4 containers (under 3 minutes in all); full: 60 s at 60 hits/s"],
  "no-local": [false, "skip the local run: CPU 0.8 ms per hit and the record sizes of the last run on this page"],
  help: [false, "this text"],
};

const { values: args } = parseArgs({
  options: Object.fromEntries(
    Object.entries(INPUTS).map(([name, [fallback]]) => [
      name,
      typeof fallback === "boolean" ? { type: "boolean", default: fallback } : { type: "string", default: fallback },
    ]),
  ),
});
if (args.help) {
  console.log("npm run cost -- [options]\n\nPrices a million hits of an agency's fleet (docs/cost.md).\n");
  for (const [name, [fallback, what]] of Object.entries(INPUTS))
    console.log(`  --${name}${typeof fallback === "boolean" ? "" : ` <${fallback || "n"}>`}`.padEnd(30) + what);
  process.exit(0);
}
const number = (name) => {
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a number ≥ 0 (got ${args[name]}); see --help`);
    process.exit(2);
  }
  return n;
};
if (!["short", "full"].includes(String(args.preset))) {
  console.error(`--preset is short or full (got ${args.preset}); see --help`);
  process.exit(2);
}
const full = args.preset === "full";
const FLEET = {
  containers: Math.max(1, Math.round(number("containers"))),
  zipf: number("zipf"),
  locations: Math.max(1, Math.round(number("locations"))),
  isolates: Math.max(1, Math.round(number("isolates"))),
  rate: Math.max(0.01, number("rate")),
};
const CHANGES_PER_DAY = number("changes-per-day");
const HITS = args.hits ? Math.round(number("hits")) : full ? 1_000_000 : 300_000;
const LOCAL = { seconds: full ? 60 : 10, rate: full ? 60 : 30, sites: 4 };

const prices = JSON.parse(readFileSync(join(ROOT, "bench/prices.json"), "utf8"));
const MILLION = 1_000_000;
const DAYS = 30;
const vars = productionVars();
const settings = modelSettings(vars, "production");
const fmt = (n, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (n) => `$${n.toFixed(4)}`;
const sumOf = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const table = (header, rows) =>
  [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

console.log(
  `cost model run ${new Date().toISOString()}: LOG_WINDOW_MS=${settings.windowMs}, LOG_HOLD_MS=${settings.holdMs}, log bound ${settings.flushRecords} records, ` +
    `CONFIG_CACHE_TTL_MS=${settings.configTtlMs}, LOCATION_CACHE_TTL_MS=${settings.locationTtlMs ?? "none (no location cache)"}, ` +
    `log consumer batch ${settings.consumerBatch} / ${settings.consumerTimeoutMs / 1000} s, ` +
    `ANALYTICS_WINDOW_MS=${settings.analyticsWindowMs}, prices read ${prices.read}\n`,
);

// ---- 1. the local run: the real Workers against the model ----
/** Measured in the local run (or the last run's figures with --no-local). */
let measured = { cpuMsPerHit: 0.8, bytes: { access: 300, detection: 230 }, gzipBytesPerRecord: 40, vaultEntryBytes: 330 };
if (!args["no-local"]) measured = await localRun();

async function localRun() {
  // A 5 s log window instead of production's: the drains wait one window, and the spies' check holds at any window.
  // Analytics windows of a day, closed when the traffic is done (drained): the points do not depend on this machine's
  // timing, and the fleet's windows are priced by the model.
  const localVars = { ...vars, LOG_WINDOW_MS: "5000", ANALYTICS_WINDOW_MS: "86400000" };
  const local = modelSettings(localVars);
  const platform = await startCostPlatform({ vars: localVars, sites: LOCAL.sites });
  const client = createClient(platform.url);
  const random = seededRandom(14);
  const warmup = [];
  const perSite = Math.ceil(returningNeeded({ rate: LOCAL.rate, seconds: LOCAL.seconds, mix: MIX }) / platform.sites.length);
  const returning = [];
  for (const site of platform.sites)
    returning.push(...(await makeReturningVisitors(client, perSite, warmup, { ga4: MIX.ga4SessionCookie, site })));
  await drained(platform, local.windowMs, { closeAnalytics: true });
  await platform.resetCounts();
  const before = new Set((await logObjects(platform.mf)).keys());
  const cpuBefore = platform.cpuSeconds();
  const plan = planSessions({ rate: LOCAL.rate, seconds: LOCAL.seconds, mix: MIX, random, returning, sites: platform.sites });
  const hits = await runPlan(client, plan);
  const counts = await drained(platform, local.windowMs, { closeAnalytics: true });
  const cpu = platform.cpuSeconds() - cpuBefore;
  const objects = [...(await logObjects(platform.mf, { withSizes: true }))].filter(([key]) => !before.has(key));
  const records = objects.flatMap(([, o]) => o.lines);
  const bytes = recordBytes(records);
  const gzipBytesPerRecord = objects.reduce((s, [, o]) => s + o.size, 0) / Math.max(1, records.length);
  const vault = await platform.mf.getKVNamespace("COOKIE_VAULT", "qaxal-edge");
  const { keys } = await vault.list();
  const sizes = await Promise.all(keys.slice(0, 200).map(async ({ name }) => name.length + ((await vault.get(name)) ?? "").length));
  const vaultEntryBytes = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
  client.close();
  await platform.stop();

  const byTime = (a, b) => a.t - b.t;
  const model = operationsFor(
    hits.map((h) => ({ ...h, isolate: 0 })).sort(byTime),
    local,
    bytes,
    warmup.map((h) => ({ ...h, isolate: 0 })).sort(byTime),
  );
  const spied = measuredOperations(counts);
  const span = (Math.max(...hits.map((h) => h.t)) - Math.min(...hits.map((h) => h.t))) / 1000;
  console.log(
    `## Local run: ${fmt(hits.length)} hits over ${platform.sites.length} containers in ${fmt(span, 1)} s, ` +
      `${hits.filter((h) => h.status >= 500).length} answered 5xx, workerd CPU ${fmt((cpu * 1000) / hits.length, 2)} ms per hit, ` +
      `records ${bytes.access} / ${bytes.detection} bytes (${fmt(gzipBytesPerRecord, 1)} gzipped), vault entries ${fmt(vaultEntryBytes)} bytes\n`,
  );
  const rows = [];
  const line = (name, m, p) => rows.push([name, fmt(m), fmt(p), m === p ? "=" : `${m > p ? "+" : ""}${fmt(m - p)}`]);
  line("Worker requests (hits + consumer invocations)", spied.workerRequests, model.workerRequests);
  for (const ns of new Set([...Object.keys(spied.kvRead), ...Object.keys(model.kvRead)]))
    line(`KV reads ${ns}`, spied.kvRead[ns] ?? 0, model.kvRead[ns] ?? 0);
  line("KV writes", sumOf(spied.kvWrite), sumOf(model.kvWrite));
  line("log sends", spied.logSends, model.logSends);
  line("Queues operations", sumOf(spied.queueOperations), sumOf(model.queueOperations));
  line("R2 Class A", spied.r2.classA, model.r2.classA);
  line("Analytics Engine points", spied.analyticsPoints, model.analyticsPoints);
  line("Durable Object requests", spied.durableObjectRequests, model.durableObjectRequests);
  console.log(`${table(["operation", "measured (spies)", "model", "difference"], rows)}\n`);
  return { cpuMsPerHit: (cpu * 1000) / hits.length, bytes, gzipBytesPerRecord, vaultEntryBytes };
}

// ---- 2. the fleet ----
const monthHits = FLEET.rate * 86_400 * DAYS;
const perMillionHits = MILLION / monthHits;
/** Lifetimes that no hit's operations show: how long a backup and a log object are kept (and billed as storage). */
const VAULT_MONTHS = 400 / DAYS;
const LOG_MONTHS = 90 / DAYS;
/** Cron Triggers per month (wrangler.control.jsonc): every minute, and every five minutes the alert check. */
const CRON_RUNS = DAYS * 1440 + DAYS * 288;
/** Durable Object requests of the alert checks per month: AlertState's plan and evaluate, every five minutes. */
const ALERT_DO_REQUESTS = 2 * DAYS * 288;
/** First backups (new COOKIE_VAULT entries) per million hits of `mix`. */
function firstBackups(mix) {
  const perSession = hitsPerSession(mix);
  return ((perSession["boot-first-backup"] ?? 0) / sumOf(perSession)) * MILLION;
}

function fleet(mix, options = {}) {
  const local = { ...settings, ...options };
  const hits = syntheticHits({ count: HITS, ...FLEET, mix, seed: 11 });
  const t0 = hits[0]?.t ?? 0;
  const t1 = hits.at(-1)?.t ?? t0;
  const warm = local.locationTtlMs ? steadyLocations({ t0, ...FLEET, mix, locationTtlMs: local.locationTtlMs }) : undefined;
  const changes = configChanges({ containers: FLEET.containers, perDay: CHANGES_PER_DAY, from: t0, to: t1 });
  const ops = operationsFor(hits, { ...local, warm, changes }, measured.bytes);
  const scale = MILLION / HITS;
  for (const key of [
    "hits",
    "workerRequests",
    "consumerInvocations",
    "accessRecords",
    "detectionRecords",
    "logSends",
    "queueMessages",
    "analyticsPoints",
    "accessPoints",
    "sessionPoints",
    "durableObjectRequests",
    "durableObjectRowsWritten",
  ])
    ops[key] *= scale;
  for (const group of [ops.kvRead, ops.kvWrite, ops.queueOperations, ops.r2]) for (const key in group) group[key] *= scale;
  const records = ops.accessRecords + ops.detectionRecords;
  ops.extra = {
    // Every first backup is a new entry, kept at least 400 days (its last write's TTL; the refresh keeps loyal
    // visitors' longer, a lower bound therefore).
    kvGbMonths: (firstBackups(mix) * measured.vaultEntryBytes * VAULT_MONTHS) / 1e9,
    r2GbMonths: (records * measured.gzipBytesPerRecord * LOG_MONTHS) / 1e9,
    cronRuns: CRON_RUNS * perMillionHits,
    // Each alert check: a dead-letter listing, one traffic query.
    durableObjectRequests: ALERT_DO_REQUESTS * perMillionHits,
    r2ClassA: DAYS * 288 * perMillionHits,
    aeQueries: DAYS * 288 * perMillionHits,
    // The edge's sampled invocations (none when its invocation logs are off: its console lines are errors only);
    // every control invocation logs itself, a consumer batch and a cron run one line more.
    logEvents:
      ops.hits * settings.edgeInvocationLogs +
      2 * ops.consumerInvocations +
      2 * CRON_RUNS * perMillionHits +
      ops.durableObjectRequests +
      ALERT_DO_REQUESTS * perMillionHits,
  };
  return { ops, bill: bill(ops, measured.cpuMsPerHit, prices) };
}

const configReads = (ops) =>
  ["ROUTING_MAP", "SITE_REGISTRY", "EDGE_CONFIG", "LOADER_TOKEN_MAP"].reduce((s, ns) => s + (ops.kvRead[ns] ?? 0), 0);
const withAll = fleet(MIX);
const noRestoration = fleet({ ...MIX, cookieRestoration: false });
const lineNames = Object.keys(withAll.bill.lines);

console.log(
  `## A million hits: ${fmt(FLEET.containers)} containers (Zipf ${FLEET.zipf}), ${fmt(FLEET.locations)} locations × ${fmt(FLEET.isolates)} isolates, ` +
    `${fmt(FLEET.rate)} hits/s, ${CHANGES_PER_DAY} config change per container per day (${fmt(HITS)} hits simulated)\n`,
);
const both = [withAll, noRestoration];
console.log(
  table(
    ["per 1M hits", "every module on", "without restoration"],
    [
      ["hits per session", ...[MIX, { ...MIX, cookieRestoration: false }].map((m) => fmt(sumOf(hitsPerSession(m)), 2))],
      ["Worker requests (hits + consumer + crons)", ...both.map((r) => fmt(r.ops.workerRequests + r.ops.extra.cronRuns))],
      [
        "LOG_QUEUE messages (records each)",
        ...both.map((r) => `${fmt(r.ops.queueMessages)} (${fmt((r.ops.accessRecords + r.ops.detectionRecords) / r.ops.queueMessages, 1)})`),
      ],
      ["Queues operations", ...both.map((r) => fmt(r.bill.queueOps))],
      ["KV reads COOKIE_VAULT / config", ...both.map((r) => `${fmt(r.ops.kvRead.COOKIE_VAULT ?? 0)} / ${fmt(configReads(r.ops))}`)],
      ["KV writes", ...both.map((r) => fmt(sumOf(r.ops.kvWrite)))],
      ["R2 Class A (log objects)", ...both.map((r) => fmt(r.ops.r2.classA))],
      [
        "Analytics Engine points (access + session aggregates)",
        ...both.map((r) => `${fmt(r.ops.analyticsPoints)} (${fmt(r.ops.accessPoints)} + ${fmt(r.ops.sessionPoints)})`),
      ],
      [
        "aggregator Durable Object requests / rows written",
        ...both.map((r) => `${fmt(r.ops.durableObjectRequests)} / ${fmt(r.ops.durableObjectRowsWritten)}`),
      ],
      ["Workers Logs events", ...both.map((r) => fmt(r.ops.extra.logEvents))],
      ...lineNames.map((name) => [`$ ${name}`, ...both.map((r) => usd(r.bill.lines[name]))]),
      ["**$ total**", ...both.map((r) => `**${usd(r.bill.total)}**`)],
    ],
  ),
);
const verdict = (value, target) => (value <= target ? "target met" : "target NOT met");
console.log(`\ntotal per 1M hits, every module on: ${usd(withAll.bill.total)} (≤ $0.65: ${verdict(withAll.bill.total, 0.65)})`);
console.log(`total per 1M hits without restoration: ${usd(noRestoration.bill.total)} (≤ $0.40: ${verdict(noRestoration.bill.total, 0.4)})`);
const reads = configReads(withAll.ops);
console.log(`config KV reads per 1M hits: ${fmt(reads)} (≤ 20,000: ${verdict(reads, 20_000)})`);
console.log(
  `a junk request (unknown host, token or path; /boot or beacon without an identity the edge issued): a Worker request ` +
    `($${(prices.workers.requestsPerMillion / MILLION).toFixed(7)}) and its access record, 0 KV writes, 0 database rows; ` +
    `KV reads only at its key's first miss in a location (then cached as a miss for ${fmt((settings.locationTtlMs ?? 0) / 3_600_000, 1)} h)\n`,
);

// ---- the month, with the base fee and included quotas ----
{
  const { ops, bill: b } = withAll;
  const month = monthHits / MILLION;
  const over = (perMillion, included, price) => (Math.max(0, perMillion * month - included) / 1e6) * price;
  const p = prices;
  const lines = {
    base: p.workers.baseMonthly,
    workers:
      over(ops.workerRequests + ops.extra.cronRuns, p.workers.includedRequestsPerMonth, p.workers.requestsPerMillion) +
      over(ops.hits * measured.cpuMsPerHit, p.workers.includedCpuMsPerMonth, p.workers.cpuMsPerMillion),
    queues: over(b.queueOps, p.queues.includedOperationsPerMonth, p.queues.operationsPerMillion),
    kv:
      over(sumOf(ops.kvRead), p.kv.includedReadsPerMonth, p.kv.readsPerMillion) +
      over(sumOf(ops.kvWrite), p.kv.includedWritesPerMonth, p.kv.writesPerMillion) +
      b.lines["KV storage"] * month,
    r2: over(ops.r2.classA + ops.extra.r2ClassA, p.r2.includedClassAPerMonth, p.r2.classAPerMillion) + b.lines["R2 storage"] * month,
    analytics: over(ops.analyticsPoints, p.analyticsEngine.includedPointsPerMonth, p.analyticsEngine.pointsPerMillion),
    logs: over(ops.extra.logEvents, p.workersLogs.includedEventsPerMonth, p.workersLogs.eventsPerMillion),
  };
  const total = sumOf(lines);
  console.log(`## A month (${DAYS} days) at ${fmt(FLEET.rate)} hits/s, every module on, base fee and included quotas counted\n`);
  console.log(
    table(
      ["hits", ...Object.keys(lines), "per month", "per 1M hits"],
      [[fmt(monthHits), ...Object.values(lines).map((v) => `$${v.toFixed(2)}`), `**$${total.toFixed(2)}**`, usd(total / month)]],
    ),
  );
}

// ---- the log window's record bound: what each choice costs ----
console.log(`\n## The log buffer's record bound (records one isolate crash can lose) against Queues, per 1M hits\n`);
const boundRows = [];
for (const perIsolate of [1, 10, 100]) {
  const row = [`${fmt(perIsolate)} hits/s`];
  for (const flushRecords of [125, 50, 25]) {
    const hits = syntheticHits({ count: 50_000, rate: perIsolate, mix: MIX, seed: 5 });
    const ops = operationsFor(hits, { ...settings, flushRecords, locationTtlMs: undefined }, measured.bytes);
    const queueOps = (sumOf(ops.queueOperations) * MILLION) / 50_000;
    row.push(`${fmt(queueOps)} ($${((queueOps / MILLION) * prices.queues.operationsPerMillion).toFixed(4)})`);
  }
  boundRows.push(row);
}
console.log(table(["one isolate at", "bound 125", "bound 50 (production)", "bound 25"], boundRows));
