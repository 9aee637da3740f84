// Does a flood of refused calls from one API key slow other keys' authentication? The real control Worker (wrangler
// bundle on workerd via miniflare, local Durable Objects and the REFUSED_CALLS rate limiter miniflare runs): key A
// (read-only) sends refused POST /_edge/admin/replay calls, 8 at a time without pause, while key B reads a container's
// status one call after another. Locally one workerd process runs everything, so any flood takes CPU from B; the
// control is a flood of the same shape on GET /_edge/health (no auth, no storage). B's latency is taken in rotating
// blocks (quiet, health flood, refused flood), so all three see the same machine; the figure to read is B's median
// during the refused flood against the health flood. Also counted: A's answers and its audit rows.
//
//   node bench/refused-flood.mjs
import { startWorkers } from "./lib/miniflare-worker.mjs";

const BLOCKS = 8;
const PER_BLOCK = 40;
const FLOOD_CONCURRENCY = 8;
const ADMIN = { Authorization: "Bearer bench-admin", "Content-Type": "application/json" };

const mf = startWorkers({ port: 0 });
const control = await mf.getWorker("qaxal-control");
const call = async (path, init = {}) => {
  const res = await control.fetch(`http://localhost${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });
  const body = await res.text();
  return { status: res.status, body };
};

const id = "flood-shop";
const config = {
  containerId: id,
  version: 1,
  upstream: "https://sgtm.example",
  infraHosts: [`${id}.edge.localhost`],
  publicHosts: [`ss.${id}.example`],
  loaderToken: `lt_${id}`,
  gtmId: "GTM-FLOOD1",
};
if ((await call(`/_edge/admin/containers/${id}`, { method: "PUT", body: JSON.stringify(config) })).status !== 202)
  throw new Error("PUT failed");
const keyOf = async (name) =>
  JSON.parse((await call("/_edge/admin/keys", { method: "POST", body: JSON.stringify({ name, containers: [id], access: "read" }) })).body);
const flooder = await keyOf("flooder");
const reader = await keyOf("reader");

const statusOfB = async () => {
  const started = performance.now();
  const { status } = await call(`/_edge/admin/containers/${id}/status`, { headers: { Authorization: `Bearer ${reader.key}` } });
  if (status !== 200) throw new Error(`B's status: ${status}`);
  return performance.now() - started;
};

const answers = { health: {}, refused: {} };
let flooding = null;
async function floodLoop() {
  while (flooding) {
    const kind = flooding;
    const { status } =
      kind === "health"
        ? await call("/_edge/health", { headers: { Authorization: "" } })
        : await call("/_edge/admin/replay", {
            method: "POST",
            body: JSON.stringify({ containerIds: [id] }),
            headers: { Authorization: `Bearer ${flooder.key}` },
          });
    answers[kind][status] = (answers[kind][status] ?? 0) + 1;
  }
}

async function block(kind, into) {
  flooding = kind;
  const loops = kind ? Array.from({ length: FLOOD_CONCURRENCY }, floodLoop) : [];
  for (let i = 0; i < PER_BLOCK; i++) into.push(await statusOfB());
  flooding = null;
  await Promise.all(loops);
}

for (let i = 0; i < 20; i++) await statusOfB();
const quiet = [];
const health = [];
const flood = [];
for (let round = 0; round < BLOCKS; round++) {
  await block(null, quiet);
  await block("health", health);
  await block("refused", flood);
}
const audit = JSON.parse((await call("/_edge/admin/audit?limit=500")).body);
const auditRowsOfA = audit.entries.filter((entry) => entry.actor === `key:${flooder.id}`).length;
await mf.dispose();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
const ms = (value) => Math.round(value * 100) / 100;
console.log(
  JSON.stringify(
    {
      samplesOfB: { quiet: quiet.length, duringHealthFlood: health.length, duringRefusedFlood: flood.length },
      quiet: { medianMs: ms(median(quiet)), p95Ms: ms(p95(quiet)) },
      duringHealthFlood: { medianMs: ms(median(health)), p95Ms: ms(p95(health)) },
      duringRefusedFlood: { medianMs: ms(median(flood)), p95Ms: ms(p95(flood)) },
      refusedOverHealthMedianRatio: ms(median(flood) / median(health)),
      answersToA: answers,
      auditRowsOfA,
    },
    null,
    2,
  ),
);
