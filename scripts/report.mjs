// `npm run report [-- --since 24h --container demo-shop --url http://127.0.0.1:8787]`: the report endpoint's
// aggregates (GET /_edge/admin/report, read from the R2 batches) printed as tables, for a local run.
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

async function main() {
  const { values } = parseArgs({
    options: {
      since: { type: "string", default: "24h" },
      container: { type: "string" },
      url: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const token = process.env.ADMIN_TOKEN ?? devToken();
  if (!token) throw new Error("no admin token: set ADMIN_TOKEN or create .dev.vars (npm start does)");
  const query = new URLSearchParams({ since: values.since });
  if (values.container) query.set("container", values.container);
  const { url, from } = localEdgeUrl(values.url);
  const res = await fetchOrExplain(`${url}/_edge/admin/report?${query}`, { headers: { Authorization: `Bearer ${token}` } }, from);
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${body.error}: ${body.message}`);
  console.log(values.json ? JSON.stringify(body, null, 2) : formatReport(body));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`report: ${error.message}`);
    process.exit(1);
  });
}
