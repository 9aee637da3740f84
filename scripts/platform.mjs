// Starts the whole platform locally: the stand-in sGTM origin, both Workers in one `wrangler dev` session (the edge
// Worker of wrangler.jsonc on the port, the control Worker of wrangler.control.jsonc behind its service binding;
// local KV, R2, Queues and Durable Objects shared between them and persisted under `persistTo`), then loads demo
// containers through the operator API.
// Used by `npm start` and by the Node-side tests (which pass their own ports and a throwaway persist dir).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCloudflareApiStandIn } from "../test/support/cloudflare-api-stand-in.mjs";
import { parseJsonc } from "./jsonc.mjs";
import { controlCrons, startLocalCrons } from "./local-crons.mjs";
import { DATA_DIR } from "./local-url.mjs";
import { startSgtmOrigin } from "./sgtm-origin.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEV_ADMIN_TOKEN = "dev-admin-token";

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** A problem the person starting the local run can fix, told in one line (no stack). */
export class LocalRunError extends Error {}

/** The one-line answer to a port another program holds, naming the variable that moves it. */
function portInUse(port, variable) {
  return new LocalRunError(
    `port ${port} is already in use (another program or another local run); start on another one: ${variable}=${port + 10} npm start`,
  );
}

/** Fails with `portInUse` when something listens on 127.0.0.1:`port` (wrangler would die with a raw EADDRINUSE). */
export function assertPortFree(port, variable) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error) =>
      reject(/** @type {{ code?: string }} */ (error).code === "EADDRINUSE" ? portInUse(port, variable) : error),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(undefined)));
  });
}

/** The stand-in origin on `port`, with a busy port told as such. */
async function startOrigin(port) {
  try {
    return await startSgtmOrigin(port);
  } catch (error) {
    if (/** @type {{ code?: string }} */ (error).code === "EADDRINUSE") throw portInUse(port, "SGTM_PORT");
    throw error;
  }
}

/** A variable of .dev.vars (the development secrets both Workers get), or undefined. */
function devVar(name) {
  return new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(join(ROOT, ".dev.vars"), "utf8"))?.[1]?.trim() || undefined;
}

export function ensureDevVars() {
  const vars = join(ROOT, ".dev.vars");
  if (!existsSync(vars)) copyFileSync(join(ROOT, ".dev.vars.example"), vars);
}

async function waitForHealth(url, child, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/_edge/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become healthy at ${url} within ${timeoutMs} ms`);
}

/** A demo container as this run needs it: upstream at the running stand-in, local page origins on this run's scheme and port. */
function demoConfig(container, originUrl, port, scheme) {
  const allowedOrigins = (container.allowedOrigins ?? []).map((origin) =>
    origin.replace(/^https?:\/\/([a-z0-9.-]*localhost)(:\d+)?$/, `${scheme}://$1:${port}`),
  );
  return { ...container, upstream: originUrl, allowedOrigins };
}

