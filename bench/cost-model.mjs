// The cost model: which billable operations a stream of hits makes, and what they cost. Pure functions, shared by
// `npm run cost` (bench/cost.mjs) and the test that holds the model to a real local run
// (test/integration/cost-model.node.test.ts).
//
// What it knows:
// - per hit kind, the operations the edge's code makes (HIT_RULES, read off the code; the test checks them against
//   the spies on the real bindings);
// - the per-isolate window of workers/shared/log-buffer.ts (first record opens it, a full message goes at once),
//   packing (schemas/log-record.ts limits), and Queues' consumer batching (max_batch_size, max_batch_timeout of the
//   log consumer in wrangler.control.jsonc), simulated over the hits' arrival times;
// - the in-isolate config caches (CONFIG_CACHE_TTL_MS): each isolate reads a host's KV keys again once the TTL ran out.
// What it takes from a measurement: CPU per hit and the bytes of a record.
import { seededRandom } from "./lib/seeded-random.mjs";

/**
 * Operations per hit, beyond the Worker request and the access record every hit on a resolved host makes (each
 * record one Analytics Engine point; `proxied` marks the hits that reach sGTM).
 */
const HIT_RULES = {
  // GET <loaderPath><token>.js: the token lookup is cached in the isolate (loadConfig in operationsFor).
  script: {},
  // GET/POST <proxyPath>?p=…: gtm.js and GA4 collect hits, proxied to sGTM.
  gtm: { proxied: true },
  collect: { proxied: true },
  // GET <loaderPath>advertisement.js: the ad-block bait, an empty script.
  bait: {},
  // POST /mark-session-detection: one detection record (and its Analytics Engine point) besides the access record.
  detection: { detectionRecords: 1 },
  // POST /boot without FPID: a new id is issued, nothing read or written (workers/loader/boot.ts).
  "boot-new": {},
  // POST /boot with FPID and a backup marker that vouches for what the browser shows (backup-marker.ts): no KV.
  "boot-marked": {},
  // POST /boot with FPID otherwise: one COOKIE_VAULT read; a write when the backup is new, or a name or a
  // non-volatile value changed (a change of only GA4's session cookie is not written).
  "boot-first-backup": { kvRead: { COOKIE_VAULT: 1 }, kvWrite: { COOKIE_VAULT: 1 } },
  "boot-unchanged": { kvRead: { COOKIE_VAULT: 1 } },
  "boot-changed": { kvRead: { COOKIE_VAULT: 1 }, kvWrite: { COOKIE_VAULT: 1 } },
  // POST /boot whose marker is due for the vault's 30-day refresh (VAULT_REFRESH_SECONDS): read, and rewritten.
  "boot-refresh": { kvRead: { COOKIE_VAULT: 1 }, kvWrite: { COOKIE_VAULT: 1 } },
};

/**
 * The config entries a hit needs and the KV reads each costs when neither the isolate nor the location holds it
 * (workers/shared/location-cache.ts): the host (ROUTING_MAP and SITE_REGISTRY, read together), the container's
 * config (EDGE_CONFIG), and for the loader script the token (LOADER_TOKEN_MAP).
 */
const ENTRIES = { host: ["ROUTING_MAP", "SITE_REGISTRY"], config: ["EDGE_CONFIG"], token: ["LOADER_TOKEN_MAP"] };
const entriesOf = (hit) => (hit.kind === "script" ? ["host", "config", "token"] : ["host", "config"]);

/**
 * Expected hits of each kind per session of `mix` (bench/cost-mix.mjs). `cookieRestoration: false` prices containers
 * without restoration (no /boot at all); `backupMarker: false` prices the edge before the backup marker and volatile
 * cookies, when every /boot with FPID read the vault and GA4's session cookie made every later one write.
 */
