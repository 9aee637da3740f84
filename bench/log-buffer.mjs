// What the log buffer (workers/shared/log-buffer.ts) adds to a request: workerd CPU per request of a Worker that hands
// each request's access record to the buffer, against the same Worker handing it nothing, in one run. Both run with
// wrangler.jsonc's LOG_WINDOW_MS and LOG_HOLD_MS and LOG_QUEUE bound to an RPC sink (bench/router-log-sink.mjs), each
// in its own workerd process (pinned to core 0; this process, the load, to core 1), loaded in alternation by 8
// keep-alive loops. `node bench/log-buffer.mjs`; BENCH_REQUESTS (6,000) and BENCH_ROUNDS (6) per side; about a
// minute on 2 cores. Rounds spread by ±50 µs on a shared machine: read the medians.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { cpus } from "node:os";
import { join } from "node:path";
import { ROOT } from "../scripts/platform.mjs";
import { bundleWorker } from "./lib/miniflare-worker.mjs";
import { startWorkerWithLogSink } from "./router-log-sink.mjs";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONNECTIONS = 8;
const TICKS_PER_SECOND = 100;

/** The workerd processes this script spawned (miniflare starts them as direct children). */
function workerdPids() {
  return readdirSync("/proc").filter((entry) => {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      return stat.includes("(workerd)") && Number(stat.split(") ")[1]?.split(" ")[1]) === process.pid;
    } catch {
      return false; // not a process, or it ended while we looked
    }
  });
}

function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const fields = /** @type {string} */ (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

async function start(mode) {
  const before = new Set(workerdPids());
  const mf = startWorkerWithLogSink({ scriptPath, port: 0, bindings: { BENCH_LOG: mode } });
  const url = new URL(await mf.ready);
  const pids = workerdPids().filter((pid) => !before.has(pid));
  for (const pid of pids) execFileSync("taskset", ["-a", "-p", "-c", "0", pid], { stdio: "ignore" });
  return { mode, mf, url, pids };
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function get(url) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers: { Host: "bench.edge.example" } }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end();
  });
}

/** workerd CPU per request (µs) over `REQUESTS` requests, counting the buffer's waits that end within 1.5 s after. */
async function round({ url, pids }) {
  const before = cpuMs(pids);
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (sent < REQUESTS) {
        sent += 1;
        await get(url);
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return ((cpuMs(pids) - before) * 1000) / REQUESTS;
}

execFileSync("taskset", ["-p", "-c", cpus().length > 1 ? "1" : "0", String(process.pid)], { stdio: "ignore" });
const scriptPath = bundleWorker("edge", join(ROOT, "bench/log-buffer-worker.ts"));
const sides = [await start("none"), await start("buffer")];
for (const side of sides) for (let i = 0; i < 300; i += 1) await get(side.url); // warm-up
/** @type {{ none: number[], buffer: number[] }} */
const perRequest = { none: [], buffer: [] };
for (let r = 0; r < ROUNDS; r += 1) {
  for (const side of r % 2 === 0 ? sides : [...sides].reverse()) perRequest[side.mode].push(await round(side));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const none = median(perRequest.none);
const buffer = median(perRequest.buffer);
console.log(`workerd CPU per request, median of ${ROUNDS} rounds of ${REQUESTS}:`);
console.log(`  no record        ${none.toFixed(0)} µs  (rounds ${perRequest.none.map((v) => v.toFixed(0)).join(", ")})`);
console.log(`  log buffer       ${buffer.toFixed(0)} µs  (rounds ${perRequest.buffer.map((v) => v.toFixed(0)).join(", ")})`);
console.log(`  added by the log buffer: ${(buffer - none).toFixed(0)} µs per request`);
agent.destroy();
await Promise.all(sides.map((side) => side.mf.dispose()));
