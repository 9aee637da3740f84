// The scheduled jobs and the self-heal paths, measured on the real Workers (workerd through miniflare, both Workers
// as deployed) with Supabase's SQL on a throwaway PostgreSQL 15 behind the project's PostgREST stand-in (PostgREST
// itself cannot run here):
//   1. CPU per run of the outbox sweeper and of the alert check when nothing is wrong (workerd's own CPU time from
//      /proc, over many runs; the binding calls per run are counted in test/integration/scheduled-cost.test.ts);
//   2. a lost webhook: from the sweep that finds the row to the config applied (the cron's wait is added in the
//      docs: at most one minute plus the sweeper's grace period);
//   3. a deleted KV key: from the live request that misses it to the key back in KV, and to live traffic answered
//      normally again (the edge's isolate and location caches, CONFIG_CACHE_TTL_MS and LOCATION_CACHE_TTL_MS, hold a miss a little longer).
// Prints one JSON report. `npm run bench:scheduled`.
import { readdirSync, readFileSync } from "node:fs";
import { hostRequest } from "../test/support/http.mjs";
import { startPostgrestStandIn } from "../test/support/postgrest-stand-in.mjs";
import { startWorkers } from "./lib/miniflare-worker.mjs";

const SERVICE_KEY = "bench-service-role-key";
const RUNS = 200;
const SAMPLES = 5;
const ADMIN = { Authorization: "Bearer bench-admin" };
const HZ = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** CPU seconds (user + system) of every workerd process this Node process started. */
function workerdCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (name === "workerd" && Number(fields[1]) === process.pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / HZ;
}

const standIn = await startPostgrestStandIn({ serviceKey: SERVICE_KEY });
// Idle jobs talk to a tenant whose RPC answers are fixed (nothing pending), so only the Worker's own work is timed.
standIn.answerRpc("idle", "edge_outbox_pending", { p_limit: 100, p_min_age_seconds: 10 }, { body: [] });
await standIn.useDatabase("sql");

async function platform(tenant) {
  const mf = startWorkers({
    bindings: {
      SUPABASE_URL: standIn.supabaseUrl(tenant),
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      CONFIG_CACHE_TTL_MS: "2000",
      LOCATION_CACHE_TTL_MS: "2000",
    },
  });
  const url = await mf.ready;
  return { mf, url, control: await mf.getWorker("qaxal-control") };
}

/** Workerd CPU per call of `job`, net of what workerd burns idle over the same wall time. */
async function cpuPerRun(job) {
  for (let i = 0; i < 10; i += 1) await job(i); // warm-up
  const idleStart = workerdCpuSeconds();
  const idleWall = performance.now();
  await sleep(2000);
  const idlePerMs = (workerdCpuSeconds() - idleStart) / (performance.now() - idleWall);
  const cpuStart = workerdCpuSeconds();
  const wallStart = performance.now();
  for (let i = 0; i < RUNS; i += 1) await job(i);
  const wall = performance.now() - wallStart;
  const cpu = workerdCpuSeconds() - cpuStart - idlePerMs * wall;
  return { runs: RUNS, cpuMsPerRun: Number(((cpu * 1000) / RUNS).toFixed(2)), wallMsPerRun: Number((wall / RUNS).toFixed(2)) };
}

// ---- 1. idle cost ----
const idle = await platform("idle");
const hour = Math.floor(Date.now() / 3600_000) * 3600_000;
const sweep = await cpuPerRun(() => idle.control.scheduled({ cron: "* * * * *", scheduledTime: new Date() }));
// Same clock hour every time: after the first, each run is the 5-minute check without the hourly comparison.
const alertCheck = await cpuPerRun(() => idle.control.scheduled({ cron: "*/5 * * * *", scheduledTime: new Date(hour + 30 * 60_000) }));
// A new hour every time: each run also compares the last hour with the same hour of the previous 7 days.
const alertCheckHourly = await cpuPerRun((i) =>
  idle.control.scheduled({ cron: "*/5 * * * *", scheduledTime: new Date(hour + (i + 100) * 3600_000) }),
);
await idle.mf.dispose();

