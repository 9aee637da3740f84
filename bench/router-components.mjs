// CPU per call of each piece of the router's warm path, measured inside workerd (bench/router-components-worker.ts)
// from the workerd process's CPU time over 20,000 calls; given an upstream, also the plumbing around the upstream
// fetch (real fetches, each compared with a fetch that passes the client's own headers). Used by bench/router.mjs.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { ROOT } from "../scripts/platform.mjs";
import { startWorker } from "./lib/miniflare-worker.mjs";
import { startWorkerWithLogSink } from "./router-log-sink.mjs";

const CALLS = 20_000;
export const PIECES = [
  "resolve (warm cache)",
  "upstream headers",
  "p decode",
  "Cookie Keeper rewrite (3 Set-Cookie)",
  "response rebuild + cookies + CORS",
  "access record",
];
/** Real fetches to the loopback upstream (fewer calls: each waits for I/O), reported against the reference. */
export const PLUMBING = [
  "fetch, client headers (reference)",
  "fetch, built upstream headers",
  "fetch, built headers + timeout (the router's fetch)",
];
const FETCH_CALLS = 2_000;
const PLUMBING_ROUNDS = 5;

function bundle() {
  const outdir = join(ROOT, "dist/bench-router-components");
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir, "bench/router-components-worker.ts"],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  return join(outdir, "router-components-worker.js");
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / Number(execFileSync("getconf", ["CLK_TCK"]).toString());
}

/** { piece: microseconds per call } for a request shaped like `headers` to `host`. */
export async function measureComponents({ host, headers, config, p, upstream, logSink = false }) {
  const mf = (logSink ? startWorkerWithLogSink : startWorker)({ scriptPath: bundle(), port: 0 });
  const url = await mf.ready;
  const pid = execFileSync("pgrep", ["-n", "-P", String(process.pid), "workerd"]).toString().trim();
  await (await mf.getKVNamespace("EDGE_CONFIG")).put(config.containerId, JSON.stringify(config));
  await (await mf.getKVNamespace("ROUTING_MAP")).put(host, config.containerId);
  // node:http, not fetch: fetch does not let the caller set Host.
  const call = (piece, n) =>
    new Promise((resolve, reject) => {
      const target = new URL(`/?piece=${encodeURIComponent(piece)}&n=${n}&p=${p}&upstream=${encodeURIComponent(upstream ?? "")}`, url);
      const req = request(target, { headers: { ...headers, Host: host } }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${piece}: ${res.statusCode} ${body}`))));
      });
      req.on("error", reject);
      req.end();
    });
  const perCall = async (piece, calls = CALLS) => {
    await call(piece, 2000); // lets V8 optimize the piece first
    const before = cpuSeconds(pid);
    await call(piece, calls);
    return ((cpuSeconds(pid) - before) * 1e6) / calls;
  };
  const loop = await perCall("loop");
  const result = {};
  for (const piece of PIECES) result[piece] = Math.round(((await perCall(piece)) - loop) * 10) / 10;
  result["access record + batched send"] = Math.round(((await perCall("access record + batched send", FETCH_CALLS)) - loop) * 10) / 10;
  if (upstream) {
    // A fetch costs a few hundred µs and the machine's noise is tens of µs, so the plumbing pieces run in
    // interleaved rounds, each compared with the reference of its own round (median reported).
    const extra = Object.fromEntries(PLUMBING.slice(1).map((piece) => [piece, []]));
    for (let round = 0; round < PLUMBING_ROUNDS; round++) {
      const reference = await perCall(PLUMBING[0], FETCH_CALLS);
      for (const piece of PLUMBING.slice(1)) extra[piece].push((await perCall(piece, FETCH_CALLS)) - reference);
    }
    for (const [piece, values] of Object.entries(extra)) {
      const sorted = values.sort((a, b) => a - b);
      result[`${piece}, over the reference`] = Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
    }
  }
  await mf.dispose();
  return result;
}
