// The log consumer on workerd (miniflare API, real R2): messages per second for batches of 100, and R2 objects
// written per 1M requests. Baseline in the same run: the same batches through the log dead-letter consumer, which
// keeps one R2 object per message (what logging without batching would cost).
import { startWorkers } from "./lib/miniflare-worker.mjs";
import { seededRandom } from "./lib/seeded-random.mjs";

const BATCH = 100; // max_batch_size of the log consumer in wrangler.jsonc (the Queues maximum)
const BATCH_TIMEOUT_S = 5; // its max_batch_timeout
const BATCHES = 200; // 20,000 messages through the log consumer
const BASELINE_BATCHES = 20; // 2,000 through the one-object-per-message baseline (it is slow)
const HOUR = 3_600_000;

const random = seededRandom(7);
const PATHS = ["/g/collect", "/gtm.js", "/k/", "/l/lt_demo.js", "/boot"];

/** One record at `ts`: 95 % access records, 5 % detection records, like a site where 1 in 20 hits is a new session. */
function record(ts, i) {
  if (random() < 0.05) {
    return {
      kind: "detection",
      ts,
      containerId: `shop${i % 10}`,
      sessionId: `bench-session-${i}`,
      host: "ss.shop.example",
      adblock: random() < 0.3,
      itp: random() < 0.2,
      country: "DE",
    };
  }
  return {
    kind: "access",
    ts,
    requestId: `bench-${i}`,
    containerId: `shop${i % 10}`,
    host: "ss.shop.example",
    method: "GET",
    pathClass: "proxy",
    path: PATHS[i % PATHS.length],
    status: random() < 0.02 ? 502 : 200,
    upstreamStatus: 200,
    durationMs: Math.round(5 + random() * 80),
    country: "DE",
    cookieRewrites: random() < 0.3 ? 2 : 0,
  };
}

/** Poisson arrivals (exponential gaps) at `perSecond` requests per second from `start`, in epoch ms. */
function arrivals(count, perSecond, start) {
  const times = [];
  let t = start;
  for (let i = 0; i < count; i++) {
    t += (-Math.log(1 - random()) * 1000) / perSecond;
    times.push(Math.floor(t));
  }
  return times;
}

/**
 * How Queues batches a stream: a batch closes at BATCH messages or BATCH_TIMEOUT_S after its first message.
 * Returns the batches as arrays of arrival times.
 */
function batchesOf(times) {
  const batches = [];
  let current = [];
  for (const t of times) {
    if (current.length === BATCH || (current.length > 0 && t - current[0] >= BATCH_TIMEOUT_S * 1000)) {
      batches.push(current);
      current = [];
    }
    current.push(t);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The consumer's rule: one object per batch and UTC hour. */
const objectsFor = (batches) => batches.reduce((sum, batch) => sum + new Set(batch.map((t) => Math.floor(t / HOUR))).size, 0);

// ---- real consumer run: 20,000 messages at 100 requests/s, starting 90 s before an hour boundary ----
// (Batches here are cut at 100 messages: at 100 requests/s the 5 s timeout never closes one first.)
const start = Date.UTC(2026, 10, 23, 11, 58, 30);
const times = arrivals(BATCHES * BATCH, 100, start);
const batches = batchesOf(times);
let n = 0;
const bodies = batches.map((batch) => batch.map((ts) => record(ts, n++)));

let objectsLogged = 0;
const mf = startWorkers({
  onStdout: (line) => {
    if (line.startsWith('{"event":"log_batch"')) objectsLogged += JSON.parse(line).objects;
  },
});
const worker = await mf.getWorker("qaxal-control");

async function pass(queue, label, count) {
  const started = performance.now();
  let retried = 0;
  for (const [b, batch] of bodies.slice(0, count).entries()) {
    const messages = batch.map((body, k) => ({ id: `${label}-${b}-${k}`, timestamp: new Date(), attempts: 1, body }));
    const result = await worker.queue(queue, messages);
    if (!result.ackAll) retried += 1;
  }
  const messages = bodies.slice(0, count).reduce((sum, batch) => sum + batch.length, 0);
  return { messages, messagesPerSecond: Math.round(messages / ((performance.now() - started) / 1000)), retried };
}

// Warm-up (bundle load, first R2 writes) outside the measurement; the real pass reuses no ids from it.
for (const batch of bodies.slice(0, 1))
  await worker.queue(
    "qaxal-logs",
    batch.map((body, k) => ({ id: `warm-${k}`, timestamp: new Date(), attempts: 1, body })),
  );
objectsLogged = 0;
const consumer = await pass("qaxal-logs", "logs", BATCHES);
const baseline = await pass("qaxal-logs-dlq", "dlq", BASELINE_BATCHES);
await new Promise((r) => setTimeout(r, 500)); // let the last log lines arrive

const bucket = await mf.getR2Bucket("LOG_BUCKET", "qaxal-control");
let objectsInR2 = 0;
let cursor;
do {
  const page = await bucket.list({ prefix: "logs/", cursor });
  objectsInR2 += page.objects.length;
  cursor = page.truncated ? page.cursor : undefined;
} while (cursor);
await mf.dispose();

// The real run's object count must match the rule, or the projection below would be wrong.
const expectedObjects = objectsFor(batches);
const warmObjects = objectsFor([batches[0]]);

// ---- projection to 1M requests at several total request rates (the queue is shared by all containers) ----
const perMillion = [1_000_000 / 86_400, 20, 100, 1000].map((perSecond) => {
  const projected = batchesOf(arrivals(1_000_000, perSecond, Date.UTC(2026, 10, 23, 0, 0, 0)));
  return {
    requestsPerSecond: Number(perSecond.toFixed(1)),
    hoursSpanned: Number(/** @type {number} */ ((projected.at(-1)?.at(-1) - /** @type {number} */ (projected[0]?.[0])) / HOUR).toFixed(1)),
    averageBatch: Number((1_000_000 / projected.length).toFixed(1)),
    objectsPerMillion: objectsFor(projected),
  };
});

const report = {
  batchSize: BATCH,
  consumer,
  baselineOneObjectPerMessage: baseline,
  throughputRatio: Number((consumer.messagesPerSecond / baseline.messagesPerSecond).toFixed(2)),
  r2: { batches: batches.length, objectsLogged, objectsInR2: objectsInR2 - warmObjects, expectedObjects },
  perMillion,
  baselineObjectsPerMillion: 1_000_000,
  target: 10_000,
};
console.log(JSON.stringify(report, null, 2));
if (consumer.retried > 0 || objectsLogged !== expectedObjects || objectsInR2 - warmObjects !== expectedObjects) {
  console.error("benchmark expectations not met");
  process.exit(1);
}