export function hitsPerSession(mix) {
  const weights = mix.pagesPerSession.reduce((sum, [, w]) => sum + w, 0);
  const expect = (f) => mix.pagesPerSession.reduce((sum, [pages, w]) => sum + (w / weights) * f(pages), 0);
  const pages = expect((p) => p);
  const returning = 1 - mix.newVisitorShare;
  const common = { script: 1, gtm: 1, collect: pages * mix.collectsPerPage, bait: 1 - mix.adblockShare, detection: 1 };
  if (mix.cookieRestoration === false) return common;
  // A new visitor's first /boot gets FPID; the second backs up what GA4 and sGTM have set by then.
  const firstBackup = mix.newVisitorShare * expect((p) => (p >= 2 ? 1 : 0));
  // /boot calls after the first backup: new visitors' third and later page views, every page view of a returning one.
  const later = mix.newVisitorShare * expect((p) => Math.max(p - 2, 0)) + returning * pages;
  // Which of them write: a returning session's first, when another kept cookie changed (changedCookieShare); before
  // the marker, GA4's session cookie made every one of them write.
  const changed = !mix.backupMarker && mix.ga4SessionCookie ? later : returning * mix.changedCookieShare;
  // A returning session whose backup is 30 days old rewrites it (one in `returningSessionsPerMonth`), unless it
  // writes anyway.
  const refresh = mix.backupMarker ? (returning * (1 - mix.changedCookieShare)) / Math.max(1, mix.returningSessionsPerMonth ?? 1) : 0;
  return {
    ...common,
    "boot-new": mix.newVisitorShare,
    "boot-first-backup": firstBackup,
    "boot-changed": changed,
    ...(refresh > 0 ? { "boot-refresh": refresh } : {}),
    // The rest show what the backup holds: the marker spares their read (before it, each read the vault).
    [mix.backupMarker ? "boot-marked" : "boot-unchanged"]: later - changed - refresh,
  };
}

/** Billed Queues units of a message: per 64 KB (1 KB = 1,000 bytes) including ~100 bytes of metadata. */
const queueUnits = (bytes) => Math.ceil((bytes + 100) / 64_000);

const ENVELOPE_BYTES = '{"v":1,"records":[]}'.length;

/** Messages (record count, bytes) for one send of `records` records of `recordBytes` bytes each. */
function pack(records, recordBytes, limits) {
  const perMessage = Math.max(1, Math.min(limits.maxRecords, Math.floor((limits.maxBytes - ENVELOPE_BYTES + 1) / (recordBytes + 1))));
  const messages = [];
  for (let left = records; left > 0; left -= perMessage) {
    const n = Math.min(perMessage, left);
    messages.push({ records: n, bytes: ENVELOPE_BYTES + n * recordBytes + (n - 1) });
  }
  return messages;
}

/**
 * The log window of one isolate over its records (ascending `t`, ms), as workers/shared/log-buffer.ts keeps it: the
 * first record opens a buffer at t0; it is sent at min(t0 + windowMs, t_last + holdMs), t_last its newest record's
 * arrival, or at once when it holds `flushRecords` records (the next record then opens a new buffer).
 * Returns the sends as { t, records } (t = send time, records = the records sent).
 */
function simulateWindows(records, { windowMs, holdMs = windowMs, flushRecords }) {
  const sends = [];
  let pending = [];
  let opened = 0;
  let newest = 0;
  const deadline = () => Math.min(opened + windowMs, newest + holdMs);
  for (const record of records) {
    if (pending.length > 0 && deadline() <= record.t) {
      sends.push({ t: deadline(), records: pending });
      pending = [];
    }
    if (pending.length === 0) opened = record.t;
    newest = record.t;
    pending.push(record);
    if (pending.length >= flushRecords) {
      sends.push({ t: record.t, records: pending });
      pending = [];
    }
  }
  if (pending.length > 0) sends.push({ t: deadline(), records: pending });
  return sends;
}

/**
 * Queues' push-consumer batching over message arrival times: a batch is delivered when it holds `maxBatch` messages
 * or `timeoutMs` after its first message. Returns the batches (arrays of messages, `t` = delivery time).
 */
function simulateConsumerBatches(messages, { maxBatch, timeoutMs }) {
  const batches = [];
  let current = [];
  const deliver = (t) => {
    batches.push(Object.assign(current, { t }));
    current = [];
  };
  for (const message of [...messages].sort((a, b) => a.t - b.t)) {
    if (current.length > 0 && message.t - current[0].t >= timeoutMs) deliver(current[0].t + timeoutMs);
    current.push(message);
    if (current.length === maxBatch) deliver(message.t);
  }
  if (current.length > 0) deliver(current[0].t + timeoutMs);
  return batches;
}

const HOUR = 3_600_000;

/** R2 objects a batch writes: one per UTC hour its records fall in. */
function hoursOf(batch) {
  const hours = new Set();
  for (const message of batch) for (const record of message.records) hours.add(Math.floor(record.ts / HOUR));
  return hours.size;
}

/** Analytics Engine's limit on points written per invocation (the aggregator's alarms chain past it). */
export const AE_POINTS_PER_INVOCATION = 250;

