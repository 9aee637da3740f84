// `npm run report` (scripts/report.mjs): asks the report endpoint with the operator token and prints the
// aggregates as tables. The endpoint here is a small HTTP server answering a report that the Worker's own
// aggregation code built from known records, so the CLI reads exactly the shape the Worker serves.
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";
import { freePort, ROOT } from "../../scripts/platform.mjs";
import { aggregate } from "../../workers/reports/aggregate";

const run = promisify(execFile);
const TOKEN = "cli-test-token";
const from = Date.UTC(2026, 5, 1, 0);
const base = {
  kind: "access",
  containerId: "shop1",
  host: "ss.shop1.example",
  method: "GET",
  pathClass: "proxy",
  upstreamStatus: 200,
  country: null,
  bot: null,
  reason: null,
} as const;
const access: AccessRecord[] = [
  { ...base, ts: from + 60_000, requestId: "r1", path: "/g/collect", status: 200, durationMs: 10, cookieRewrites: 2, bot: true },
  { ...base, ts: from + 120_000, requestId: "r2", path: "/g/collect", status: 502, durationMs: 40, cookieRewrites: 0, bot: false },
  { ...base, ts: from + 7_200_000, requestId: "r3", path: "/gtm.js", status: 200, durationMs: 20, cookieRewrites: 0 },
];
const detections: DetectionRecord[] = [
  {
    kind: "detection",
    ts: from,
    containerId: "shop1",
    sessionId: "session-a1",
    host: "ss.shop1.example",
    adblock: true,
    itp: false,
    etp: false,
    mode: "unknown",
    country: null,
    webdriver: true,
    bot: true,
  },
];
const previous = {
  from: "",
  to: "",
  requests: 2,
  errors: 0,
  latencyP95: 40,
  sessions: 2,
  adblockRate: 0.5,
  itpRate: 0,
  recoveredRate: 0.5,
  botShare: null,
};
const report = {
  ...aggregate({ from, to: from + 6 * 3_600_000, containerId: "shop1" }, access, detections),
  source: "r2",
  previous,
  objectsRead: 2,
  truncated: false,
};

/** Every container the token may read (the fleet answer's `ids`); shop1 alone unless a test says otherwise. */
let fleetIds = ["shop1"];
let server: Server;
let url: string;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const ok = req.headers.authorization === `Bearer ${TOKEN}`;
    // The container reads the CLI makes first, answered as the operator API does (shop1 is the one container).
    const [status, body] = !ok
      ? [401, { error: "unauthorized", message: "missing or wrong bearer token" }]
      : req.url === "/_edge/admin/containers/shop1/status"
        ? [200, { containerId: "shop1", inSync: true }]
        : req.url?.startsWith("/_edge/admin/containers/")
          ? [404, { error: "not_found", message: "container has never been configured" }]
          : req.url === "/_edge/admin/fleet?limit=1&since=15m"
            ? [200, { ids: fleetIds, containers: [], next: null }]
            : [200, report];
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const cli = (args: string[], token = TOKEN) =>
  run(process.execPath, [join(ROOT, "scripts/report.mjs"), "--url", url, ...args], { env: { ...process.env, ADMIN_TOKEN: token } });

describe("npm run report", () => {
  it("asks for the window and container with the bearer token", async () => {
    await cli(["--since", "6h", "--container", "shop1"]);
    expect(seen.at(-1)!.url).toBe("/_edge/admin/report?since=6h&container=shop1");
    expect(seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("refuses a container the platform does not know, naming it and the ones it has, instead of printing zeros", async () => {
    const asked = seen.length;
    await expect(cli(["--container", "shpo1"])).rejects.toMatchObject({
      code: 1,
      stdout: "",
      stderr: `report: no container "shpo1" on ${url}; its containers: shop1\n`,
    });
    expect(seen.slice(asked).map((req) => req.url)).toEqual([
      "/_edge/admin/containers/shpo1/status",
      "/_edge/admin/fleet?limit=1&since=15m",
    ]);
  });

  it("among many containers names the five nearest the misspelt one, not the first ones alphabetically", async () => {
    fleetIds = [...Array.from({ length: 98 }, (_, i) => `fleet-${String(i + 1).padStart(3, "0")}`), "shop-042", "shop1"];
    try {
      await expect(cli(["--container", "shpo-042"])).rejects.toMatchObject({
        code: 1,
        stderr: `report: no container "shpo-042" on ${url}; the nearest of its 100 containers: shop-042, fleet-042, shop1, fleet-002, fleet-012\n`,
      });
    } finally {
      fleetIds = ["shop1"];
    }
  });

  it("--help lists the options and asks nothing", async () => {
    const asked = seen.length;
    const { stdout } = await cli(["--help"]);
    for (const option of ["--since", "--container", "--url", "--json", "--help"]) expect(stdout).toContain(option);
    expect(seen.length).toBe(asked);
  });

  it("an unknown option is a usage error (exit 2) that points at --help", async () => {
    await expect(cli(["--contianer", "shop1"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--contianer' (npm run report -- --help lists the options)"),
    });
  });

  it("prints the aggregates as tables", async () => {
    const { stdout } = await cli(["--container", "shop1"]);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("shop1 · 2026-06-01T00:00:00.000Z → 2026-06-01T06:00:00.000Z · 2 R2 batch objects");
    const row = (pattern: RegExp) =>
      expect(
        lines.some((line) => pattern.test(line)),
        String(pattern),
      ).toBe(true);
    row(/^requests +3 +\+50\.0 %$/);
    row(/^p95 proxy latency +40 ms +\+0\.0 %$/);
    row(/^cookie-keeper rewrites +2$/);
    row(/^sessions recovered +100\.0 %$/);
    row(/^bot share of checked requests +50\.0 %$/);
    row(/^bot share of checked sessions +100\.0 %$/);
    row(/^5xx +1 +33\.3 %$/);
    row(/^2026-06-01 00:00 +2 +1 +#{40}$/);
    row(/^ss\.shop1\.example +3$/);
    row(/^\/g\/collect +2$/);
  });

  it("names the URL it tried, and where it came from, when nothing answers there", async () => {
    const free = await freePort();
    const failed = run(process.execPath, [join(ROOT, "scripts/report.mjs")], {
      env: { ...process.env, ADMIN_TOKEN: TOKEN, PORT: String(free), EDGE_URL: "" },
    });
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        `report: could not reach http://127.0.0.1:${free}/_edge/admin/report?since=24h (ECONNREFUSED); the URL came from PORT.`,
      ),
    });
  });

  it("uses PORT when no --url is given", async () => {
    const port = (server.address() as { port: number }).port;
    await run(process.execPath, [join(ROOT, "scripts/report.mjs"), "--since", "1h"], {
      env: { ...process.env, ADMIN_TOKEN: TOKEN, PORT: String(port), EDGE_URL: "" },
    });
    expect(seen.at(-1)!.url).toBe("/_edge/admin/report?since=1h");
  });

  it("exits non-zero with the endpoint's message when the token is refused", async () => {
    await expect(cli([], "wrong")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("401 unauthorized: missing or wrong bearer token"),
    });
  });
});
