// PUT /_edge/admin/containers/:id latency through the real control Worker (wrangler bundle on workerd via miniflare,
// local Durable Objects and KV, the config queue's consumer running meanwhile), each PUT a new container with an
// infra host, a public host, a mount and a token.
//
//   node bench/put-latency.mjs                      this checkout alone
//   node bench/put-latency.mjs --compare <checkout> this checkout against another one (e.g. one from before the
//                                                   RoutingRegistry), both running at once in this process
//
// With --compare the PUTs alternate between the two (A, B, A, B, ...), so both see the same machine at the same
// moment; the figure to read is the median of the paired differences, not the two medians (this machine's speed
// drifts by tens of percent within seconds).
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startWorkers } from "./lib/miniflare-worker.mjs";

const PAIRS = 400;
const WARM_UP = 50;

const compareIndex = process.argv.indexOf("--compare");
const otherRoot = compareIndex === -1 ? null : resolve(process.argv[compareIndex + 1] ?? "");

async function controlOf(start) {
  const mf = start({ bindings: { ADMIN_TOKEN: "bench-admin" }, port: 0 });
  return { mf, control: await mf.getWorker("qaxal-control") };
}

let counter = 0;
async function put(control) {
  const id = `lat-${process.pid}-${counter++}`;
  const config = {
    containerId: id,
    version: 1,
    upstream: "https://sgtm.example",
    infraHosts: [`${id}.edge.localhost`],
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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
const ms = (value) => Math.round(value * 100) / 100;

const here = await controlOf(startWorkers);
const other = otherRoot
  ? await controlOf((await import(pathToFileURL(join(otherRoot, "bench/lib/miniflare-worker.mjs")).href)).startWorkers)
  : null;

for (let i = 0; i < WARM_UP; i++) {
  await put(here.control);
  if (other) await put(other.control);
}
const mine = [];
const theirs = [];
for (let i = 0; i < PAIRS; i++) {
  // Alternate which goes first, so neither side always follows the other's background work.
  if (other && i % 2 === 1) theirs.push(await put(other.control));
  mine.push(await put(here.control));
  if (other && i % 2 === 0) theirs.push(await put(other.control));
}
await here.mf.dispose();
await other?.mf.dispose();

const report = { puts: PAIRS, thisCheckout: { medianMs: ms(median(mine)), p95Ms: ms(p95(mine)) } };
if (other) {
  report.otherCheckout = { root: otherRoot, medianMs: ms(median(theirs)), p95Ms: ms(p95(theirs)) };
  report.medianPairedDifferenceMs = ms(median(mine.map((value, i) => value - theirs[i])));
}
console.log(JSON.stringify(report, null, 2));
