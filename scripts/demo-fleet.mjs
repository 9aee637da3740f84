// `npm start -- --demo-containers 100`: generated containers loaded through the operator API like any operator's,
// with a little traffic each, so the dashboard's fleet view (Containers) has something to sort. Every 25th one points
// at a port where nothing listens, so its traffic is all 502 (upstream_unreachable) and its error alert opens on the
// next alert check.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { DEV_ADMIN_TOKEN } from "./platform.mjs";

/** A port nothing listens on (TCP port 1 is reserved): the upstream of the failing demo containers. */
const DEAD_UPSTREAM = "http://127.0.0.1:1";
const FAILING_EVERY = 25;
const CONCURRENCY = 8;

/** @param {number} i 1-based */
function fleetConfig(i, originUrl) {
  const n = String(i).padStart(3, "0");
  const id = `fleet-${n}`;
  return {
    containerId: id,
    version: 1,
    upstream: i % FAILING_EVERY === 0 ? DEAD_UPSTREAM : originUrl,
    infraHosts: [`${id}.edge.localhost`],
    publicHosts: [`ss.${id}.localhost`],
    loaderToken: `lt_fleet_${n}`,
    gtmId: `GTM-FLEET${n}`,
    allowedOrigins: [],
    entitlements: [],
    modules: {},
  };
}

/** One GET with the given Host header (fetch cannot set Host); resolves to the status. */
function getWithHost(workerUrl, host, path) {
  const url = new URL(workerUrl);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path, headers: { Host: host }, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end();
  });
}

async function inParallel(items, work) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (queue.length) await work(queue.shift());
    }),
  );
}

/**
 * A PUT, sent again after a `503` from a workerd restart under `wrangler dev` (seen on a loaded machine while 100
 * configs are queued): an identical PUT is a repeat, so sending it again changes nothing.
 */
async function putOnce(url, headers, config) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { method: "PUT", headers, body: JSON.stringify(config) });
    if (res.status !== 503 || attempt === 3) return res;
    await res.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
  }
}

/**
 * PUTs `count` containers (a container already holding the same content answers 202 with nothing queued; one from an
 * earlier run on other ports is re-PUT as its next version), then sends each a few requests (25 to the failing ones,
 * enough for the error alert's minimum). Returns the failing ids.
 */
export async function loadDemoFleet(workerUrl, originUrl, count) {
  const configs = Array.from({ length: count }, (_, i) => fleetConfig(i + 1, originUrl));
  const auth = { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "Content-Type": "application/json" };
  await inParallel(configs, async (config) => {
    const url = `${workerUrl}/_edge/admin/containers/${config.containerId}`;
    let res = await putOnce(url, auth, config);
    if (res.status === 409) {
      const accepted = await (await fetch(url, { headers: auth })).json();
      res = await fetch(url, { method: "PUT", headers: auth, body: JSON.stringify({ ...config, version: accepted.version + 1 }) });
    }
    if (res.status !== 202) throw new Error(`loading ${config.containerId}: ${res.status} ${await res.text()}`);
  });
  // The configs reach live traffic through the local config queue within seconds.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const hits = configs.flatMap((config, i) =>
    Array.from({ length: config.upstream === DEAD_UPSTREAM ? 25 : 2 + (i % 9) }, () => config.infraHosts[0]),
  );
  await inParallel(hits, (host) => getWithHost(workerUrl, host, "/g/collect?v=2").catch(() => 0));
  return configs.filter((c) => c.upstream === DEAD_UPSTREAM).map((c) => c.containerId);
}
