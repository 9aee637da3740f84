// `npm run report [-- --since 24h --container demo-shop --url http://127.0.0.1:8787]`: the report endpoint's
// aggregates (GET /_edge/admin/report, read from the R2 batches) printed as tables, for a local run. `--help` lists
// the options.
// The token comes from ADMIN_TOKEN in the environment, else from .dev.vars (what `npm start` uses).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fetchOrExplain, localEdgeUrl } from "./local-url.mjs";

const ROOT = join(fileURLToPath(import.meta.url), "../..");

function devToken() {
  const file = join(ROOT, ".dev.vars");
  if (!existsSync(file)) return undefined;
  return /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(file, "utf8"))?.[1]?.trim();
}

/** Left-aligned text columns, right-aligned numbers, a rule under the header. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number" || /^[\d.,]+ ?(%|ms)?$|^–$/.test(String(row[i]))),
  );
  const line = (row) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const pct = (x) => (x === null ? "–" : `${(x * 100).toFixed(1)} %`);
const ms = (x) => (x === null ? "–" : `${Math.round(x)} ms`);

/** "+12.5 %" against the previous period, or "" when there is nothing to compare with. */
function change(now, before) {
  if (before === null || before === undefined || now === null || before === 0) return "";
  const delta = ((now - before) / before) * 100;
  return `${delta >= 0 ? "+" : ""}${delta.toFixed(1)} %`;
}

function bucketLabel(seconds) {
  return seconds < 60 ? `${seconds}-second` : seconds < 3600 ? `${seconds / 60}-minute` : `${seconds / 3600}-hour`;
}

export function formatReport(report) {
  const d = report.detection;
  const p = report.previous;
  const busiest = Math.max(1, ...report.requests.series.map((b) => b.count));
  const active = report.requests.series.filter((b) => b.count > 0);
  const total = report.requests.total;
  const source =
    report.source === "r2"
      ? `${report.objectsRead} R2 batch object${report.objectsRead === 1 ? "" : "s"}${report.truncated ? " (truncated)" : ""}`
      : "Analytics Engine";
  return [
    `${report.containerId ?? "all containers"} · ${report.from} → ${report.to} · ${source}`,
    "",
    table(
      ["measure", "value", "vs previous period"],
      [
        ["requests", total, change(total, p?.requests)],
        ["5xx answers", report.requests.errors, change(report.requests.errors, p?.errors)],
        ["p50 proxy latency", ms(report.latencyMs.p50), ""],
        ["p95 proxy latency", ms(report.latencyMs.p95), change(report.latencyMs.p95, p?.latencyP95)],
        ["cookie-keeper rewrites", report.cookieKeeper.rewrites, ""],
        ["requests with rewrites", report.cookieKeeper.requestsWithRewrites, ""],
        ["detected sessions", d.sessions, change(d.sessions, p?.sessions)],
        ["ad-block rate", pct(d.adblockRate), ""],
        ["ITP rate", pct(d.itpRate), ""],
        ["ETP rate", pct(d.etpRate), ""],
        ["sessions recovered", pct(d.recoveredRate), ""],
        // Shares of the traffic a verdict was made for (containers with botDetection on).
        ["bot share of checked requests", pct(report.bots.requestShare), change(report.bots.requestShare, p?.botShare)],
        ["bot share of checked sessions", pct(report.bots.sessionShare), ""],
      ],
    ),
    "",
    table(
      ["status", "requests", "share"],
      Object.entries(report.statusClasses)
        .sort()
        .map(([cls, n]) => [cls, n, pct(total ? n / total : null)]),
    ),
    "",
    `requests over time (${bucketLabel(report.requests.bucketSeconds)} buckets, empty ones left out)`,
    table(
      ["from (UTC)", "requests", "5xx", ""],
      active.map((b) => [b.t.slice(0, 16).replace("T", " "), b.count, b.errors, "#".repeat(Math.ceil((b.count / busiest) * 40))]),
    ),
    "",
    table(
      ["top path", "requests"],
      report.topPaths.map((x) => [x.path, x.count]),
    ),
    "",
    table(
      ["host", "requests"],
      report.hosts.map((x) => [x.host, x.count]),
    ),
    "",
    table(
      ["country", "requests"],
      report.countries.map((x) => [x.country, x.count]),
    ),
  ].join("\n");
}

const HELP = `npm run report [-- options]: the report endpoint's aggregates (GET /_edge/admin/report) as tables.

Options:
  --since <window>    how far back: 15m, 6h, 24h (default), 7d
  --container <id>    one container (an unknown one is an error); default: all containers
  --url <base URL>    the platform (default: EDGE_URL, else PORT, else the running npm start, else port 8787)
  --json              the endpoint's JSON as it is
  --help              this text

The token: ADMIN_TOKEN, else ADMIN_TOKEN in .dev.vars (what npm start uses). Documentation: docs/operate.md`;

class UsageError extends Error {}

function options(argv) {
  try {
    return parseArgs({
      args: argv,
      options: {
        since: { type: "string", default: "24h" },
        container: { type: "string" },
        url: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (npm run report -- --help lists the options)`);
  }
}

/** GET with the token; a refusal is an error carrying the endpoint's own `{error, message}`. */
async function getJson(path, token, { url, from }) {
  const res = await fetchOrExplain(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } }, from);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return {
      status: res.status,
      body: { error: "not_json", message: `${url} answered with something other than the API's JSON: ${text.slice(0, 120)}` },
    };
  }
}

/** Levenshtein distance: how many single-character edits turn `a` into `b` (ids are at most 64 characters). */
function editDistance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      // Every index read here was written in this row or the one before (?? 0 only satisfies the type checker).
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * "; its containers: a, b, c" (all of them when there are few, else the five nearest `wanted`, so a typo among
 * hundreds still shows the right one), or "" when this token may not list them. The fleet's `ids` is every
 * container the token may read, in one call.
 */
async function knownContainers(token, edge, wanted) {
  const { status, body } = await getJson("/_edge/admin/fleet?limit=1&since=15m", token, edge);
  if (status !== 200) return "";
  const ids = body.ids;
  if (ids.length === 0) return "; it has no containers yet";
  if (ids.length <= 20) return `; its containers: ${ids.join(", ")}`;
  const distance = new Map(ids.map((id) => [id, editDistance(id, wanted)]));
  const nearest = ids.sort((a, b) => distance.get(a) - distance.get(b) || a.localeCompare(b)).slice(0, 5);
  return `; the nearest of its ${ids.length} containers: ${nearest.join(", ")}`;
}

async function main(argv) {
  const values = options(argv);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const token = process.env.ADMIN_TOKEN ?? devToken();
  if (!token) throw new Error("no admin token: set ADMIN_TOKEN, or run `npm start` once (it creates .dev.vars with the development token)");
  const edge = localEdgeUrl(values.url);
  if (values.container) {
    // The report of a container the platform never heard of would be all zeros: ask for it first.
    const { status, body } = await getJson(`/_edge/admin/containers/${encodeURIComponent(values.container)}/status`, token, edge);
    if (status === 404)
      throw new Error(`no container "${values.container}" on ${edge.url}${await knownContainers(token, edge, values.container)}`);
    if (status !== 200) throw new Error(`${status} ${body.error}: ${body.message}`);
  }
  const query = new URLSearchParams({ since: values.since });
  if (values.container) query.set("container", values.container);
  const { status, body } = await getJson(`/_edge/admin/report?${query}`, token, edge);
  if (status !== 200) throw new Error(`${status} ${body.error}: ${body.message}`);
  console.log(values.json ? JSON.stringify(body, null, 2) : formatReport(body));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`report: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