// ---- 2. and 3.: real SQL ----
const live = await platform("sql");
const statusOf = async (id) =>
  (await live.mf.dispatchFetch(`http://localhost/_edge/admin/containers/${id}/status`, { headers: ADMIN })).json();
async function until(read, done, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

// Three times SAMPLES containers: the deleted-key samples below each need a container of their own.
const lostWebhook = [];
for (let i = 0; i < 3 * SAMPLES; i += 1) {
  const id = `bench-lost-${i}`;
  await standIn.sqlExec(
    "sql",
    `begin;
    insert into containers (id, upstream, gtm_id) values ('${id}', 'https://sgtm.${id}.example', 'GTM-BENCH1');
    insert into container_hosts (kind, host, container_id) values ('infra', '${id}.edge.localhost', '${id}'), ('public', 'ss.${id}.example', '${id}');
    commit;
    update edge_outbox set created_at = created_at - interval '1 minute' where container_id = '${id}';`,
  );
  const started = performance.now();
  await live.control.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
  await until(
    () => statusOf(id),
    (s) => s.inSync === true && s.appliedVersion === 1,
  );
  lostWebhook.push(performance.now() - started);
}

const kv = {};
for (const map of ["EDGE_CONFIG", "LOADER_TOKEN_MAP", "ROUTING_MAP"]) kv[map] = await live.mf.getKVNamespace(map, "qaxal-control");
const tokens = Object.fromEntries(
  (await standIn.sqlQuery("sql", `select container_id, token from loader_tokens`)).map((row) => [row.container_id, row.token]),
);
// Loader paths: answered at the edge, so no upstream is involved. Each sample uses a container of its own: the edge
// reports a key at most once per 30 s per isolate, and a container queues at most one repair per 30 s.
const cases = {
  EDGE_CONFIG: (id) => ({ key: id, host: `${id}.edge.localhost`, path: `/l/${tokens[id]}.js` }),
  LOADER_TOKEN_MAP: (id) => ({ key: tokens[id], host: `ss.${id}.example`, path: `/l/${tokens[id]}.js` }),
  // The host itself: this request is a 404 (nothing says whose it is at the edge); the control plane knows.
  ROUTING_MAP: (id) => ({ key: `${id}.edge.localhost`, host: `${id}.edge.localhost`, path: `/l/${tokens[id]}.js` }),
};
const deletedKey = {};
for (const [n, [map, sample]] of Object.entries(cases).entries()) {
  const times = [];
  const servedAgain = [];
  const statuses = new Set();
  for (let i = 0; i < SAMPLES; i += 1) {
    const { key, host, path } = sample(`bench-lost-${n * SAMPLES + i}`);
    const before = await kv[map].get(key);
    await kv[map].delete(key);
    await sleep(2100); // past the edge's isolate and location caches (2000 ms here)
    const started = performance.now();
    // Real HTTP to the edge Worker: miniflare's dispatchFetch would replace the Host header.
    statuses.add((await hostRequest(new URL(path, live.url).href, host)).status);
    await until(
      () => kv[map].get(key),
      (value) => value === before,
    );
    times.push(performance.now() - started);
    // Live traffic is whole again once the edge's in-isolate caches let go of the miss.
    await until(
      async () => (await hostRequest(new URL(path, live.url).href, host)).status,
      (code) => code === 200,
    );
    servedAgain.push(performance.now() - started);
  }
  deletedKey[map] = {
    firstRequestStatuses: [...statuses],
    repairedMsMedian: Math.round(median(times)),
    servedAgainMsMedian: Math.round(median(servedAgain)),
    samples: times.map(Math.round),
  };
}
await live.mf.dispose();
await standIn.close();

console.log(
  JSON.stringify(
    {
      idle: { outboxSweep: sweep, alertCheck, alertCheckFirstOfHour: alertCheckHourly },
      lostWebhook: { fromSweepToAppliedMsMedian: Math.round(median(lostWebhook)), samples: lostWebhook.map(Math.round) },
      deletedKeyOnLiveTraffic: deletedKey,
    },
    null,
    2,
  ),
);