async function putDemo(workerUrl, body) {
  const res = await fetch(`${workerUrl}/_edge/admin/containers/${body.containerId}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, answer: await res.json() };
}

/**
 * PUTs each container of `file` (upstream at the stand-in, origins on `port`). State persists between runs, so a
 * container may already exist: the same content again is a no-op (202, nothing queued); content that differs (an
 * earlier run on other ports) is a 409 for that version, so it is re-PUT as the next version, unchanged otherwise.
 */
export async function loadDemoContainers(
  workerUrl,
  originUrl,
  port = Number(new URL(workerUrl).port),
  file = join(ROOT, "demo/containers.example.json"),
) {
  const scheme = new URL(workerUrl).protocol.slice(0, -1);
  const containers = JSON.parse(readFileSync(file, "utf8"));
  const lines = [];
  for (const container of containers) {
    let body = demoConfig(container, originUrl, port, scheme);
    let { status, answer } = await putDemo(workerUrl, body);
    if (status === 409) {
      const res = await fetch(`${workerUrl}/_edge/admin/containers/${container.containerId}/status`, {
        headers: { Authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
      });
      const { desiredVersion } = await res.json();
      // The last accepted version may already hold exactly this content (an earlier run on these ports).
      body = { ...body, version: desiredVersion };
      ({ status, answer } = await putDemo(workerUrl, body));
      if (status === 409) {
        body = { ...body, version: desiredVersion + 1 };
        ({ status, answer } = await putDemo(workerUrl, body));
      }
    }
    if (status !== 202) throw new Error(`loading ${container.containerId}: ${status} ${JSON.stringify(answer)}`);
    lines.push(`${container.containerId} v${body.version}: ${answer.enqueued ? "queued" : "already applied"}`);
  }
  return { containers, lines };
}

/**
 * Cloudflare's custom hostname API for the local run: the tests' stand-in, with hostnames that validate 20 s after
 * their TXT tokens appear (as if the customer published the records), so an operator sees pending → active.
 */
async function startLocalCloudflare() {
  const token = "local-cloudflare-api-token";
  const zoneId = "10ca1000000000000000000000000000";
  const standIn = await startCloudflareApiStandIn({ token, zoneId, defaults: { activateAfterMs: 20_000 }, allowLocalhost: true });
  const vars = {
    CF_API_TOKEN: token,
    CF_ZONE_ID: zoneId,
    CF_API_BASE: `${standIn.url}/t/local/client/v4`,
    SAAS_CNAME_TARGET: "saas.edge.localhost",
  };
  return { url: standIn.url, vars, close: standIn.close };
}

/**
 * The control Worker's config for this run. `wrangler dev --var` reaches only the first Worker of a multi-config
 * session, so extra vars for the control Worker go into a copy of its config beside a `.dev.vars` of its own.
 * @param {string} dir
 * @param {Record<string, string>} vars
 */
function controlConfig(dir, vars) {
  if (Object.keys(vars).length === 0) return "wrangler.control.jsonc";
  const { $schema: _schema, env: _environments, ...config } = parseJsonc(readFileSync(join(ROOT, "wrangler.control.jsonc"), "utf8"));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "wrangler.control.json");
  writeFileSync(path, JSON.stringify({ ...config, main: join(ROOT, config.main) }));
  const extra = Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
  writeFileSync(join(dir, ".dev.vars"), `${readFileSync(join(ROOT, ".dev.vars"), "utf8")}\n${extra}\n`);
  return path;
}

/**
 * @param {{ port?: number, originPort?: number, persistTo?: string, quiet?: boolean, vars?: Record<string,string>, loadDemo?: boolean, https?: boolean, crons?: boolean, cronSpeedup?: number, cloudflareStandIn?: boolean }} options
 *   vars: extra vars for both Workers
 *   cloudflareStandIn: custom hostnames against a local stand-in for Cloudflare's API (docs/custom-domains.md)
 *   crons: fire the control Worker's Cron Triggers on their schedules (scripts/local-crons.mjs), `cronSpeedup` times
 *     as often; `npm start` does, tests that count requests do not
 *   https: serve over https with wrangler's own self-signed certificate (browsers such as WebKit refuse `Secure`
 *     cookies on http://*.localhost); this process then accepts that certificate for its own calls to loopback
 */
export async function startPlatform(options = {}) {
  ensureDevVars();
  const port = options.port ?? (await freePort());
  await assertPortFree(port, "PORT");
  const origin = await startOrigin(options.originPort ?? 0);
  const persistTo = options.persistTo ?? join(DATA_DIR, "wrangler");
  const varArgs = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const cloudflare = options.cloudflareStandIn ? await startLocalCloudflare() : null;
  const control = controlConfig(join(persistTo, "..", "control-config"), { ...options.vars, ...cloudflare?.vars });
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "-c",
      "wrangler.jsonc",
      "-c",
      control,
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      persistTo,
      "--inspector-port",
      "0",
      "--show-interactive-dev-session=false",
      ...(options.https ? ["--local-protocol", "https"] : []),
      ...varArgs,
    ],
    {
      cwd: ROOT,
      stdio: options.quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const output = [];
  if (options.quiet) for (const stream of [child.stdout, child.stderr]) stream?.on("data", (d) => output.push(String(d)));
  if (options.https) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  const workerUrl = `${options.https ? "https" : "http"}://127.0.0.1:${port}`;
  const edgeAuth = options.vars?.EDGE_AUTH_SECRET ?? devVar("EDGE_AUTH_SECRET") ?? "";
  let stopCrons = () => {};
  const stop = async () => {
    stopCrons();
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => {
        child.once("exit", r);
        setTimeout(r, 5000);
      });
    }
    await origin.close();
    await cloudflare?.close();
  };
  try {
    await waitForHealth(workerUrl, child);
    const demo = options.loadDemo === false ? { containers: [], lines: [] } : await loadDemoContainers(workerUrl, origin.url, port);
    const crons = controlCrons(ROOT);
    if (options.crons) {
      const log = options.quiet ? (line) => output.push(`${line}\n`) : (line) => console.error(line);
      stopCrons = startLocalCrons({ workerUrl, edgeAuth, crons, speedup: options.cronSpeedup, log });
    }
    return { workerUrl, port, originUrl: origin.url, demo, stop, output, edgeAuth, crons, cloudflareUrl: cloudflare?.url ?? null };
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output.join("")}`);
  }
}
