// Where the command-line tools (`npm run report`, `npm run replay`) find the platform: --url / EDGE_URL, else
// PORT, else the port a running `npm start` recorded in .data/platform.json, else the default 8787. A request that
// cannot connect names the URL it tried and how to point the tool elsewhere.
// The same record makes `.data/` one run's: a second `npm start` on it finds the first and refuses.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The state directory of a local run: `.data/`, or EDGE_DATA_DIR (relative to the repository) for a second, separate one. */
export const DATA_DIR = resolve(ROOT, process.env.EDGE_DATA_DIR || ".data");
const RUNNING_FILE = join(DATA_DIR, "platform.json");
const RUNNING_LABEL = relative(ROOT, RUNNING_FILE).startsWith("..") ? RUNNING_FILE : relative(ROOT, RUNNING_FILE);

/** The recorded run if its process is still alive; a record left behind by a run that died is ignored. */
function liveRecord() {
  if (!existsSync(RUNNING_FILE)) return undefined;
  try {
    const record = JSON.parse(readFileSync(RUNNING_FILE, "utf8"));
    process.kill(record.pid, 0); // throws when that process is gone
    return record;
  } catch {
    return undefined;
  }
}

/**
 * `npm start` claims the state directory before it starts anything: when another live run holds it, this throws a
 * one-line explanation (and touches nothing of that run). Returns `ready(url)`, called once the platform answers, and
 * `release()`, which removes the record only while it is still this process's.
 * @param {{ port: number, originPort: number, scheme: string }} run
 */
export function claimDataDir({ port, originPort, scheme }) {
  const record = (url, state) => JSON.stringify({ url, port, pid: process.pid, state, startedAt: new Date().toISOString() }, null, 2);
  mkdirSync(DATA_DIR, { recursive: true });
  const handles = {
    ready: (url) => writeFileSync(RUNNING_FILE, record(url, "running")),
    release: () => {
      if (liveRecord()?.pid === process.pid) rmSync(RUNNING_FILE, { force: true });
    },
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Exclusive create: of two runs started at the same moment, one gets the file.
      writeFileSync(RUNNING_FILE, record(`${scheme}://127.0.0.1:${port}`, "starting"), { flag: "wx" });
      return handles;
    } catch (error) {
      if (/** @type {{ code?: string }} */ (error).code !== "EEXIST") throw error;
      const other = liveRecord();
      if (other) {
        throw new Error(
          `another npm start (pid ${other.pid}) is already running on ${other.url} with this state directory (${RUNNING_LABEL}): use that one, stop it (Ctrl-C in its terminal), or give this one its own state and ports: EDGE_DATA_DIR=.data-2 PORT=${port + 10} SGTM_PORT=${originPort + 10} npm start`,
        );
      }
      rmSync(RUNNING_FILE, { force: true }); // left behind by a run that is gone
    }
  }
  throw new Error(`could not claim ${RUNNING_LABEL}: another run keeps writing it`);
}

/** The base URL to use, and where it came from (for the error message); `flag` is the tool's option for it. */
export function localEdgeUrl(explicit, flag = "--url", env = process.env) {
  if (explicit) return { url: explicit.replace(/\/$/, ""), from: flag };
  if (env.EDGE_URL) return { url: env.EDGE_URL.replace(/\/$/, ""), from: "EDGE_URL" };
  if (env.PORT) return { url: `http://127.0.0.1:${env.PORT}`, from: "PORT" };
  const running = liveRecord()?.url;
  if (running) return { url: running, from: `${RUNNING_LABEL} (the running npm start)` };
  return { url: "http://127.0.0.1:8787", from: "the default port" };
}

/**
 * fetch, with a failure to connect turned into a message that names the URL and what to do. `urlFlag` is the
 * calling tool's own option for the base URL (report: --url, replay: --edge-url).
 */
export async function fetchOrExplain(url, init, source, urlFlag = "--url") {
  try {
    return await fetch(url, init);
  } catch (caught) {
    const error = /** @type {Error & { cause?: { code?: string, message?: string } }} */ (caught);
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new Error(
      `could not reach ${url} (${cause}); the URL came from ${source}. Start the platform with \`npm start\`, or point the tool at a running one with ${urlFlag} <base URL> or PORT=<port>.`,
    );
  }
}
