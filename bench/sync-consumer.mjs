// 10,000 config messages for 100 containers through the real config consumer (workerd via miniflare: real
// Durable Objects and KV). Reports messages/second and KV writes per container per effective change, then
// delivers every message again to show that a replay writes nothing.
import { startWorkers } from "./lib/miniflare-worker.mjs";
import { seededRandom } from "./lib/seeded-random.mjs";

const CONTAINERS = 100;
const VERSIONS = 100; // per container: 100 x 100 = 10,000 messages
const BATCH = 100; // max_batch_size of the config consumer in wrangler.jsonc

function config(id, version) {
  return {
    containerId: id,
    version,
    upstream: "https://sgtm.example",
    infraHosts: [`${id}.edge.localhost`],
    // Every tenth version moves the public host, so some changes also write and delete SITE_REGISTRY keys.
    publicHosts: [`ss${Math.floor(version / 10)}.${id}.example`],
    loaderToken: `lt_${id}_tok`,
    gtmId: `GTM-V${version}X`,
    modules: {},
  };
}

const random = seededRandom(42);
const messages = [];
for (let c = 0; c < CONTAINERS; c++) {
  for (let v = 1; v <= VERSIONS; v++)
    messages.push({ type: "upsert", containerId: `bench-${c}`, version: v, config: config(`bench-${c}`, v) });
}
for (let i = messages.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  const [a, b] = [messages[i], messages[j]];
  if (a && b) [messages[i], messages[j]] = [b, a];
}

let writes = 0;
let deletes = 0;
let applied = 0;
const mf = startWorkers({
  onStdout: (line) => {
    if (!line.startsWith('{"event":"config_sync"')) return;
    const event = JSON.parse(line);
    if (event.status !== "applied") return;
    applied += 1;
    writes += event.writes;
    deletes += event.deletes;
  },
});
const worker = await mf.getWorker("qaxal-control");

async function deliverAll(label) {
  const started = performance.now();
  let retried = 0;
  for (let i = 0; i < messages.length; i += BATCH) {
    const batch = messages.slice(i, i + BATCH).map((body, k) => ({ id: `${label}-${i + k}`, timestamp: new Date(), attempts: 1, body }));
    const result = await worker.queue("qaxal-config", batch);
    retried += result.retryMessages.length;
  }
  return { seconds: (performance.now() - started) / 1000, retried };
}

const first = await deliverAll("first");
await new Promise((r) => setTimeout(r, 500)); // let the last log lines arrive
const firstRun = { applied, writes, deletes };
const second = await deliverAll("replay");
await new Promise((r) => setTimeout(r, 500));

// Check the end state independently of the counters: every container at version 100 in KV.
const kv = await mf.getKVNamespace("EDGE_CONFIG", "qaxal-control");
let atNewest = 0;
for (let c = 0; c < CONTAINERS; c++)
  if (/** @type {{ version?: number } | null} */ (await kv.get(`bench-${c}`, "json"))?.version === VERSIONS) atNewest++;
await mf.dispose();

const kvOps = firstRun.writes + firstRun.deletes;
const report = {
  messages: messages.length,
  containers: CONTAINERS,
  messagesPerSecond: Math.round(messages.length / first.seconds),
  effectiveChanges: firstRun.applied,
  kvWrites: firstRun.writes,
  kvDeletes: firstRun.deletes,
  kvOpsPerEffectiveChange: Number((kvOps / firstRun.applied).toFixed(2)),
  maxAllowedPerChange: 4,
  retried: first.retried,
  containersAtNewestVersion: atNewest,
  replay: {
    messagesPerSecond: Math.round(messages.length / second.seconds),
    newEffectiveChanges: applied - firstRun.applied,
    kvOps: writes + deletes - kvOps,
  },
};
console.log(JSON.stringify(report, null, 2));
if (report.kvOpsPerEffectiveChange > 4 || atNewest !== CONTAINERS || report.replay.kvOps !== 0) {
  console.error("benchmark expectations not met");
  process.exit(1);
}
