// Builds the Workers with wrangler's bundler and runs them on workerd through the miniflare API (no wrangler dev
// proxy in between), with the bindings their wrangler configs declare (read by wrangler itself, not restated here).
// The edge Worker always runs with the real control Worker beside it, as deployed: its ContainerState binding
// (`script_name`) and its service binding point there. Shared by the benchmarks.
import { execFileSync } from "node:child_process";
import { basename, dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ROOT } from "../../scripts/platform.mjs";

const CONFIGS = { edge: "wrangler.jsonc", control: "wrangler.control.jsonc" };
const NAMES = { edge: "qaxal-edge", control: "qaxal-control" };

/** Vars and secrets for benchmark runs (the real ones are Worker secrets). */
const BENCH_BINDINGS = {
  ADMIN_TOKEN: "bench-admin",
  WEBHOOK_SECRET: "bench-webhook",
  EDGE_AUTH_SECRET: "bench-edge-auth",
  ALLOW_INSECURE_UPSTREAM: "true",
  CONFIG_CACHE_TTL_MS: "30000",
  UPSTREAM_TIMEOUT_MS: "10000",
  DRIFT_AFTER_MS: "3600000",
  SUPABASE_URL: "",
  SUPABASE_SERVICE_ROLE_KEY: "",
};

/** A Worker's bundle as `wrangler deploy --dry-run` builds it; `entry` swaps the main module (a bench Worker). */
export function bundleWorker(worker = "edge", entry) {
  const name = entry ? basename(entry, ".ts") : worker;
  const outdir = join(ROOT, `dist/bench-${name}`);
  const args = [
    join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "deploy",
    "--dry-run",
    "--env=",
    "-c",
    CONFIGS[worker],
    "--outdir",
    outdir,
  ];
  execFileSync(process.execPath, entry ? [...args, entry] : args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  // wrangler names the bundle after the main module: workers/edge.ts -> edge.js, bench/x.ts -> x.js.
  return join(outdir, `${name}.js`);
}

/**
 * A Worker's miniflare options: the bindings of its wrangler config, the bench vars, and `overrides` replacing
 * whole options (the router bench swaps LOG_QUEUE for a sink service).
 * @param {{ worker?: keyof typeof CONFIGS, scriptPath: string, bindings?: Record<string, unknown>, overrides?: object }} options
 * @returns {import("miniflare").WorkerOptions}
 */
export function workerOptions({ worker = "edge", scriptPath, bindings = {}, overrides = {} }) {
  const { workerOptions: fromConfig } = unstable_getMiniflareWorkerOptions(join(ROOT, CONFIGS[worker]), "");
  return {
    ...fromConfig,
    name: NAMES[worker],
    modules: [{ type: "ESModule", path: scriptPath }],
    modulesRoot: dirname(scriptPath),
    // Miniflare sends every outbound fetch through a JavaScript shim Worker that copies the request's headers to
    // strip CF-Connecting-IP; a deployed Worker has no such step. The shim is a fixed cost on every subrequest of
    // the measured process and would hide part of the router's cost next to a bare Worker, so it is off.
    stripCfConnectingIp: false,
    bindings: { ...fromConfig.bindings, ...BENCH_BINDINGS, ...bindings },
    ...overrides,
  };
}

let controlBundle;
/** The control Worker's options (bundled once per process). */
export function controlOptions(bindings = {}) {
  controlBundle ??= bundleWorker("control");
  return workerOptions({ worker: "control", scriptPath: controlBundle, bindings });
}

/**
 * Both Workers on one miniflare: `edge` (the Worker on `port`; a bench Worker may stand in its place, with the
 * edge's bindings) and the control Worker. `onStdout` sees both Workers' console lines.
 * @param {{ scriptPath?: string, bindings?: Record<string, unknown>, onStdout?: (line: string) => void, port?: number, edgeOverrides?: object }} [options]
 */
export function startWorkers({ scriptPath, bindings = {}, onStdout, port, edgeOverrides = {} } = {}) {
  return new Miniflare({
    port,
    workers: [
      workerOptions({ worker: "edge", scriptPath: scriptPath ?? bundleWorker("edge"), bindings, overrides: edgeOverrides }),
      controlOptions(bindings),
    ],
    handleRuntimeStdio: (stdout, stderr) => {
      let buffered = "";
      stdout.on("data", (chunk) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) onStdout?.(line);
      });
      stderr.pipe(process.stderr);
    },
  });
}
