// CPU per call of each piece of the router's warm path, measured inside workerd (bench/router-components-worker.ts)
// from the workerd process's CPU time over 20,000 calls. Used by bench/router.mjs; runnable on its own.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { ROOT } from "../scripts/platform.mjs";
import { startWorker } from "./lib/miniflare-worker.mjs";

const CALLS = 20_000;
export const PIECES = [
  "resolve (warm cache)",
  "upstream headers",
  "p decode",
  "Cookie Keeper rewrite (3 Set-Cookie)",
  "response rebuild + cookies + CORS",
  "access record",
];

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
export async function measureComponents({ host, headers, config, p }) {
  const mf = startWorker({ scriptPath: bundle(), port: 0 });
  const url = await mf.ready;
  const pid = execFileSync("pgrep", ["-n", "-P", String(process.pid), "workerd"]).toString().trim();
  await (await mf.getKVNamespace("EDGE_CONFIG")).put(config.containerId, JSON.stringify(config));
  await (await mf.getKVNamespace("ROUTING_MAP")).put(host, config.containerId);
  // node:http, not fetch: fetch does not let the caller set Host.
  const call = (piece, n) =>
    new Promise((resolve, reject) => {
      const target = new URL(`/?piece=${encodeURIComponent(piece)}&n=${n}&p=${p}`, url);
      const req = request(target, { headers: { ...headers, Host: host } }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${piece}: ${res.statusCode} ${body}`))));
      });
      req.on("error", reject);
      req.end();
    });
  const perCall = async (piece) => {
    await call(piece, 2000); // lets V8 optimize the piece first
    const before = cpuSeconds(pid);
    await call(piece, CALLS);
    return ((cpuSeconds(pid) - before) * 1e6) / CALLS;
  };
  const loop = await perCall("loop");
  const result = {};
  for (const piece of PIECES) result[piece] = Math.round(((await perCall(piece)) - loop) * 10) / 10;
  await mf.dispose();
  return result;
}
