// PUT /_edge/admin/containers/:id latency: the operator API of the real control Worker (bundled by wrangler, on
// workerd via miniflare, local Durable Objects and KV), one PUT at a time and eight at a time, each PUT a new
// container with two hosts, a mount and a token. Run it in two checkouts to compare (docs/tenant-isolation.md
// compares the one before the RoutingRegistry with the one after: the registry adds one Durable Object round trip).
// The config queue's consumer runs meanwhile, as it would.
import { startWorkers } from "./lib/miniflare-worker.mjs";

const SEQUENTIAL = 300;
const CONCURRENT = 400;
const PARALLEL = 8;
const WARM_UP = 50;

const mf = startWorkers({ bindings: { ADMIN_TOKEN: "bench-admin" } });
const control = await mf.getWorker("qaxal-control");
let counter = 0;

async function put() {
  const id = `lat-${process.pid}-${counter++}`;
  const config = {
    containerId: id,
    version: 1,
    upstream: "https://sgtm.example",
    infraHosts: [`${id}.edge.example`],
    publicHosts: [`ss.${id}.example`, `www.${id}.example/metrics`],
    loaderToken: `lt_${id}`,
    gtmId: "GTM-LAT123",
  };
  const started = performance.now();
  const res = await control.fetch(`http://localhost/_edge/admin/containers/${id}`, {
    method: "PUT",
    headers: { Authorization: "Bearer bench-admin", "Content-Type": "application/json" },
    body: JSON.stringify(config),
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`PUT ${id}: ${res.status}`);
  return performance.now() - started;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (value) => Math.round(value * 100) / 100;

for (let i = 0; i < WARM_UP; i++) await put();

const sequential = [];
for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await put());
sequential.sort((a, b) => a - b);

const concurrent = [];
const started = performance.now();
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let i = 0; i < CONCURRENT / PARALLEL; i++) concurrent.push(await put());
  }),
);
const seconds = (performance.now() - started) / 1000;
concurrent.sort((a, b) => a - b);
await mf.dispose();

console.log(
  JSON.stringify(
    {
      sequential: { puts: SEQUENTIAL, medianMs: ms(quantile(sequential, 0.5)), p95Ms: ms(quantile(sequential, 0.95)) },
      concurrent: {
        puts: CONCURRENT,
        parallel: PARALLEL,
        putsPerSecond: Math.round(CONCURRENT / seconds),
        medianMs: ms(quantile(concurrent, 0.5)),
        p95Ms: ms(quantile(concurrent, 0.95)),
      },
    },
    null,
    2,
  ),
);