/**
 * Analytics Engine points and the aggregator's work (durable/analytics-window.ts): each consumer batch with points
 * hands its partial aggregates to the Durable Object in one request (one row written, and one deleted once merged);
 * the object groups them by the window of their arrival (`windowMs`) and, when a window has closed, merges them into
 * one point per distinct dimension set of the counted access records (proxied, or status ≥ 400) and one per
 * distinct session set, stored in chunks of 250 (a row written and deleted each), one alarm invocation per chunk.
 */
function analyticsOf(batches, windowMs) {
  const windows = new Map();
  let adds = 0;
  for (const batch of batches) {
    const w = Math.floor(batch.t / windowMs);
    if (!windows.has(w)) windows.set(w, { access: new Set(), sessions: new Set() });
    const sets = windows.get(w);
    let points = 0;
    for (const message of batch)
      for (const record of message.records) {
        if (record.detection) sets.sessions.add(record.key);
        else if (record.counted) sets.access.add(record.key);
        else continue;
        points += 1;
      }
    if (points > 0) adds += 1;
  }
  let accessPoints = 0;
  let sessionPoints = 0;
  let chunks = 0;
  for (const { access, sessions } of windows.values()) {
    accessPoints += access.size;
    sessionPoints += sessions.size;
    chunks += Math.ceil((access.size + sessions.size) / AE_POINTS_PER_INVOCATION);
  }
  return { accessPoints, sessionPoints, adds, chunks };
}

function add(target, key, n) {
  if (n) target[key] = (target[key] ?? 0) + n;
}

/**
 * The dimension set of a hit's access record, as far as the model knows it: the container, the kind (which fixes
 * method, path class and path), the status and the country. Hits without them share one container and country.
 */
const dimensionKey = (hit) => `${hit.container ?? ""}|${hit.kind}|${hit.status ?? 200}|${hit.country ?? ""}`;

/** A session aggregate's dimension set as far as the model knows it: the container (its host) and the country. */
const sessionKey = (hit) => `${hit.container ?? ""}|${hit.country ?? ""}`;

/**
 * The operations a stream of hits makes. `hits` = [{ kind, t, isolate, status?, country?, container? }] with t in
 * ms, ascending; settings = { windowMs, flushRecords, maxRecords, maxBytes, consumerBatch, consumerTimeoutMs,
 * configTtlMs }; recordBytes = { access, detection }. `history` = earlier hits on the same isolates: they only warm
 * the config caches, as they did in the Worker. Counts are named like the spies' (bench/lib/binding-spies.ts).
 */
