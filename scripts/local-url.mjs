// Where the command-line tools (`npm run report`, `npm run replay`) find the platform: --url / EDGE_URL, else
// PORT, else the port a running `npm start` recorded in .data/platform.json, else the default 8787. A request that
// cannot connect names the URL it tried and how to point the tool elsewhere.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RUNNING_FILE = join(ROOT, ".data/platform.json");

/** `npm start` records where it runs, so a tool started from another terminal without PORT still finds it. */
export function recordRunning(url, port) {
  mkdirSync(dirname(RUNNING_FILE), { recursive: true });
  writeFileSync(RUNNING_FILE, JSON.stringify({ url, port, pid: process.pid, startedAt: new Date().toISOString() }, null, 2));
  return () => rmSync(RUNNING_FILE, { force: true });
}

function runningUrl() {
  if (!existsSync(RUNNING_FILE)) return undefined;
  try {
    const { url, pid } = JSON.parse(readFileSync(RUNNING_FILE, "utf8"));
    process.kill(pid, 0); // throws when that npm start is gone
    return url;
  } catch {
    return undefined;
  }
}

/** The base URL to use, and where it came from (for the error message). */
export function localEdgeUrl(explicit, env = process.env) {
  if (explicit) return { url: explicit.replace(/\/$/, ""), from: "--url" };
  if (env.EDGE_URL) return { url: env.EDGE_URL.replace(/\/$/, ""), from: "EDGE_URL" };
  if (env.PORT) return { url: `http://127.0.0.1:${env.PORT}`, from: "PORT" };
  const running = runningUrl();
  if (running) return { url: running, from: ".data/platform.json (the running npm start)" };
  return { url: "http://127.0.0.1:8787", from: "the default port" };
}

/** fetch, with a failure to connect turned into a message that names the URL and what to do. */
export async function fetchOrExplain(url, init, source) {
  try {
    return await fetch(url, init);
  } catch (caught) {
    const error = /** @type {Error & { cause?: { code?: string, message?: string } }} */ (caught);
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new Error(
      `could not reach ${url} (${cause}); the URL came from ${source}. Is \`npm start\` running there? Point the tool at it with --url <base URL> or PORT=<port>.`,
    );
  }
}
