// The loader's figures: the served script's size (raw, gzip, brotli) and requests per second of /boot against the
// bundled Worker on workerd (miniflare API, loopback HTTP, keep-alive), each /boot case next to a baseline measured
// in the same run. Bounded: a fixed number of requests per case at a fixed concurrency, each case capped in time.
import { Agent, request } from "node:http";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { startWorkers } from "./lib/miniflare-worker.mjs";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const WARMUP = 300;
const CONCURRENCY = 8;
const CASE_TIMEOUT_MS = 60_000;

const shop = {
  containerId: "bench-shop",
  version: 1,
  upstream: "http://127.0.0.1:9",
  infraHosts: [],
  publicHosts: ["ss.bench-shop.example"],
  loaderToken: "lt_bench_shop",
  gtmId: "GTM-BENCH01",
  allowedOrigins: ["https://www.bench-shop.example"],
  entitlements: ["cookie_restoration", "adblock_detection"],
  modules: {
    cookieKeeper: { enabled: true, cookies: ["_ga", "_ga_*", "_fbp", "FPID"], maxAgeDays: 395, httpOnly: ["FPID"] },
    cookieRestoration: { enabled: true },
    adblockDetection: { enabled: true },
  },
  proxyPath: "/k/",
  proxyParam: "p",
  loaderPath: "/l/",
};
// Same shape without the entitlement: /boot answers without touching the vault.
const basic = {
  ...shop,
  containerId: "bench-basic",
  publicHosts: ["ss.bench-basic.example"],
  loaderToken: "lt_bench_basic",
  entitlements: [],
};

// The in-isolate config cache outlives the run: the figures are the loader's, not the config reload's. (With the
// 30 s production lifetime, a reload landing in the KV-write case failed a few requests on local workerd with
// "Cannot perform I/O on behalf of a different request (I/O type: SpanParent)" inside the KV read; see README.)
const mf = startWorkers({ port: 0, bindings: { CONFIG_CACHE_TTL_MS: "3600000" } });
const base = await mf.ready;
// Seeded as the sync consumer leaves KV (the bench has no queue consumer).
for (const config of [shop, basic]) {
  await (await mf.getKVNamespace("EDGE_CONFIG")).put(config.containerId, JSON.stringify(config));
  for (const host of config.publicHosts) await (await mf.getKVNamespace("SITE_REGISTRY")).put(host, config.containerId);
  await (await mf.getKVNamespace("LOADER_TOKEN_MAP")).put(config.loaderToken, config.containerId);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(options, retry = true) {
  const { host, method = "GET", path, headers = {}, body } = options;
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { agent, method, headers: { ...headers, Host: host } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", (error) => {
      // A kept-alive socket the server closed just as it was reused: Node's documented race, safe to send again.
      if (retry && req.reusedSocket && "code" in error && error.code === "ECONNRESET") resolve(send(options, false));
      else reject(error);
    });
    req.end(body);
  });
}