export function operationsFor(hits, settings, recordBytes, history = []) {
  const kvRead = {};
  const kvWrite = {};
  let accessRecords = 0;
  let proxiedRecords = 0;
  let detectionRecords = 0;
  const byIsolate = new Map();
  const isolateOf = (id) => {
    if (!byIsolate.has(id)) byIsolate.set(id, { records: [], loaded: new Map() });
    return byIsolate.get(id);
  };
  // Config caches. An isolate keeps an entry configTtlMs from the request that resolved it; past that it asks its
  // location, which keeps the entry locationTtlMs from the KV read that filled it, unless a change of the container
  // purged it since (`changes`: container → ascending change times). Without locationTtlMs, KV stands behind the
  // isolate directly. `warm` = (location, entry) → load time, a location's state when the stream starts.
  const locations = new Map();
  const locationOf = (id) => {
    if (!locations.has(id)) locations.set(id, new Map(settings.warm?.get(id) ?? []));
    return locations.get(id);
  };
  const purgedSince = (container, since, t) => (settings.changes?.get(container) ?? []).some((c) => c > since && c <= t);
  const loadConfig = (isolate, hit, count) => {
    const container = hit.container ?? "";
    for (const entry of entriesOf(hit)) {
      const key = `${container}|${entry}`;
      const kept = isolate.loaded.get(key);
      if (kept !== undefined && hit.t - kept < settings.configTtlMs) continue;
      isolate.loaded.set(key, hit.t);
      if (settings.locationTtlMs) {
        const location = locationOf(hit.location ?? 0);
        const loaded = location.get(key);
        if (
          loaded !== undefined &&
          hit.t - loaded < settings.locationTtlMs &&
          !(entry === "config" && purgedSince(container, loaded, hit.t))
        )
          continue;
        location.set(key, hit.t);
      }
      if (count) for (const ns of ENTRIES[entry]) add(kvRead, ns, 1);
    }
  };
  for (const hit of history) loadConfig(isolateOf(hit.isolate), hit, false);
  for (const hit of hits) {
    const rule = HIT_RULES[hit.kind];
    if (!rule) throw new Error(`unknown hit kind ${hit.kind}`);
    for (const [ns, n] of Object.entries(rule.kvRead ?? {})) add(kvRead, ns, n);
    for (const [ns, n] of Object.entries(rule.kvWrite ?? {})) add(kvWrite, ns, n);
    accessRecords += 1;
    if (rule.proxied) proxiedRecords += 1;
    detectionRecords += rule.detectionRecords ?? 0;
    const isolate = isolateOf(hit.isolate);
    // The loader queues its detection record before the router queues the request's access record.
    for (let i = 0; i < (rule.detectionRecords ?? 0); i++)
      isolate.records.push({ t: hit.t, ts: hit.t, detection: true, key: sessionKey(hit) });
    const counted = Boolean(rule.proxied) || (hit.status ?? 200) >= 400;
    isolate.records.push({ t: hit.t, ts: hit.t, key: dimensionKey(hit), counted });
    loadConfig(isolate, hit, true);
  }

  const meanRecordBytes = Math.round(
    (accessRecords * recordBytes.access + detectionRecords * recordBytes.detection) / Math.max(1, accessRecords + detectionRecords),
  );
  const messages = [];
  const sends = [];
  for (const { records } of byIsolate.values()) {
    records.sort((a, b) => a.t - b.t);
    for (const send of simulateWindows(records, settings)) {
      sends.push(send.records.length);
      let from = 0;
      for (const message of pack(send.records.length, meanRecordBytes, settings)) {
        messages.push({ ...message, t: send.t, records: send.records.slice(from, from + message.records) });
        from += message.records;
      }
    }
  }
  const units = messages.reduce((sum, m) => sum + queueUnits(m.bytes), 0);
  const batches = simulateConsumerBatches(messages, { maxBatch: settings.consumerBatch, timeoutMs: settings.consumerTimeoutMs });
  const analytics = analyticsOf(batches, settings.analyticsWindowMs);
  return {
    hits: hits.length,
    workerRequests: hits.length + batches.length,
    consumerInvocations: batches.length,
    kvRead,
    kvWrite,
    accessRecords,
    proxiedRecords,
    detectionRecords,
    logSends: sends.length,
    recordsPerSend: sends,
    queueMessages: messages.length,
    queueOperations: { write: units, read: units, delete: units },
    r2: { classA: batches.reduce((sum, b) => sum + hoursOf(b), 0), classB: 0 },
    // ACCESS_ANALYTICS and SESSION_ANALYTICS aggregates per window, written by the aggregator's alarms.
    analyticsPoints: analytics.accessPoints + analytics.sessionPoints,
    accessPoints: analytics.accessPoints,
    sessionPoints: analytics.sessionPoints,
    // The aggregator: a request per add and per alarm invocation (chunk); each stores a row and deletes it later.
    durableObjectRequests: analytics.adds + analytics.chunks,
    durableObjectRowsWritten: 2 * (analytics.adds + analytics.chunks),
  };
}

/** A value of `weighted` ([value, weight] pairs) drawn with `random`. */
export function pick(random, weighted) {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of weighted) {
    r -= w;
    if (r < 0) return value;
  }
  return weighted.at(-1)[0];
}

