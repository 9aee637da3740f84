// The platform the cost model is measured on: the edge and control Workers exactly as deployed, each wrapped with
// counters on its bindings (bench/cost-edge-worker.ts, bench/cost-control-worker.ts), on one miniflare with the
// bindings and queue consumers their wrangler configs declare, the stand-in sGTM origin as upstream, and the demo
// containers loaded through the operator API (so the config queue, its consumer and the Durable Object run too).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { loadDemoContainers, ROOT } from "../../scripts/platform.mjs";
import { startSgtmOrigin } from "../../scripts/sgtm-origin.mjs";
import { DEMO_SITE } from "./cost-traffic.mjs";
import { bundleWorker, workerOptions } from "./miniflare-worker.mjs";

/** The demo containers' admin token (loadDemoContainers sends it). */
const ADMIN_TOKEN = "dev-admin-token";

/** The fields of /proc/<pid>/stat after the process name (which may contain spaces). */
const statFields = (pid) => (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");

/** workerd processes started by this process (miniflare runs one, as a direct child). */
function workerdPids() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const isWorkerd = readFileSync(`/proc/${entry}/stat`, "utf8").includes("(workerd)");
      if (isWorkerd && Number(statFields(entry)[1]) === process.pid) pids.add(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** User + system CPU seconds of `pids` (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

/**
 * `count` sites: the demo shop, and copies of it under their own container id, host and loader token, written to a
 * file for loadDemoContainers.
 */
function siteCopies(count) {
  const demo = JSON.parse(readFileSync(join(ROOT, "demo/containers.example.json"), "utf8")).find(
    (c) => c.containerId === DEMO_SITE.containerId,
  );
  const sites = [DEMO_SITE];
  const copies = [];
  for (let i = 1; i < count; i++) {
    const site = { containerId: `shop-${i}`, host: `ss.shop-${i}.localhost`, token: `lt_shop_${i}` };
    sites.push(site);
    copies.push({
      ...demo,
      ...site,
      host: undefined,
      token: undefined,
      infraHosts: [`shop-${i}.edge.localhost`],
      publicHosts: [site.host],
      loaderToken: site.token,
      allowedOrigins: [],
    });
  }
  const file = join(mkdtempSync(join(tmpdir(), "qaxal-cost-")), "sites.json");
  writeFileSync(file, JSON.stringify(copies));
  return { sites, file: copies.length > 0 ? file : null };
}

/**
 * Starts the platform. `vars` override the Workers' vars (the cost run keeps production's LOG_WINDOW_MS and
 * config cache lifetimes; the test shortens them); `sites` demo containers take traffic (bench/lib/cost-traffic.mjs).
 */
export async function startCostPlatform({ vars = {}, sites: siteCount = 1 } = {}) {
  const origin = await startSgtmOrigin(0);
  const bindings = { ADMIN_TOKEN, OPERATOR_HOSTS: "localhost,127.0.0.1", ...vars };
  const before = workerdPids();
  // workerOptions' result is miniflare's options as wrangler builds them; its JSDoc-inferred type is looser.
  /** @type {any[]} */
  const workers = [
    workerOptions({ worker: "edge", scriptPath: bundleWorker("edge", join(ROOT, "bench/cost-edge-worker.ts")), bindings }),
    workerOptions({ worker: "control", scriptPath: bundleWorker("control", join(ROOT, "bench/cost-control-worker.ts")), bindings }),
  ];
  const mf = new Miniflare({
    port: 0,
    workers,
    handleRuntimeStdio: (stdout, stderr) => {
      // The Workers' log lines are not the bench's output; errors still are.
      stdout.resume();
      stderr.pipe(process.stderr);
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pids = [...workerdPids()].filter((pid) => !before.has(pid));
  const edge = await mf.getWorker("qaxal-edge");
  const control = await mf.getWorker("qaxal-control");
  const { containers } = await loadDemoContainers(url, origin.url, Number(new URL(url).port));
  const { sites, file } = siteCopies(siteCount);
  if (file) containers.push(...(await loadDemoContainers(url, origin.url, Number(new URL(url).port), file)).containers);
  // Applied means in KV: asked of the control plane, so the edge's caches stay cold until traffic starts.
  for (const { containerId } of containers) {
    await waitFor(
      async () => {
        const res = await fetch(`${url}/_edge/admin/containers/${containerId}/status`, {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        return res.ok && (await res.json()).inSync;
      },
      { what: `${containerId} to be applied` },
    );
  }

  /** Both Workers' counts (GET) or reset them (DELETE). */
  async function counts(method = "GET") {
    const [e, c] = await Promise.all(
      [edge, control].map(async (worker) => (await worker.fetch("http://localhost/__cost/counts", { method })).json()),
    );
    return { edge: e, control: c };
  }

  return {
    mf,
    url,
    origin,
    containers,
    sites,
    edge,
    control,
    counts,
    resetCounts: () => counts("DELETE"),
    cpuSeconds: () => cpuSeconds(pids),
    async stop() {
      await mf.dispose();
      await origin.close();
    },
  };
}

/** Waits until `ready()` resolves truthy, polling every `intervalMs`; throws after `timeoutMs`. */
async function waitFor(ready, { timeoutMs = 120_000, intervalMs = 250, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ready();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until a run's counts are complete: the log windows still open have sent (`windowMs` after the last hit), the
 * log consumer has acknowledged every message the edge sent, and nothing changed for one more poll. With
 * `closeAnalytics` the aggregator's windows are then closed and written (bench/cost-control-worker.ts), and the
 * counts settle again.
 */
export async function drained(platform, windowMs, { closeAnalytics = false, logQueue = "qaxal-logs" } = {}) {
  await new Promise((resolve) => setTimeout(resolve, windowMs + 500));
  const counts = await settled(platform, logQueue);
  if (!closeAnalytics) return counts;
  const closed = await platform.control.fetch("http://localhost/__cost/analytics-close", { method: "POST" });
  if (closed.status !== 204) throw new Error(`closing the analytics windows: ${closed.status}`);
  return settled(platform, logQueue);
}

function settled(platform, logQueue) {
  let previous = "";
  return waitFor(
    async () => {
      const counts = await platform.counts();
      const sent = counts.edge.queueSent.LOG_QUEUE?.messages ?? 0;
      const deleted = counts.control.queueDeleted[logQueue]?.messages ?? 0;
      const snapshot = JSON.stringify(counts);
      const done = sent === deleted && snapshot === previous;
      previous = snapshot;
      return done ? counts : null;
    },
    { what: "the log queue to drain", intervalMs: 1000 },
  );
}