/** Runs `make(i)` REQUESTS times at CONCURRENCY; returns requests/second and checks every status. */
async function measure(name, expectStatus, make) {
  for (let i = 0; i < WARMUP; i++) await send(make(-1 - i));
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + CASE_TIMEOUT_MS;
  const worker = async () => {
    while (next < REQUESTS && performance.now() < deadline) {
      const res = await send(make(next++));
      if (res.status !== expectStatus && failures++ === 0) console.error(`${name}: ${res.status} ${res.body.toString().slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  console.error(`${name}: ${next} requests in ${seconds.toFixed(1)} s`);
  if (failures > 0) throw new Error(`${name}: ${failures} answers were not ${expectStatus}`);
  return { name, requests: next, rps: Math.round(next / seconds) };
}

// Every request from its own client address, as visitors come: the edge bounds /boot per client address and
// container (workers/shared/client-limit.ts), and miniflare would give every request 127.0.0.1.
let clients = 0;
const clientIp = () => {
  clients += 1;
  return `10.${(clients >> 16) & 255}.${(clients >> 8) & 255}.${clients & 255}`;
};

const boot = (host, cookies, cookieHeader) => ({
  host,
  method: "POST",
  path: "/boot",
  headers: {
    "Content-Type": "text/plain;charset=UTF-8",
    Origin: `https://www.${host.slice(3)}`,
    "CF-Connecting-IP": clientIp(),
    ...(cookieHeader ? { Cookie: cookieHeader } : {}),
  },
  body: JSON.stringify({ cookies }),
});

/** FPID and its proof `_qxi` as the edge issues them to a new visitor (a made-up FPID gets no backup). */
async function issuedIdentity() {
  const res = await send(boot("ss.bench-shop.example", {}));
  const pairs = [res.headers["set-cookie"]].flat().map((line) => String(line).split(";")[0] ?? "");
  return pairs.filter((pair) => pair.startsWith("FPID=") || pair.startsWith("_qxi=")).join("; ");
}

// Size of what browsers download.
const script = (await send({ host: "ss.bench-shop.example", path: "/l/lt_bench_shop.js" })).body;
const size = {
  rawBytes: script.length,
  gzipBytes: gzipSync(script, { level: 9 }).length,
  brotliBytes: brotliCompressSync(script, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  limitGzipBytes: 2048,
};

// Returning visitors need a backup to compare against: one /boot each (the first backup) before the measured run.
const RETURNING = 500;
const returning = [];
for (let i = 0; i < RETURNING; i++) returning.push(await issuedIdentity());
const returningCookie = (i) => returning[((i % RETURNING) + RETURNING) % RETURNING];
for (let i = 0; i < RETURNING; i++) await send(boot("ss.bench-shop.example", { _ga: `GA1.1.${i}.1700000000` }, returningCookie(i)));
// A first backup needs an identity no backup exists for yet: one per request, issued before the run.
const fresh = [];
for (let i = 0; i < REQUESTS + WARMUP; i++) fresh.push(await issuedIdentity());

const cases = /** @type {const} */ ([
  await measure("GET /_edge/health on a customer host (baseline: the edge's cheapest answer, a 404)", 404, () => ({
    host: "ss.bench-shop.example",
    path: "/_edge/health",
  })),
  await measure("GET script (200)", 200, () => ({ host: "ss.bench-shop.example", path: "/l/lt_bench_shop.js" })),
  await measure("/boot, restoration not entitled (no KV)", 200, () => boot("ss.bench-basic.example", { _ga: "GA1.1.1.1700000000" })),
  await measure("/boot, new visitor (FPID issued, no KV)", 200, () => boot("ss.bench-shop.example", {})),
  await measure("/boot, returning visitor, cookies unchanged (1 KV read, 0 writes)", 200, (i) =>
    boot("ss.bench-shop.example", { _ga: `GA1.1.${((i % RETURNING) + RETURNING) % RETURNING}.1700000000` }, returningCookie(i)),
  ),
  await measure("/boot, first backup (1 KV read, 1 write)", 200, (i) =>
    boot("ss.bench-shop.example", { _ga: "GA1.1.9.1700000000" }, fresh[i < 0 ? REQUESTS - 1 - i : i]),
  ),
  await measure("/boot, junk: a made-up FPID (no KV)", 200, (i) =>
    boot("ss.bench-shop.example", { _ga: "GA1.1.9.1700000000" }, `FPID=FPID2.2.junk${i < 0 ? `w${-i}` : i}.1700000000`),
  ),
]);

agent.destroy();
await mf.dispose();

const baseline = cases[0].rps;
const report = {
  script: size,
  concurrency: CONCURRENCY,
  requestsPerCase: REQUESTS,
  cases: cases.map((c) => ({ ...c, ratioToBaseline: Number((c.rps / baseline).toFixed(2)) })),
};
console.log(JSON.stringify(report, null, 2));
if (size.gzipBytes > size.limitGzipBytes) {
  console.error(`the loader script is ${size.gzipBytes} bytes gzipped, over the ${size.limitGzipBytes} byte budget`);
  process.exit(1);
}