/** Traffic shares of `n` containers under Zipf's law with exponent `s` (the first container the busiest). */
export function zipfShares(n, s = 1) {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Draws an index from cumulative shares with `random`. */
function drawIndex(random, cumulative) {
  const r = random() * cumulative.at(-1);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulate(shares) {
  let total = 0;
  return shares.map((w) => {
    total += w;
    return total;
  });
}

/**
 * A synthetic stream: `count` hits at `rate` hits/s platform-wide, Poisson arrivals, kinds and countries drawn from
 * the mix. Each hit goes to a container `c<i>` with a Zipf share of the traffic, to one of `locations` locations
 * (evenly: the worst case for caches and batching at a given count) and to one of that location's `isolates`.
 */
export function syntheticHits({ count, rate, containers = 1, locations = 1, isolates = 1, zipf = 1, mix, seed = 1 }) {
  const random = seededRandom(seed);
  const kinds = Object.entries(hitsPerSession(mix));
  const containerShares = cumulate(zipfShares(containers, zipf));
  const hits = [];
  let t = Date.UTC(2026, 0, 5, 0, 0, 0);
  for (let i = 0; i < count; i++) {
    t += (-Math.log(1 - random()) * 1000) / rate;
    const kind = pick(random, kinds);
    const location = Math.floor(random() * locations);
    hits.push({
      kind,
      t: Math.floor(t),
      container: `c${drawIndex(random, containerShares)}`,
      location,
      isolate: `${location}/${Math.floor(random() * isolates)}`,
      country: pick(random, mix.countries),
    });
  }
  return hits;
}

/**
 * The locations' config caches in their steady state when a stream of syntheticHits starts at `t0`: an entry that
 * a location sees requested at λ per ms is, at a random moment, alive with probability T / (T + 1/λ) (T the
 * location lifetime; after it expires the next request reloads it), and then of a uniform age below T.
 */
export function steadyLocations({ t0, rate, containers, locations, zipf = 1, mix, locationTtlMs, seed = 7 }) {
  const random = seededRandom(seed);
  const perSession = hitsPerSession(mix);
  const scriptShare = perSession.script / Object.values(perSession).reduce((a, b) => a + b, 0);
  const shares = zipfShares(containers, zipf);
  const warm = new Map();
  for (let location = 0; location < locations; location++) {
    const entries = [];
    shares.forEach((share, c) => {
      for (const entry of ["host", "config", "token"]) {
        const perMs = ((rate * share) / locations / 1000) * (entry === "token" ? scriptShare : 1);
        if (random() < locationTtlMs / (locationTtlMs + 1 / perMs)) entries.push([`c${c}|${entry}`, t0 - random() * locationTtlMs]);
      }
    });
    warm.set(location, entries);
  }
  return warm;
}

/** Config changes as Poisson arrivals of `perDay` per container between `from` and `to` (ms): container → times. */
export function configChanges({ containers, perDay, from, to, seed = 9 }) {
  const random = seededRandom(seed);
  const changes = new Map();
  for (let c = 0; c < containers; c++) {
    const times = [];
    for (let t = from; perDay > 0; ) {
      t += (-Math.log(1 - random()) * 86_400_000) / perDay;
      if (t > to) break;
      times.push(t);
    }
    changes.set(`c${c}`, times);
  }
  return changes;
}

/** Dollars for `ops` at `prices` (bench/prices.json), without the plan's base fee and included quotas. */
export function bill(ops, cpuMsPerHit, prices) {
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const perMillion = (n, price) => (n / 1e6) * price;
  const queueOps = sum(ops.queueOperations);
  const extra = ops.extra ?? {};
  const lines = {
    "Workers requests": perMillion(ops.workerRequests + (extra.cronRuns ?? 0), prices.workers.requestsPerMillion),
    "Workers CPU": perMillion(ops.hits * cpuMsPerHit, prices.workers.cpuMsPerMillion),
    "Queues operations": perMillion(queueOps, prices.queues.operationsPerMillion),
    "KV reads": perMillion(sum(ops.kvRead), prices.kv.readsPerMillion),
    "KV writes": perMillion(sum(ops.kvWrite), prices.kv.writesPerMillion),
    "KV storage": (extra.kvGbMonths ?? 0) * prices.kv.storageGbMonth,
    "Durable Object requests": perMillion(
      ops.durableObjectRequests + (extra.durableObjectRequests ?? 0),
      prices.durableObjects.requestsPerMillion,
    ),
    "Durable Object SQLite rows":
      perMillion(ops.durableObjectRowsRead ?? 0, prices.durableObjects.sqliteRowsReadPerMillion) +
      perMillion(ops.durableObjectRowsWritten ?? 0, prices.durableObjects.sqliteRowsWrittenPerMillion),
    "R2 Class A": perMillion(ops.r2.classA + (extra.r2ClassA ?? 0), prices.r2.classAPerMillion),
    "R2 Class B": perMillion(ops.r2.classB, prices.r2.classBPerMillion),
    "R2 storage": (extra.r2GbMonths ?? 0) * prices.r2.storageGbMonth,
    "Analytics Engine points": perMillion(ops.analyticsPoints, prices.analyticsEngine.pointsPerMillion),
    "Analytics Engine queries": perMillion(extra.aeQueries ?? 0, prices.analyticsEngine.readQueriesPerMillion),
    "Workers Logs events": perMillion(extra.logEvents ?? 0, prices.workersLogs.eventsPerMillion),
  };
  return { lines, total: sum(lines), queueOps };
}
